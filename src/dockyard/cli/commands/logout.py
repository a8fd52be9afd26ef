"""`logout`: forget the stored credentials of a registry."""

from dockyard.cli.command import Command
from dockyard.cli.commands.pull import distribution
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "logout [SERVER]",
    "Log out from a registry",
    args=("max", 1),
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.login import DOCKER_HUB

    server = args[0] if args else DOCKER_HUB
    cli.out(distribution(cli, opts).logout(server) + "\n")
    return 0
