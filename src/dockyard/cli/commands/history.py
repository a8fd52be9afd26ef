"""`history` / `image history`: the layers an image was built from."""

from dockyard.cli.command import FORMAT_HELP, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "history [OPTIONS] IMAGE",
    "Show the history of an image",
    flags=(
        Flag(
            "human", "H", BOOL, default=True, help="Print sizes and dates in human readable format"
        ),
        Flag("quiet", "q", BOOL, help="Only show image IDs"),
        Flag("no-trunc", kind=BOOL, help="Don't truncate output"),
        Flag("format", help=FORMAT_HELP),
    ),
    args=("exact", 1),
    aliases="dockyard image history, dockyard history",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands import imagefmt
    from dockyard.cli.formatter import compile_format, render

    fmt = opts.format or "table"
    if fmt == "table":
        if opts.quiet:
            fmt = imagefmt.QUIET
        else:
            fmt = imagefmt.HISTORY_TABLE if opts.human else imagefmt.HISTORY_TABLE_RAW
    compile_format(fmt)
    entries = cli.images.history(args[0])
    rows = [imagefmt.HistoryRow(e, not opts.no_trunc, opts.human) for e in entries]
    cli.out(render(fmt, rows, imagefmt.HISTORY_HEADER))
    return 0
