"""`restart` / `container restart`: stop (with the grace period) and start again."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import INT, Flag, Values

COMMAND = Command(
    "restart [OPTIONS] CONTAINER [CONTAINER...]",
    "Restart one or more containers",
    flags=(
        Flag("signal", "s", help="Signal to send to the container"),
        Flag("time", "t", INT, help="Seconds to wait before killing the container", aliases=("timeout",)),
    ),
    args=("min", 1),
    aliases="dockyard container restart, dockyard restart",
)  # fmt: skip


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each

    timeout = opts.time if "time" in opts.changed else None
    svc = cli.containers

    def act(ref: str) -> None:
        if opts.signal:
            svc.stop(ref, timeout=timeout, signal=opts.signal)
            svc.start(ref)
        else:
            svc.restart(ref, timeout)

    return each(cli, args, act)
