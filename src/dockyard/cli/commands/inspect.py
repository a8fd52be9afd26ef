"""`inspect`: low-level information on any object by name or id (images today)."""

from dockyard.cli.command import INSPECT_FORMAT_HELP, CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "inspect [OPTIONS] NAME|ID [NAME|ID...]",
    "Return low-level information on Dockyard objects",
    flags=(
        Flag("format", "f", help=INSPECT_FORMAT_HELP),
        Flag("type", help="Only inspect objects of the given type"),
        Flag("size", "s", BOOL, help="Display total file sizes if the type is container"),
    ),
    args=("min", 1),
)

TYPES = (
    "config",
    "container",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "task",
    "volume",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.inspectfmt import inspect
    from dockyard.errors import InvalidArgument, NotFound

    kind = opts.type
    if "type" in opts.changed and not kind:
        raise CliError('type is empty: must be one of "' + '", "'.join(TYPES) + '"')
    if kind and kind not in TYPES:
        raise CliError(f'unknown type: "{kind}": must be one of "' + '", "'.join(TYPES) + '"')

    def get(ref: str) -> dict:
        if kind in ("", "image"):
            try:
                return cli.images.inspect(ref)
            except (NotFound, InvalidArgument):  # not a valid image name: no such object
                pass
        raise NotFound(f"No such {kind or 'object'}: {ref}")

    return inspect(cli, args, opts.format, get)
