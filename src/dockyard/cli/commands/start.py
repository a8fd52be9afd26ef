"""`start` / `container start`: start stopped containers; with -a/-i, in the foreground."""

from dockyard.cli.command import CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "start [OPTIONS] CONTAINER [CONTAINER...]",
    "Start one or more stopped containers",
    flags=(
        Flag("attach", "a", BOOL, help="Attach STDOUT/STDERR and forward signals"),
        Flag("detach-keys", help="Override the key sequence for detaching a container"),
        Flag("interactive", "i", BOOL, help="Attach container's STDIN"),
    ),
    args=("min", 1),
    aliases="dockyard container start, dockyard start",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each

    svc = cli.containers
    if not (opts.attach or opts.interactive):
        return each(cli, args, svc.start)
    if len(args) > 1:
        raise CliError("you cannot start and attach multiple containers at once")
    from dockyard.cli.commands import attach as A
    from dockyard.runtime.attachio import parse_detach_keys

    keys = parse_detach_keys(opts.detach_keys) if opts.detach_keys else b""
    info = svc.inspect(args[0])
    streams = A.streams(opts.interactive, [])  # -i attaches the output as well, as Docker
    tty = bool(info["Config"].get("Tty"))
    if info["State"].get("Running"):  # Docker attaches to a running one
        from dockyard.cli.commands import ttyclient

        stdin = streams[0] if info["Config"].get("OpenStdin") else -1
        ttyclient.check_input(tty, stdin)
        return ttyclient.attach_running(cli, svc, info["Id"], stdin, tty, keys or
                                        parse_detach_keys(""), not tty)  # fmt: skip
    return A.foreground(
        cli, svc, info["Id"], streams, bool(info["HostConfig"].get("AutoRemove")), proxy=True,
        tty=tty, detach_keys=keys,
    )  # fmt: skip
