"""`info` / `system info`: facts about this engine and host, as Docker lays them out."""

from dockyard.cli.command import FORMAT_HELP, CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Flag, Values

COMMAND = Command(
    "info [OPTIONS]",
    "Display system-wide information",
    flags=(Flag("format", "f", help=FORMAT_HELP),),
    args=("none",),
    aliases="dockyard system info, dockyard info",
)


def info_data(cli) -> dict:
    import os

    from dockyard import __version__
    from dockyard.cli.commands import sysfacts

    uname = os.uname()
    return {
        "ID": "",
        "Containers": sysfacts.count_dirs(cli.config.containers_dir),
        "Images": len(cli.images.list(all=True)),
        "Driver": "overlayfs",
        "DriverStatus": [],
        "KernelVersion": uname.release,
        "OperatingSystem": sysfacts.os_name(),
        "OSType": "linux",
        "Architecture": uname.machine,
        "NCPU": sysfacts.cpus(),
        "MemTotal": sysfacts.mem_total(),
        "DockerRootDir": cli.config.root,
        "Name": uname.nodename,
        "ServerVersion": __version__,
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": sysfacts.cgroup_version(),
        "Debug": cli.config.debug,
        "ExperimentalBuild": False,
        "ClientInfo": {"Version": __version__, "Context": "default", "Debug": cli.config.debug},
    }


def render_text(d: dict) -> str:
    from dockyard.cli.units import bytes_size

    def b(v: bool) -> str:
        return "true" if v else "false"

    lines = [
        "Client:",
        f" Version:    {d['ClientInfo']['Version']}",
        f" Context:    {d['ClientInfo']['Context']}",
        f" Debug Mode: {b(d['ClientInfo']['Debug'])}",
        "",
        "Server:",
        f" Containers: {d['Containers']}",
        f" Images: {d['Images']}",
        f" Server Version: {d['ServerVersion']}",
        f" Storage Driver: {d['Driver']}",
        f" Cgroup Driver: {d['CgroupDriver']}",
        f" Cgroup Version: {d['CgroupVersion']}",
        f" Kernel Version: {d['KernelVersion']}",
        f" Operating System: {d['OperatingSystem']}",
        f" OSType: {d['OSType']}",
        f" Architecture: {d['Architecture']}",
        f" CPUs: {d['NCPU']}",
        f" Total Memory: {bytes_size(d['MemTotal'])}",
        f" Name: {d['Name']}",
        f" Dockyard Root Dir: {d['DockerRootDir']}",
        f" Debug Mode: {b(d['Debug'])}",
        f" Experimental: {b(d['ExperimentalBuild'])}",
    ]
    return "\n".join(lines) + "\n\n"


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.template import Template, TemplateError

    fmt = opts.format
    tmpl = None
    if fmt:
        try:
            tmpl = Template("{{json .}}" if fmt == "json" else fmt)
        except TemplateError as e:
            raise CliError(f"template parsing error: {e}", 64) from None
    data = info_data(cli)
    if tmpl is None:
        cli.out(render_text(data))
        return 0
    try:
        cli.out(tmpl.execute(data) + "\n")
    except TemplateError as e:
        raise CliError(f"template parsing error: {e}") from None
    return 0
