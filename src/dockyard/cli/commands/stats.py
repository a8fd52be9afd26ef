"""`stats` / `container stats`: containers' resource usage, as a table that redraws every
second (or once, with --no-stream), in Docker's columns, units and formats."""

from dockyard.cli.command import FORMAT_HELP, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "stats [OPTIONS] [CONTAINER...]",
    "Display a live stream of container(s) resource usage statistics",
    flags=(
        Flag("all", "a", BOOL, help="Show all containers (default shows just running)"),
        Flag("format", help=FORMAT_HELP),
        Flag("no-stream", kind=BOOL, help="Disable streaming stats and only pull the first result"),
        Flag("no-trunc", kind=BOOL, help="Do not truncate output"),
    ),
    aliases="dockyard container stats, dockyard stats",
)

STATS_TABLE = (
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}"
    "\t{{.BlockIO}}\t{{.PIDs}}"
)
HEADER = {
    "Container": "CONTAINER",
    "ID": "CONTAINER ID",
    "Name": "NAME",
    "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT",
    "MemPerc": "MEM %",
    "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O",
    "PIDs": "PIDS",
}
CLEAR = "\033[2J\033[H"  # what the docker CLI prints before each redraw


class StatsRow:
    """Docker's stats formatter context for one `runtime.stats.Entry`."""

    GO_TYPE = "*container.statsContext"
    FIELDS = (
        "BlockIO",
        "CPUPerc",
        "Container",
        "ID",
        "MemPerc",
        "MemUsage",
        "Name",
        "NetIO",
        "PIDs",
    )

    def __init__(self, entry, trunc: bool):
        self.e = entry
        self.u = entry.usage
        self.trunc = trunc

    def to_json(self) -> dict:
        return {name: getattr(self, name)() for name in self.FIELDS}

    def Container(self) -> str:
        return self.e.container

    def ID(self) -> str:
        return self.e.id[:12] if self.trunc else self.e.id

    def Name(self) -> str:
        return self.e.name or "--"

    def CPUPerc(self) -> str:
        return "--" if self.u is None else f"{self.u.cpu_percent:.2f}%"

    def MemUsage(self) -> str:
        from dockyard.cli.units import bytes_size

        if self.u is None:
            return "-- / --"
        return f"{bytes_size(self.u.memory)} / {bytes_size(self.u.memory_limit)}"

    def MemPerc(self) -> str:
        return "--" if self.u is None else f"{self.u.memory_percent:.2f}%"

    def NetIO(self) -> str:
        from dockyard.cli.units import human_size_precision as h

        return "--" if self.u is None else f"{h(self.u.net_rx, 3)} / {h(self.u.net_tx, 3)}"

    def BlockIO(self) -> str:
        from dockyard.cli.units import human_size_precision as h

        if self.u is None:
            return "--"
        return f"{h(self.u.block_read, 3)} / {h(self.u.block_write, 3)}"

    def PIDs(self) -> str:
        return "--" if self.u is None else str(self.u.pids)


def stats_format(source: str) -> str:
    """Docker's NewStatsFormat: "" and "table" are the default table."""
    return STATS_TABLE if source in ("", "table") else source


def render(fmt: str, entries, trunc: bool) -> str:
    from dockyard.cli.formatter import render as render_rows

    return render_rows(fmt, [StatsRow(e, trunc) for e in entries], HEADER)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.formatter import compile_format

    fmt = stats_format(opts.format)
    compile_format(fmt)  # a bad template fails before anything is read
    trunc = not opts.no_trunc
    svc = cli.containers
    if opts.no_stream:
        cli.out(render(fmt, svc.stats(args, all=opts.all), trunc))
        return 0
    for entries in svc.stats(args, all=opts.all, stream=True):
        cli.out(CLEAR + render(fmt, entries, trunc))
        cli.stdout.flush()
    return 0
