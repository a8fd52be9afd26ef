"""`ps` / `container ls` / `container list` / `container ps`: list containers.

On the hot path of every script that polls the engine: it imports only the CLI's own
formatting and the container store's read side.
"""

from dockyard.cli.command import FORMAT_HELP, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, FILTER, INT, Flag, Values

COMMAND = Command(
    "ps [OPTIONS]",
    "List containers",
    flags=(
        Flag("all", "a", BOOL, help="Show all containers (default shows just running)"),
        Flag("filter", "f", FILTER, help="Filter output based on conditions provided"),
        Flag("format", help=FORMAT_HELP),
        Flag("last", "n", INT, default=-1, help="Show n last created containers (includes all states)"),
        Flag("latest", "l", BOOL, help="Show the latest created container (includes all states)"),
        Flag("no-trunc", kind=BOOL, help="Don't truncate output"),
        Flag("quiet", "q", BOOL, help="Only display container IDs"),
        Flag("size", "s", BOOL, help="Display total file sizes"),
    ),
    args=("none",),
    aliases="dockyard container ls, dockyard container list, dockyard container ps, dockyard ps",
)  # fmt: skip


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    import time

    from dockyard.cli.commands import containerfmt as F

    fmt = F.ps_format(opts.format, opts.quiet, opts.size)
    fast = F.is_fast(fmt)
    if not fast:
        from dockyard.cli.formatter import compile_format

        compile_format(fmt)  # a bad template fails before the store is opened
    size = opts.size or (bool(opts.format) and ".Size" in opts.format)
    summaries = cli.containers.list(
        all=opts.all, filters=opts.filter or None, size=size, limit=opts.last, latest=opts.latest
    )
    now = time.time()
    trunc = not opts.no_trunc
    rows = [F.ContainerRow(s, trunc, now) for s in summaries]
    if fast:
        cli.out(F.render_fast(fmt, rows))
    else:
        from dockyard.cli.formatter import render

        cli.out(render(fmt, rows, F.PS_HEADER))
    from dockyard.cli.commands.batch import exit_now

    exit_now(cli, 0)
    return 0
