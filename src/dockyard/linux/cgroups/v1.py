"""The cgroup v1 driver: one directory per controller hierarchy.

Joining from the child itself by writing "0" to each hierarchy's `tasks` file is the fast
path (~0.1 ms); a parent writing the pid to `cgroup.procs` waits for an RCU grace period
(~12 ms here), so `join_paths` returns the `tasks` files.
"""

import os

from dockyard.linux.cgroups.base import (
    CgroupDriver,
    Resources,
    Stats,
    check_name,
    parse_blkio_v1,
    read,
    read_int,
    read_keyed,
    read_pids,
    read_text,
    write,
)

_UNLIMITED_V1 = 1 << 62  # v1 reports "no limit" as a page-rounded LONG_MAX


class V1Driver(CgroupDriver):
    version = 1

    def __init__(self, mounts: dict[str, str]):
        """`mounts`: controller name -> mount point, as `base.read_mounts` finds them."""
        self.mounts = dict(mounts)

    def restricted(self, controllers: tuple[str, ...]) -> "V1Driver":
        return V1Driver({c: m for c, m in self.mounts.items() if c in controllers})

    def _dirs(self, name: str) -> list[str]:
        check_name(name)
        seen: list[str] = []
        for point in self.mounts.values():
            d = os.path.join(point, name)
            if d not in seen:
                seen.append(d)
        return seen

    def _dir(self, controller: str, name: str) -> str:
        from dockyard.errors import Unsupported

        point = self.mounts.get(controller)
        if point is None:
            raise Unsupported(f"cgroup v1 controller {controller} is not mounted")
        return os.path.join(point, check_name(name))

    def exists(self, name: str) -> bool:
        return any(os.path.isdir(d) for d in self._dirs(name))

    def create(self, name: str) -> None:
        from dockyard.errors import AlreadyExists

        if self.exists(name):
            raise AlreadyExists(f"cgroup {name} already exists")
        cpuset = self.mounts.get("cpuset")
        for point in dict.fromkeys(self.mounts.values()):
            cur = point
            for part in name.split("/"):
                parent, cur = cur, os.path.join(cur, part)
                try:
                    os.mkdir(cur, 0o755)
                except FileExistsError:
                    continue
                if point == cpuset:
                    _inherit_cpuset(parent, cur)

    def set(self, name: str, res: Resources) -> None:
        if res.devices is not None:
            d = self._dir("devices", name)
            write(os.path.join(d, "devices.deny"), "a")
            for rule in res.devices:
                write(os.path.join(d, "devices.allow"), rule)
        if res.memory is not None or res.memory_swap is not None:
            self._set_memory(self._dir("memory", name), res.memory, res.memory_swap)
        if res.memory_reservation is not None:
            value = str(res.memory_reservation) if res.memory_reservation > 0 else "-1"
            write(os.path.join(self._dir("memory", name), "memory.soft_limit_in_bytes"), value)
        if res.cpu_period is not None or res.cpu_quota is not None or res.cpu_shares is not None:
            d = self._dir("cpu", name)
            if res.cpu_period is not None:
                write(os.path.join(d, "cpu.cfs_period_us"), str(res.cpu_period))
            if res.cpu_quota is not None:
                write(os.path.join(d, "cpu.cfs_quota_us"), str(res.cpu_quota))
            if res.cpu_shares is not None:
                write(os.path.join(d, "cpu.shares"), str(res.cpu_shares))
        if res.cpuset_cpus is not None:
            write(os.path.join(self._dir("cpuset", name), "cpuset.cpus"), res.cpuset_cpus)
        if res.cpuset_mems is not None:
            write(os.path.join(self._dir("cpuset", name), "cpuset.mems"), res.cpuset_mems)
        if res.pids_limit is not None:
            value = "max" if res.pids_limit <= 0 else str(res.pids_limit)
            write(os.path.join(self._dir("pids", name), "pids.max"), value)

    def _set_memory(self, d: str, memory: int | None, swap: int | None) -> None:
        from dockyard.errors import InvalidArgument

        mem_file = os.path.join(d, "memory.limit_in_bytes")
        sw_file = os.path.join(d, "memory.memsw.limit_in_bytes")
        writes = []
        if memory is not None:
            writes.append((mem_file, str(memory)))
        if swap is not None and os.path.exists(sw_file):
            writes.append((sw_file, str(swap)))
        # The kernel keeps memsw >= memory at every step: try one order, then the other.
        try:
            for path, value in writes:
                write(path, value)
        except InvalidArgument:
            for path, value in reversed(writes):
                write(path, value)

    def join_paths(self, name: str) -> list[str]:
        return [os.path.join(d, "tasks") for d in self._dirs(name)]

    def _procs_dir(self, name: str) -> str:
        for c in ("pids", "freezer", "memory", "cpu"):
            if c in self.mounts:
                return self._dir(c, name)
        return self._dirs(name)[0]

    def pids(self, name: str) -> list[int]:
        return read_pids(os.path.join(self._procs_dir(name), "cgroup.procs"))

    def freeze(self, name: str, timeout: float = 5.0) -> None:
        import time

        from dockyard.errors import Unavailable

        state = os.path.join(self._dir("freezer", name), "freezer.state")
        deadline = time.monotonic() + timeout
        while True:
            write(state, "FROZEN")
            if read(state).strip() == "FROZEN":
                return
            if time.monotonic() > deadline:
                write(state, "THAWED")
                raise Unavailable(f"cgroup {name} did not freeze within {timeout}s")
            time.sleep(0.001)

    def thaw(self, name: str) -> None:
        write(os.path.join(self._dir("freezer", name), "freezer.state"), "THAWED")

    def frozen(self, name: str) -> bool:
        return read(os.path.join(self._dir("freezer", name), "freezer.state")).strip() == "FROZEN"

    def stats(self, name: str) -> Stats:
        """Counters from each controller that is mounted; zeros for the others."""
        has = self.mounts.__contains__
        mem = self._dir("memory", name) if has("memory") else ""
        limit = read_int(os.path.join(mem, "memory.limit_in_bytes")) if mem else 0
        inactive = (
            read_keyed(os.path.join(mem, "memory.stat")).get("total_inactive_file", 0) if mem else 0
        )
        acct = self._dir("cpuacct", name) if has("cpuacct") else ""
        pids_dir = self._dir("pids", name) if has("pids") else ""
        io_read = io_write = 0
        if has("blkio"):
            blk = self._dir("blkio", name)
            # runc's order: the BFQ and CFQ schedulers' counters, else the throttle layer's
            for prefix in ("blkio.bfq.", "blkio.", "blkio.throttle."):
                text = read_text(os.path.join(blk, prefix + "io_service_bytes_recursive"))
                if any(len(line.split()) == 3 for line in text.splitlines()):
                    io_read, io_write = parse_blkio_v1(text)
                    break
        return Stats(
            memory_usage=read_int(os.path.join(mem, "memory.usage_in_bytes")) if mem else 0,
            memory_limit=0 if limit >= _UNLIMITED_V1 else limit,
            cpu_usage_ns=read_int(os.path.join(acct, "cpuacct.usage")) if acct else 0,
            pids=read_int(os.path.join(pids_dir, "pids.current"))
            if pids_dir
            else len(self.pids(name)),
            memory_inactive_file=inactive,
            io_read=io_read,
            io_write=io_write,
        )

    def oom_kills(self, name: str) -> int:
        return read_keyed(os.path.join(self._dir("memory", name), "memory.oom_control")).get(
            "oom_kill", 0
        )

    def kill(self, name: str, sig: int = 9) -> None:
        can_freeze = "freezer" in self.mounts
        if can_freeze:
            self.freeze(name)
        try:
            for pid in self.pids(name):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        finally:
            if can_freeze:
                self.thaw(name)


def _inherit_cpuset(parent: str, child: str) -> None:
    # A new v1 cpuset is empty and refuses tasks until cpus and mems are set.
    for f in ("cpuset.cpus", "cpuset.mems"):
        path = os.path.join(child, f)
        if not read(path).strip():
            write(path, read(os.path.join(parent, f)).strip())
