"""`image prune`: remove dangling (or, with -a, all unused) images."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, FILTER, Flag, Values

COMMAND = Command(
    "prune [OPTIONS]",
    "Remove unused images",
    flags=(
        Flag("all", "a", BOOL, help="Remove all unused images, not just dangling ones"),
        Flag("filter", kind=FILTER, help='Provide filter values (e.g. "until=<timestamp>")'),
        Flag("force", "f", BOOL, help="Do not prompt for confirmation"),
    ),
    args=("none",),
)

ALL_WARNING = (
    "WARNING! This will remove all images without at least one container associated "
    "to them.\nAre you sure you want to continue?"
)
DANGLING_WARNING = (
    "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
)


def confirm(cli, message: str) -> bool:
    """Docker's PromptForConfirmation: only "y" or "Y" says yes."""
    cli.out(message + " [y/N] ")
    cli.stdout.flush()
    answer = cli.stdin.readline()
    return answer.rstrip("\r\n").lower() == "y"


def prune_images(cli, all: bool, filters: dict) -> tuple[str, int]:
    """Docker's image RunPrune: the report text ("" if nothing went) and the bytes freed."""
    deleted, reclaimed = cli.images.prune(all=all, filters=filters or None)
    if not deleted:
        return "", 0
    lines = ["Deleted Images:\n"]
    for item in deleted:
        if item.get("Untagged"):
            lines.append(f"untagged: {item['Untagged']}\n")
        else:
            lines.append(f"deleted: {item.get('Deleted', '')}\n")
    return "".join(lines), reclaimed


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.units import human_size

    warning = ALL_WARNING if opts.all else DANGLING_WARNING
    if not opts.force and not confirm(cli, warning):
        cli.out("Total reclaimed space: 0B\n")
        return 0
    output, reclaimed = prune_images(cli, opts.all, opts.filter)
    if output:
        cli.out(output + "\n")
    cli.out(f"Total reclaimed space: {human_size(reclaimed)}\n")
    return 0
