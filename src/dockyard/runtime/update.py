"""`docker update`: Docker's rules for changing a container's limits and restart policy (pure).

`Changes` is what the user asked (Docker's UpdateConfig; None = not asked). `apply(doc,
changes, ...)` checks it against the stored spec (the decoded JSON object) the way the
daemon does (verifyPlatformContainerResources, then Container.UpdateContainer) and returns
the new spec object plus the `Resources` to write into a live cgroup.

Three values have their `ContainerSpec` fields only since `update` came: `nano_cpus`
(whether the CFS quota came from --cpus), `cpuset_mems` and `memory_reservation`; a spec
stored before them lacks the keys, and `extras(doc)` reads them with their defaults.
"""

from dockyard.errors import Conflict, InvalidArgument
from dockyard.record import Record

CFS_PERIOD = 100000
MIN_MEMORY = 6 * 1024 * 1024


class Changes(Record):
    cpu_shares: int | None = None
    nano_cpus: int | None = None  # --cpus, in billionths of a CPU
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    memory: int | None = None
    memory_reservation: int | None = None
    memory_swap: int | None = None  # memory + swap; -1 unlimited
    pids_limit: int | None = None  # <= 0 unlimited
    restart: str | None = None  # "no" | "always" | "on-failure[:N]" | "unless-stopped"

    def empty(self) -> bool:
        return all(getattr(self, f) is None for f in self._fields)


class Extras(Record):
    nano_cpus: int | None = None  # None: an older spec, where period 100000 meant --cpus
    cpuset_mems: str = ""
    memory_reservation: int = 0


def extras(doc: dict) -> Extras:
    return Extras(
        nano_cpus=doc.get("nano_cpus"),
        cpuset_mems=doc.get("cpuset_mems") or "",
        memory_reservation=doc.get("memory_reservation") or 0,
    )


def nano_cpus(doc: dict) -> int:
    """Docker's NanoCpus for a stored spec."""
    n = doc.get("nano_cpus")
    if n is not None:
        return n
    if doc.get("cpu_period") == CFS_PERIOD:  # older specs: only --cpus set a quota
        return doc.get("cpu_quota", 0) * 10_000
    return 0


def parse_cpuset(value: str, what: str, available: int) -> str:
    """Validate a cpuset list ("0-1,3") against `available` (CPUs or memory nodes)."""
    try:
        ids: set[int] = set()
        for part in value.split(","):
            lo, dash, hi = part.partition("-")
            a = int(lo)
            b = int(hi) if dash else a
            if a < 0 or b < a or not lo.isdigit() or (dash and not hi.isdigit()):
                raise ValueError
            ids.update(range(a, b + 1))
    except ValueError:
        raise InvalidArgument(f"Invalid value {value} for cpuset {what}") from None
    if max(ids) >= available:
        have = "0" if available == 1 else f"0-{available - 1}"
        label = "CPUs" if what == "cpus" else "Memory nodes"
        raise InvalidArgument(
            f"Requested {label} are not available - requested {value}, available: {have}"
        )
    return value


def _verify(c: Changes, ncpu: int, nodes: int) -> None:
    """The daemon's checks of the update's own values."""
    if c.memory is not None and 0 < c.memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if c.memory and c.memory_swap and c.memory_swap > 0 and c.memory_swap < c.memory:
        raise InvalidArgument(
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        )
    if c.memory_reservation is not None and 0 < c.memory_reservation < MIN_MEMORY:
        raise InvalidArgument("Minimum memory reservation allowed is 6MB")
    if c.memory and c.memory_reservation and c.memory < c.memory_reservation:
        raise InvalidArgument(
            "Minimum memory limit can not be less than memory reservation limit, see usage"
        )
    if c.nano_cpus and c.cpu_period:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if c.nano_cpus and c.cpu_quota:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if c.nano_cpus is not None and not 0 <= c.nano_cpus <= ncpu * 1_000_000_000:
        raise InvalidArgument(
            f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )
    if c.cpu_period and not 1000 <= c.cpu_period <= 1000000:
        raise InvalidArgument(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
        )
    if c.cpu_quota and 0 < c.cpu_quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if c.cpu_shares is not None and c.cpu_shares < 0:
        raise InvalidArgument(f"invalid CPU shares: {c.cpu_shares}")
    if c.cpuset_cpus:
        parse_cpuset(c.cpuset_cpus, "cpus", ncpu)
    if c.cpuset_mems:
        parse_cpuset(c.cpuset_mems, "mems", nodes)


def apply(doc: dict, c: Changes, ncpu: int, nodes: int = 1):
    """(new spec object, Resources for a live cgroup) for `c` on the stored spec `doc`.

    Errors are Docker's; the conflicts with what is already set are `Conflict`s."""
    from dockyard.linux.cgroups.base import Resources

    _verify(c, ncpu, nodes)
    cur_nano = nano_cpus(doc)
    if c.nano_cpus and (doc.get("cpu_period") and not cur_nano):
        raise Conflict(
            "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"
        )
    if c.nano_cpus and (doc.get("cpu_quota") and not cur_nano):
        raise Conflict(
            "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"
        )
    if (c.cpu_period or c.cpu_quota) and cur_nano:
        what = "Period" if c.cpu_period else "Quota"
        raise Conflict(
            f"Conflicting options: CPU {what} cannot be updated as NanoCPUs has already been set"
        )
    new = dict(doc)
    res: dict = {}
    if c.cpu_shares:
        new["cpu_shares"] = res["cpu_shares"] = c.cpu_shares
    if c.nano_cpus:
        quota = c.nano_cpus * CFS_PERIOD // 1_000_000_000
        if quota < 1000:
            raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
        new["nano_cpus"] = c.nano_cpus
        new["cpu_period"] = res["cpu_period"] = CFS_PERIOD
        new["cpu_quota"] = res["cpu_quota"] = quota
    if c.cpu_period:
        new["nano_cpus"] = 0
        new["cpu_period"] = res["cpu_period"] = c.cpu_period
        res["cpu_quota"] = new.get("cpu_quota") or -1  # v2 writes both in one file
    if c.cpu_quota:
        new["nano_cpus"] = 0
        new["cpu_quota"] = res["cpu_quota"] = c.cpu_quota
        res.setdefault("cpu_period", new.get("cpu_period") or None)
    if c.cpuset_cpus:
        new["cpuset"] = res["cpuset_cpus"] = c.cpuset_cpus
    if c.cpuset_mems:
        new["cpuset_mems"] = res["cpuset_mems"] = c.cpuset_mems
    cur_swap = doc.get("memory_swap") or 0
    if c.memory:
        # Docker compares with the swap limit already set (0 when none): raising the
        # memory past it needs a new swap limit in the same update
        if c.memory > cur_swap and not c.memory_swap:
            raise Conflict(
                "Memory limit should be smaller than already set memoryswap limit, "
                "update the memoryswap at the same time"
            )
        new["memory"] = res["memory"] = c.memory
    if c.memory_swap:
        new["memory_swap"] = c.memory_swap
    if c.memory or c.memory_swap:
        memory, swap = new.get("memory") or 0, new.get("memory_swap")
        if memory <= 0:
            raise InvalidArgument(
                "You should always set the Memory limit when using Memoryswap limit, see usage"
            )
        if swap is not None and 0 < swap < memory:
            raise InvalidArgument(
                "Minimum memoryswap limit should be larger than memory limit, see usage"
            )
        res["memory"] = memory
        if swap:
            res["memory_swap"] = swap
    if c.memory_reservation:
        limit = new.get("memory") or 0
        if limit and c.memory_reservation > limit:
            raise InvalidArgument(
                "Minimum memory limit can not be less than memory reservation limit, see usage"
            )
        new["memory_reservation"] = res["memory_reservation"] = c.memory_reservation
    if c.pids_limit is not None:
        new["pids_limit"] = c.pids_limit if c.pids_limit > 0 else 0
        res["pids_limit"] = c.pids_limit if c.pids_limit > 0 else -1
    if c.restart:
        from dockyard.runtime.spec import parse_restart

        policy, retries = parse_restart(c.restart)
        if doc.get("auto_remove") and policy != "no":
            raise Conflict(
                "Restart policy cannot be updated because AutoRemove is enabled for the container"
            )
        new["restart"], new["restart_max"] = policy, retries
    return new, Resources(**res)


def previous(doc: dict, res) -> object:
    """The `Resources` that put back what `res` changes, from the old spec object (used
    when writing `res` into the live cgroup failed half-way)."""
    from dockyard.linux.cgroups.base import Resources

    back: dict = {}
    if res.cpu_shares is not None:
        back["cpu_shares"] = doc.get("cpu_shares") or 1024
    if res.cpu_quota is not None or res.cpu_period is not None:
        back["cpu_quota"] = doc.get("cpu_quota") or -1
        back["cpu_period"] = doc.get("cpu_period") or CFS_PERIOD
    if res.memory is not None or res.memory_swap is not None:
        back["memory"] = doc.get("memory") or -1
        back["memory_swap"] = doc.get("memory_swap") or -1
    if res.pids_limit is not None:
        back["pids_limit"] = doc.get("pids_limit") or -1
    return Resources(**back)


def host_config(spec_json: str) -> dict:
    """inspect's HostConfig resource fields that `docker update` can change beyond the
    spec's own: NanoCpus apart from a raw CFS quota/period, CpusetMems, MemoryReservation."""
    from dockyard import fastjson

    doc = fastjson.loads(spec_json)
    nano = nano_cpus(doc)
    ex = extras(doc)
    return {
        "NanoCpus": nano,
        "CpuPeriod": 0 if nano else doc.get("cpu_period") or 0,
        "CpuQuota": 0 if nano else doc.get("cpu_quota") or 0,
        "CpusetMems": ex.cpuset_mems,
        "MemoryReservation": ex.memory_reservation,
    }
