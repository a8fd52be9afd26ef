"""`rmi` / `image rm` / `image remove`: untag and delete images, continuing past failures."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "rmi [OPTIONS] IMAGE [IMAGE...]",
    "Remove one or more images",
    flags=(
        Flag("force", "f", BOOL, help="Force removal of the image"),
        Flag("no-prune", kind=BOOL, help="Do not delete untagged parents"),
    ),
    args=("min", 1),
    aliases="dockyard image rm, dockyard image remove, dockyard rmi",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.errors import DockyardError, NotFound

    failed = []
    fatal = False
    for name in args:
        try:
            results = cli.images.remove(name, force=opts.force, prune=not opts.no_prune)
        except DockyardError as e:
            fatal = fatal or not isinstance(e, NotFound)
            failed.append(str(e))
            continue
        lines = []
        for item in results:
            if item.get("Deleted"):
                lines.append(f"Deleted: {item['Deleted']}\n")
            else:
                lines.append(f"Untagged: {item.get('Untagged', '')}\n")
        cli.out("".join(lines))
    # Like Docker: every argument is tried, then the failures are reported together; with
    # --force, images that do not exist are reported but do not fail the command.
    for msg in failed:
        cli.err(f"Error: {msg}\n")
    return 1 if failed and (fatal or not opts.force) else 0
