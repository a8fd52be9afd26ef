"""`stop` / `container stop`: the stop signal, then SIGKILL after the grace period."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import INT, Flag, Values

COMMAND = Command(
    "stop [OPTIONS] CONTAINER [CONTAINER...]",
    "Stop one or more running containers",
    flags=(
        Flag("signal", "s", help="Signal to send to the container"),
        Flag("time", "t", INT, help="Seconds to wait before killing the container", aliases=("timeout",)),
    ),
    args=("min", 1),
    aliases="dockyard container stop, dockyard stop",
)  # fmt: skip


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each, exit_now

    timeout = opts.time if "time" in opts.changed else None
    sig = opts.signal or None
    svc = cli.containers
    code = each(cli, args, lambda ref: svc.stop(ref, timeout=timeout, signal=sig))
    exit_now(cli, code)
    return code
