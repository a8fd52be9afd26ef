"""`kill` / `container kill`: send a signal (SIGKILL by default) to running containers."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Flag, Values

COMMAND = Command(
    "kill [OPTIONS] CONTAINER [CONTAINER...]",
    "Kill one or more running containers",
    flags=(Flag("signal", "s", default="KILL", help="Signal to send to the container"),),
    args=("min", 1),
    aliases="dockyard container kill, dockyard kill",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each
    from dockyard.runtime.spec import parse_signal

    sig = parse_signal(opts.signal or "KILL")  # a bad signal fails before any container is hit
    svc = cli.containers
    return each(cli, args, lambda ref: svc.kill(ref, sig))
