"""`logs` / `container logs`: a container's output from its json-file log, stdout entries to
stdout and stderr entries to stderr."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "logs [OPTIONS] CONTAINER",
    "Fetch the logs of a container",
    flags=(
        Flag("details", kind=BOOL, help="Show extra details provided to logs"),
        Flag("follow", "f", BOOL, help="Follow log output"),
        Flag("since", help='Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
        Flag("tail", "n", default="all", help='Number of lines to show from the end of the logs'),
        Flag("timestamps", "t", BOOL, help="Show timestamps"),
        Flag("until", help='Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
    ),
    args=("exact", 1),
    aliases="dockyard container logs, dockyard logs",
)  # fmt: skip


def tail_count(text: str) -> int | None:
    """Docker: "all" (or anything not a number) shows everything; a negative number too."""
    try:
        n = int(text)
    except ValueError:
        return None
    return n if n >= 0 else None


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    import time

    since = until = None
    now = time.time()
    if opts.since:
        from dockyard.cli.commands.timeargs import timestamp

        since = timestamp(opts.since, now)
    if opts.until:
        from dockyard.cli.commands.timeargs import timestamp

        until = timestamp(opts.until, now)
    entries = cli.containers.logs(
        args[0], follow=opts.follow, tail=tail_count(opts.tail), since=since, until=until,
        timestamps=opts.timestamps,
    )  # fmt: skip
    cli.stdout.flush()
    fds = {"stdout": 1, "stderr": 2}
    prefix = b" " if opts.details else b""
    try:
        for stream, data in entries:
            if prefix:
                data = _detail(data, prefix, opts.timestamps)
            _write_all(fds.get(stream, 1), data)
    except KeyboardInterrupt:
        return 0  # Ctrl-C ends `logs -f`, as with Docker
    return 0


def _detail(data: bytes, prefix: bytes, stamped: bool) -> bytes:
    if not stamped:
        return prefix + data
    stamp, _, rest = data.partition(b" ")
    return stamp + b" " + prefix + rest


def _write_all(fd: int, data: bytes) -> None:
    import os

    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
