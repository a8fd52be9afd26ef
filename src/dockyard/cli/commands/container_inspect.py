"""`container inspect`: detailed information on one or more containers."""

from dockyard.cli.command import INSPECT_FORMAT_HELP, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "inspect [OPTIONS] CONTAINER [CONTAINER...]",
    "Display detailed information on one or more containers",
    flags=(
        Flag("format", "f", help=INSPECT_FORMAT_HELP),
        Flag("size", "s", BOOL, help="Display total file sizes"),
    ),
    args=("min", 1),
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.inspect import container
    from dockyard.cli.commands.inspectfmt import inspect

    return inspect(cli, args, opts.format, lambda ref: container(cli, ref, opts.size))
