"""`unpause` / `container unpause`: thaw paused containers."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "unpause CONTAINER [CONTAINER...]",
    "Unpause all processes within one or more containers",
    args=("min", 1),
    aliases="dockyard container unpause, dockyard unpause",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each

    return each(cli, args, cli.containers.unpause)
