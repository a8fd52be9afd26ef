"""What `docker stats` shows, computed from raw readings (pure: text and numbers in).

A `Sample` is one reading of a container's counters (its cgroup, its network namespace)
beside the host's CPU time; `compute(prev, cur)` turns two of them into a `Usage` with the
docker CLI's arithmetic:

- CPU %: container CPU time delta / host CPU time delta x online CPUs x 100, 0 unless both
  deltas are positive (calculateCPUPercentUnix);
- memory: usage minus inactive file pages (v1 total_inactive_file, v2 inactive_file), only
  when they are smaller (calculateMemUsageUnixNoCache); the limit is the container's, capped
  at the host's memory as the daemon caps it; MEM % = used / limit x 100, 0 without a limit;
- network: received / sent bytes of every interface but loopback (the daemon reports the
  interfaces it attached; `lo` is never one of them);
- block I/O: bytes read / written, summed over devices; PIDs: pids.current.
"""

from dockyard.record import Record

NANOS_PER_SECOND = 1_000_000_000


class Sample(Record):
    """One reading; `system_ns` is the host's CPU time (all CPUs) at the same moment."""

    cpu_ns: int = 0
    system_ns: int = 0
    online_cpus: int = 0
    memory_usage: int = 0
    memory_inactive_file: int = 0
    memory_limit: int = 0  # the cgroup's; 0 when unlimited
    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0
    pids: int = 0


class Usage(Record):
    """One row of `docker stats` in numbers."""

    cpu_percent: float = 0.0
    memory: float = 0.0
    memory_limit: float = 0.0
    memory_percent: float = 0.0
    net_rx: float = 0.0
    net_tx: float = 0.0
    block_read: float = 0.0
    block_write: float = 0.0
    pids: int = 0


class Entry(Record):
    """A container's row: `container` is how it was named (or its short id when listing);
    `usage` is None when it could not be read (shown as "--")."""

    container: str
    id: str
    name: str
    usage: Usage | None


def cpu_percent(prev_cpu: int, prev_system: int, cpu: int, system: int, online: int) -> float:
    cpu_delta = float(cpu) - float(prev_cpu)
    system_delta = float(system) - float(prev_system)
    if system_delta > 0.0 and cpu_delta > 0.0:
        return cpu_delta / system_delta * float(online) * 100.0
    return 0.0


def memory_used(usage: int, inactive_file: int) -> int:
    return usage - inactive_file if inactive_file < usage else usage


def memory_limit(limit: int, host: int) -> int:
    """The limit the daemon reports: the cgroup's, or the host's memory when larger/unset."""
    if host > 0 and (limit <= 0 or limit > host):
        return host
    return max(limit, 0)


def memory_percent(used: float, limit: float) -> float:
    return used / limit * 100.0 if limit else 0.0


def compute(prev: Sample | None, cur: Sample, host_memory: int) -> Usage:
    """The row for `cur`; without `prev` the CPU % is taken since the counters began."""
    p = prev or Sample()
    used = memory_used(cur.memory_usage, cur.memory_inactive_file)
    limit = memory_limit(cur.memory_limit, host_memory)
    return Usage(
        cpu_percent=cpu_percent(p.cpu_ns, p.system_ns, cur.cpu_ns, cur.system_ns, cur.online_cpus),
        memory=float(used),
        memory_limit=float(limit),
        memory_percent=memory_percent(float(used), float(limit)),
        net_rx=float(cur.net_rx),
        net_tx=float(cur.net_tx),
        block_read=float(cur.block_read),
        block_write=float(cur.block_write),
        pids=cur.pids,
    )


def system_cpu_ns(proc_stat: str, ticks_per_second: int = 100) -> int:
    """The host's CPU time in ns from /proc/stat's "cpu" line: user, nice, system, idle,
    iowait, irq and softirq ticks, as the daemon's getSystemCPUUsage adds them."""
    for line in proc_stat.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            if len(parts) < 8:
                break
            ticks = sum(int(x) for x in parts[1:8])
            return ticks * NANOS_PER_SECOND // ticks_per_second
    from dockyard.errors import Unavailable

    raise Unavailable("invalid /proc/stat: no cpu line")


def net_io(net_dev: str) -> tuple[int, int]:
    """(received, sent) bytes of every interface but loopback, from /proc/<pid>/net/dev."""
    rx = tx = 0
    for line in net_dev.splitlines()[2:]:
        name, sep, counters = line.partition(":")
        if not sep or name.strip() == "lo":
            continue
        fields = counters.split()
        if len(fields) >= 9:
            rx += int(fields[0])
            tx += int(fields[8])
    return rx, tx
