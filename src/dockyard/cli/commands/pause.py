"""`pause` / `container pause`: freeze every process of the containers (cgroup freezer)."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "pause CONTAINER [CONTAINER...]",
    "Pause all processes within one or more containers",
    args=("min", 1),
    aliases="dockyard container pause, dockyard pause",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each

    return each(cli, args, cli.containers.pause)
