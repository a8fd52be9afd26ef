"""`diff` / `container diff`: what a container changed in its filesystem (Docker's C/A/D lines)."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "diff CONTAINER",
    "Inspect changes to files or directories on a container's filesystem",
    args=("exact", 1),
    aliases="dockyard container diff, dockyard diff",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.services.containerfs import ContainerFS

    changes = ContainerFS(cli.containers).changes(args[0])
    cli.out("".join(c.line() + "\n" for c in changes))
    return 0
