"""`volume ls` / `volume list`: list volumes, sorted by name."""

from dockyard.cli.command import FORMAT_HELP, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, FILTER, Flag, Values

COMMAND = Command(
    "ls [OPTIONS]",
    "List volumes",
    flags=(
        Flag("filter", "f", FILTER, help='Provide filter values (e.g. "dangling=true")'),
        Flag("format", help=FORMAT_HELP),
        Flag("quiet", "q", BOOL, help="Only display volume names"),
    ),
    args=("none",),
    aliases="dockyard volume ls, dockyard volume list",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands import volume_fmt as F
    from dockyard.cli.formatter import compile_format, render

    fmt = opts.format or "table"
    if fmt == "table":
        fmt = F.QUIET if opts.quiet else F.VOLUMES_TABLE
    compile_format(fmt)  # a bad template fails before the store is opened
    vols = F.service(cli).list(opts.filter or None)
    cli.out(render(fmt, [F.VolumeRow(v) for v in vols], F.VOLUME_HEADER))
    return 0
