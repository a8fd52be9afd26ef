"""`system prune`: remove unused data as Docker does, in its order — stopped containers,
then (with `--volumes`) the anonymous volumes no container uses, then dangling images (all
unused ones with `-a`), then the dangling build cache (all of it with `-a`). The warning lists
exactly what is removed; there are no user networks yet, so none are listed."""

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


def warning(all: bool, filters: dict, volumes: bool = False) -> str:
    items = ["all stopped containers"]
    if volumes:
        items.append("all anonymous volumes not used by at least one container")
    items.append(
        "all images without at least one container associated to them"
        if all
        else "all dangling images"
    )
    items.append("unused build cache" if all else "dangling build cache")
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
    if not opts.force and not confirm(cli, warning(opts.all, opts.filter, opts.volumes)):
        return 0
    sections = [_containers(cli, opts.filter)]
    if opts.volumes:
        from dockyard.cli.commands.volume_prune import prune_volumes

        labels = {k: v for k, v in opts.filter.items() if k in ("label", "label!")}
        sections.append(prune_volumes(cli, False, labels))
    sections.append(prune_images(cli, opts.all, opts.filter))
    sections.append(_build_cache(cli, opts.all, opts.filter))
    reclaimed = 0
    for output, freed in sections:
        reclaimed += freed
        if output:
            cli.out(output + "\n")
    cli.out(f"Total reclaimed space: {human_size(reclaimed)}\n")
    return 0


def _containers(cli, filters: dict) -> tuple[str, int]:
    from dockyard.cli.commands.container_prune import prune_containers

    deleted, reclaimed = prune_containers(cli, filters)
    if not deleted:
        return "", 0
    return "Deleted Containers:\n" + "".join(d + "\n" for d in deleted), reclaimed


def _build_cache(cli, all: bool, filters: dict) -> tuple[str, int]:
    from dockyard.services.builds import BuildService

    svc = BuildService(cli.config, cli.images)
    try:
        # the build cache knows only `until`; label filters select nothing there (Docker's too)
        if any(k != "until" for k in filters):
            return "", 0
        removed, reclaimed = svc.prune(all=all, filters=filters)
    finally:
        svc.close()
    if not removed:
        return "", reclaimed
    return "Deleted build cache objects:\n" + "".join(k[:25] + "\n" for k in removed), reclaimed
