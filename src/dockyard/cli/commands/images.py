"""`images` / `image ls` / `image list`: list images."""

from dockyard.cli.command import FORMAT_HELP, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, FILTER, Flag, Values

COMMAND = Command(
    "images [OPTIONS] [REPOSITORY[:TAG]]",
    "List images",
    flags=(
        Flag("quiet", "q", BOOL, help="Only show image IDs"),
        Flag("all", "a", BOOL, help="Show all images (default hides intermediate images)"),
        Flag("no-trunc", kind=BOOL, help="Don't truncate output"),
        Flag("digests", kind=BOOL, help="Show digests"),
        Flag("format", help=FORMAT_HELP),
        Flag("filter", "f", FILTER, help="Filter output based on conditions provided"),
    ),
    args=("max", 1),
    aliases="dockyard image ls, dockyard image list, dockyard images",
)


def image_format(source: str, quiet: bool, digests: bool) -> str:
    """Docker's NewImageFormat."""
    from dockyard.cli.commands import imagefmt

    if source == "table":
        if quiet:
            return imagefmt.QUIET
        return imagefmt.IMAGES_TABLE_DIGEST if digests else imagefmt.IMAGES_TABLE
    if source.startswith("table") and digests and "{{.Digest}}" not in source:
        source += "\t{{.Digest}}"
    return source


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands import imagefmt
    from dockyard.cli.formatter import compile_format, render

    filters = {k: list(v) for k, v in opts.filter.items()}
    if args:
        filters.setdefault("reference", []).append(args[0])
    fmt = image_format(opts.format or "table", opts.quiet, opts.digests)
    compile_format(fmt)  # a bad template fails before the store is opened
    summaries = cli.images.list(all=opts.all, filters=filters or None)
    need_digest = opts.digests or "{{.Digest}}" in fmt
    rows = imagefmt.image_rows(summaries, not opts.no_trunc, opts.digests, need_digest)
    cli.out(render(fmt, rows, imagefmt.IMAGE_HEADER))
    return 0
