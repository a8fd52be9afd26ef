"""`container prune`: remove every stopped container (created, exited, dead)."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, FILTER, Flag, Values
from dockyard.labels import matches as labels_match

COMMAND = Command(
    "prune [OPTIONS]",
    "Remove all stopped containers",
    flags=(
        Flag("filter", kind=FILTER, help='Provide filter values (e.g. "until=<timestamp>")'),
        Flag("force", "f", BOOL, help="Do not prompt for confirmation"),
    ),
    args=("none",),
)

WARNING = "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"
STOPPED = ("created", "exited", "dead")


def candidates(cli, filters: dict) -> list[dict]:
    """The stopped containers the prune filters (until, label, label!) select."""
    import time

    from dockyard.errors import InvalidArgument

    for key in filters:
        if key not in ("until", "label", "label!"):
            raise InvalidArgument(f"invalid filter '{key}'")
    until = None
    if filters.get("until"):
        from dockyard.cli.commands.timeargs import timestamp

        until = min(timestamp(v, time.time()) for v in filters["until"])
    out = []
    for s in cli.containers.list(all=True, filters={"status": list(STOPPED)}, size=True):
        labels = s.get("Labels") or {}
        if until is not None and s["Created"] >= until:
            continue
        if not labels_match(labels, filters.get("label", []), False):
            continue
        if not labels_match(labels, filters.get("label!", []), True):
            continue
        out.append(s)
    return out


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.image_prune import confirm
    from dockyard.cli.units import human_size

    if not opts.force and not confirm(cli, WARNING):
        cli.out("Total reclaimed space: 0B\n")
        return 0
    deleted, reclaimed = prune_containers(cli, opts.filter)
    if deleted:
        cli.out("Deleted Containers:\n" + "".join(d + "\n" for d in deleted) + "\n")
    cli.out(f"Total reclaimed space: {human_size(reclaimed)}\n")
    return 0


def prune_containers(cli, filters: dict) -> tuple[list[str], int]:
    """Remove the stopped containers the filters select: (their ids, bytes freed)."""
    from dockyard.errors import DockyardError, NotFound

    deleted, reclaimed = [], 0
    for s in candidates(cli, filters):
        try:
            cli.containers.remove(s["Id"])
        except NotFound:
            continue
        except DockyardError:
            continue  # started meanwhile: no longer stopped, Docker skips it too
        deleted.append(s["Id"])
        reclaimed += s.get("SizeRw") or 0
    return deleted, reclaimed
