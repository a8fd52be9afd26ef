"""`system prune`: remove unused data. Today that is images; the warning lists only what
is really removed."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, FILTER, Flag, Values

COMMAND = Command(
    "prune [OPTIONS]",
    "Remove unused data",
    flags=(
        Flag("all", "a", BOOL, help="Remove all unused images not just dangling ones"),
        Flag("filter", kind=FILTER, help='Provide filter values (e.g. "label=<key>=<value>")'),
        Flag("force", "f", BOOL, help="Do not prompt for confirmation"),
        Flag("volumes", kind=BOOL, help="Prune anonymous volumes"),
    ),
    args=("none",),
)


def warning(all: bool, filters: dict) -> str:
    items = [
        "all images without at least one container associated to them"
        if all
        else "all dangling images"
    ]
    text = "WARNING! This will remove:\n" + "".join(f"  - {w}\n" for w in items)
    shown = [f"{name}={v}" for name in ("label", "label!", "until") for v in filters.get(name, [])]
    if shown:
        text += "\n  Items to be pruned will be filtered with:\n"
        text += "".join(f"  - {f}\n" for f in sorted(shown))
    return text + "\nAre you sure you want to continue?"


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.command import CliError
    from dockyard.cli.commands.image_prune import confirm, prune_images
    from dockyard.cli.units import human_size

    if opts.volumes and "until" in opts.filter:
        raise CliError('ERROR: The "until" filter is not supported with "--volumes"')
    if not opts.force and not confirm(cli, warning(opts.all, opts.filter)):
        return 0
    output, reclaimed = prune_images(cli, opts.all, opts.filter)
    if output:
        cli.out(output + "\n")
    cli.out(f"Total reclaimed space: {human_size(reclaimed)}\n")
    return 0
