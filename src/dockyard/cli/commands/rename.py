"""`rename` / `container rename`: give a container a new name."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "rename CONTAINER NEW_NAME",
    "Rename a container",
    args=("exact", 2),
    aliases="dockyard container rename, dockyard rename",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.errors import InvalidArgument

    old, new = args[0].strip(), args[1].strip()
    if not old or not new:
        raise InvalidArgument("Neither old nor new names may be empty")
    try:
        cli.containers.rename(old, new)
    except InvalidArgument as e:
        raise InvalidArgument(f"failed to rename container named {old}: {e}") from None
    return 0
