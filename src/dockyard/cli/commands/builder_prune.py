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
ALL_WARNING = "WARNING! This will remove all build cache. Are you sure you want to continue?"


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.image_prune import confirm
    from dockyard.cli.units import human_size
    from dockyard.services.builds import BuildService

    if not opts.force and not confirm(cli, ALL_WARNING if opts.all else WARNING):
        return 0
    svc = BuildService(cli.config, cli.images)
    try:
        removed, reclaimed = svc.prune(all=opts.all, filters=opts.filter)
    finally:
        svc.close()
    if removed:
        cli.out("Deleted build cache objects:\n")
        for key in removed:
            cli.out(key[:25] + "\n")
        cli.out("\n")
    cli.out(f"Total:\t{human_size(reclaimed)}\n")
    return 0
