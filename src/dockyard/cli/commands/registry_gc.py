"""`registry gc`: mark and sweep the registry's blobs that no manifest references."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

# Blobs younger than this are kept: a push in progress uploads blobs before their manifest.
GRACE_SECONDS = 600.0

COMMAND = Command(
    "gc [OPTIONS]",
    "Remove blobs no manifest references (safe while the registry is stopped or read-only)",
    flags=(
        Flag("root", help="Registry storage directory (default: <data root>/registry)"),
        Flag("dry-run", "d", BOOL, help="Only print what would be removed"),
    ),
    args=("none",),
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.registry_serve import registry_root
    from dockyard.cli.units import human_size
    from dockyard.registry.gc import gc

    report = gc(registry_root(cli, opts), dry_run=opts.dry_run, grace=GRACE_SECONDS)
    verb = "would remove" if opts.dry_run else "removed"
    lines = [f"blob eligible for deletion: {d}" for d in report.blobs]
    lines.append(
        f"{report.marked} blobs marked, {len(report.blobs)} {verb} "
        f"({human_size(report.reclaimed)}), {report.uploads} stale uploads purged"
    )
    cli.out("".join(line + "\n" for line in lines))
    return 0
