"""`volume inspect`: detailed information on one or more volumes."""

from dockyard.cli.command import INSPECT_FORMAT_HELP, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Flag, Values

COMMAND = Command(
    "inspect [OPTIONS] VOLUME [VOLUME...]",
    "Display detailed information on one or more volumes",
    flags=(Flag("format", "f", help=INSPECT_FORMAT_HELP),),
    args=("min", 1),
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.inspectfmt import inspect
    from dockyard.cli.commands.volume_fmt import service

    return inspect(cli, args, opts.format, service(cli).inspect)
