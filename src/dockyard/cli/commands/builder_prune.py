"""`builder prune`: remove the build cache."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, FILTER, Flag, Values

COMMAND = Command(
    "prune",
    "Remove build cache",
    flags=(
        Flag("all", "a", BOOL, help="Remove all unused build cache, not just dangling ones"),
        Flag("filter", kind=FILTER, help="Provide filter values"),
        Flag("force", "f", BOOL, help="Do not prompt for confirmation"),
    ),
    args=("none",),
)

WARNING = "WARNING! This will remove all dangling build cache. Are you sure you want to continue?"


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.image_prune import confirm
    from dockyard.cli.units import human_size
    from dockyard.services.builds import BuildService

    if not opts.force and not confirm(cli, WARNING):
        return 0
    svc = BuildService(cli.config, cli.images)
    try:
        _, reclaimed = svc.prune()
    finally:
        svc.close()
    cli.out(f"Total:\t{human_size(reclaimed)}\n")
    return 0
