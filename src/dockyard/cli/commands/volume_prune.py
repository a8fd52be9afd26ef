"""`volume prune`: remove unused volumes — anonymous ones, or all with `-a` (Docker 23+)."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, FILTER, Flag, Values

COMMAND = Command(
    "prune [OPTIONS]",
    "Remove unused local volumes",
    flags=(
        Flag("all", "a", BOOL, help="Remove all unused volumes, not just anonymous ones"),
        Flag("filter", kind=FILTER, help='Provide filter values (e.g. "label=<label>")'),
        Flag("force", "f", BOOL, help="Do not prompt for confirmation"),
    ),
    args=("none",),
)

WARNING = (
    "WARNING! This will remove anonymous local volumes not used by at least one container."
    "\nAre you sure you want to continue?"
)
ALL_WARNING = (
    "WARNING! This will remove all local volumes not used by at least one container."
    "\nAre you sure you want to continue?"
)


def prune_volumes(cli, all: bool, filters: dict) -> tuple[str, int]:
    """The report text ("" if nothing went) and the bytes freed."""
    from dockyard.cli.commands.volume_fmt import service

    deleted, reclaimed = service(cli).prune(all=all, filters=filters or None)
    if not deleted:
        return "", 0
    return "Deleted Volumes:\n" + "".join(n + "\n" for n in deleted), reclaimed


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.image_prune import confirm
    from dockyard.cli.units import human_size

    if not opts.force and not confirm(cli, ALL_WARNING if opts.all else WARNING):
        return 0
    output, reclaimed = prune_volumes(cli, opts.all, opts.filter)
    if output:
        cli.out(output + "\n")
    cli.out(f"Total reclaimed space: {human_size(reclaimed)}\n")
    return 0
