"""`version`: client and engine versions, laid out like Docker's."""

from dockyard.cli.command import INSPECT_FORMAT_HELP, CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Flag, Values

COMMAND = Command(
    "version [OPTIONS]",
    "Show the Dockyard version information",
    flags=(Flag("format", "f", help=INSPECT_FORMAT_HELP),),
    args=("none",),
)

TEMPLATE = """{{with .Client -}}
Client:
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}
 Python version:\t{{.PythonVersion}}
 Git commit:\t{{.GitCommit}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{with .Server -}}
Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Python version:\t{{index .Details "PythonVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
 {{- end}}
{{- end}}"""


def version_info() -> dict:
    import os

    from dockyard import __version__
    from dockyard.cli.commands import sysfacts
    from dockyard.cli.main import _git_commit

    commit = _git_commit() or "dev"
    arch = sysfacts.go_arch()
    pyver = sysfacts.python_version()
    kernel = os.uname().release
    client = {
        "Version": __version__,
        "APIVersion": sysfacts.API_VERSION,
        "DefaultAPIVersion": sysfacts.API_VERSION,
        "PythonVersion": pyver,
        "GitCommit": commit,
        "Os": "linux",
        "Arch": arch,
        "Context": "default",
    }
    details = {
        "ApiVersion": sysfacts.API_VERSION,
        "MinAPIVersion": sysfacts.MIN_API_VERSION,
        "PythonVersion": pyver,
        "GitCommit": commit,
        "Os": "linux",
        "Arch": arch,
        "KernelVersion": kernel,
        "Experimental": "false",
    }
    server = {
        "Platform": {"Name": "Dockyard Engine"},
        "Components": [{"Name": "Engine", "Version": __version__, "Details": details}],
        "Version": __version__,
        "APIVersion": sysfacts.API_VERSION,
        "MinAPIVersion": sysfacts.MIN_API_VERSION,
        "GitCommit": commit,
        "PythonVersion": pyver,
        "Os": "linux",
        "Arch": arch,
        "KernelVersion": kernel,
    }
    return {"Client": client, "Server": server}


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.template import Template, TemplateError

    fmt = opts.format
    source = {"": TEMPLATE, "json": "{{json .}}"}.get(fmt, fmt)
    try:
        tmpl = Template(source)
    except TemplateError as e:
        raise CliError(f"template parsing error: {e}", 64) from None
    try:
        text = tmpl.execute(version_info())
    except TemplateError as e:
        raise CliError(f"template parsing error: {e}") from None
    if fmt == "":
        from dockyard.cli.tabwriter import format_table

        text = format_table(text + "\n", minwidth=20, padding=1)
    else:
        text += "\n"
    cli.out(text)
    return 0
