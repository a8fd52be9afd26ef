"""`wait` / `container wait`: block until containers stop, then print their exit codes."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "wait CONTAINER [CONTAINER...]",
    "Block until one or more containers stop, then print their exit codes",
    args=("min", 1),
    aliases="dockyard container wait, dockyard wait",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each

    svc = cli.containers
    return each(cli, args, svc.wait, lambda ref, code: str(code))
