"""`volume rm` / `volume remove`: remove volumes, continuing past failures."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "rm [OPTIONS] VOLUME [VOLUME...]",
    "Remove one or more volumes",
    flags=(Flag("force", "f", BOOL, help="Force the removal of one or more volumes"),),
    args=("min", 1),
    aliases="dockyard volume rm, dockyard volume remove",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each
    from dockyard.cli.commands.volume_fmt import service

    svc = service(cli)
    return each(cli, args, lambda name: svc.remove(name, force=opts.force))
