"""`update` / `container update`: change the resource limits and restart policy of
containers, live in the cgroup of running ones; prints each container as it was named."""

from dockyard.cli.command import CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import INT, Flag, Values

COMMAND = Command(
    "update [OPTIONS] CONTAINER [CONTAINER...]",
    "Update configuration of one or more containers",
    flags=(
        Flag("cpu-period", kind=INT, help="Limit CPU CFS (Completely Fair Scheduler) period"),
        Flag("cpu-quota", kind=INT, help="Limit CPU CFS (Completely Fair Scheduler) quota"),
        Flag("cpu-shares", "c", INT, help="CPU shares (relative weight)"),
        Flag("cpus", metavar="decimal", help="Number of CPUs"),
        Flag("cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)"),
        Flag("cpuset-mems", help="MEMs in which to allow execution (0-3, 0,1)"),
        Flag("memory", "m", metavar="bytes", help="Memory limit"),
        Flag("memory-reservation", metavar="bytes", help="Memory soft limit"),
        Flag("memory-swap", metavar="bytes", help="Swap limit equal to memory plus swap: -1 to enable unlimited swap"),
        Flag("pids-limit", kind=INT, help="Tune container pids limit (set -1 for unlimited)"),
        Flag("restart", help="Restart policy to apply when a container exits"),
    ),
    args=("min", 1),
    aliases="dockyard container update, dockyard update",
)  # fmt: skip


def _value(name: str, text: str, parse):
    from dockyard.errors import InvalidArgument

    flag = next(f for f in COMMAND.flags if f.name == name)
    try:
        return parse(text)
    except InvalidArgument as e:
        raise CliError(
            f'invalid argument "{text}" for "{flag.display_name()}" flag: {e}\n'
            "See 'dockyard update --help'.",
            125,
        ) from None


def changes(opts: Values):
    """The `runtime.update.Changes` the flags ask for (Docker's UpdateConfig)."""
    from dockyard.linux.cgroups import flags as F
    from dockyard.runtime.update import Changes

    def swap(text: str) -> int:
        return -1 if text == "-1" else F.ram_in_bytes(text)

    asked = opts.changed
    return Changes(
        cpu_shares=opts.cpu_shares or None,
        nano_cpus=_value("cpus", opts.cpus, F.nano_cpus) or None if "cpus" in asked else None,
        cpu_period=opts.cpu_period or None,
        cpu_quota=opts.cpu_quota or None,
        cpuset_cpus=opts.cpuset_cpus or None,
        cpuset_mems=opts.cpuset_mems or None,
        memory=_value("memory", opts.memory, F.ram_in_bytes) or None if "memory" in asked else None,
        memory_reservation=_value("memory-reservation", opts.memory_reservation, F.ram_in_bytes)
        or None
        if "memory-reservation" in asked
        else None,
        memory_swap=_value("memory-swap", opts.memory_swap, swap) or None
        if "memory-swap" in asked
        else None,
        pids_limit=opts.pids_limit if "pids-limit" in asked else None,
        restart=opts.restart or None,
    )


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each

    if not opts.changed:
        raise CliError("you must provide one or more flags when using this command", 1)
    want = changes(opts)
    svc = cli.containers
    return each(cli, args, lambda ref: svc.update(ref, want))
