"""`image inspect`: low-level information on images, as Docker's JSON."""

from dockyard.cli.command import INSPECT_FORMAT_HELP, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Flag, Values

COMMAND = Command(
    "inspect [OPTIONS] IMAGE [IMAGE...]",
    "Display detailed information on one or more images",
    flags=(Flag("format", "f", help=INSPECT_FORMAT_HELP),),
    args=("min", 1),
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.inspectfmt import inspect

    return inspect(cli, args, opts.format, cli.images.inspect)
