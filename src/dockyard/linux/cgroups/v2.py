"""The cgroup v2 driver: one unified hierarchy, controllers enabled down the tree."""

import os

from dockyard.linux.cgroups.base import (
    CgroupDriver,
    Resources,
    Stats,
    check_name,
    parse_io_stat,
    read,
    read_int,
    read_keyed,
    read_pids,
    read_text,
    write,
)

_WANTED = ("cpu", "cpuset", "memory", "pids", "io")


def shares_to_weight(shares: int) -> int:
    """v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000], as runc converts it."""
    if shares <= 0:
        return 100
    shares = min(max(shares, 2), 262144)
    return 1 + ((shares - 2) * 9999) // 262142


class V2Driver(CgroupDriver):
    version = 2

    def __init__(self, root: str = "/sys/fs/cgroup"):
        self.root = root

    def _dirs(self, name: str) -> list[str]:
        return [self._dir(name)]

    def _dir(self, name: str) -> str:
        return os.path.join(self.root, check_name(name))

    def _has(self, name: str, controller: str) -> bool:
        try:
            return controller in read(os.path.join(self._dir(name), "cgroup.controllers")).split()
        except FileNotFoundError:
            return False

    def _need(self, name: str, controller: str) -> str:
        from dockyard.errors import Unsupported

        if not self._has(name, controller):
            raise Unsupported(f"cgroup v2 controller {controller} is not available for {name}")
        return self._dir(name)

    def exists(self, name: str) -> bool:
        return os.path.isdir(self._dir(name))

    def create(self, name: str) -> None:
        from dockyard.errors import AlreadyExists

        leaf = self._dir(name)
        if os.path.isdir(leaf):
            raise AlreadyExists(f"cgroup {name} already exists")
        cur = self.root
        for part in name.split("/"):
            _enable_controllers(cur)
            cur = os.path.join(cur, part)
            try:
                os.mkdir(cur, 0o755)
            except FileExistsError:
                pass

    def set(self, name: str, res: Resources) -> None:

        if res.devices is not None:
            from dockyard.linux.cgroups.devices_bpf import attach

            attach(self._dir(name), res.devices)
        if res.memory is not None:
            d = self._need(name, "memory")
            write(os.path.join(d, "memory.max"), _max(res.memory))
        if res.memory_swap is not None:
            d = self._need(name, "memory")
            if res.memory_swap < 0:
                swap = "max"
            else:
                # v2 limits swap alone; Docker's value is memory + swap.
                swap = str(max(res.memory_swap - (res.memory or 0), 0))
            write(os.path.join(d, "memory.swap.max"), swap)
        if res.memory_reservation is not None:
            d = self._need(name, "memory")
            low = res.memory_reservation if res.memory_reservation > 0 else 0
            write(os.path.join(d, "memory.low"), str(low))  # runc maps the soft limit here
        if res.cpu_quota is not None or res.cpu_period is not None:
            d = self._need(name, "cpu")
            quota = "max" if res.cpu_quota is None or res.cpu_quota < 0 else str(res.cpu_quota)
            period = res.cpu_period or 100000
            write(os.path.join(d, "cpu.max"), f"{quota} {period}")
        if res.cpu_shares is not None:
            d = self._need(name, "cpu")
            write(os.path.join(d, "cpu.weight"), str(shares_to_weight(res.cpu_shares)))
        if res.cpuset_cpus is not None:
            write(os.path.join(self._need(name, "cpuset"), "cpuset.cpus"), res.cpuset_cpus)
        if res.cpuset_mems is not None:
            write(os.path.join(self._need(name, "cpuset"), "cpuset.mems"), res.cpuset_mems)
        if res.pids_limit is not None:
            d = self._need(name, "pids")
            write(
                os.path.join(d, "pids.max"), "max" if res.pids_limit <= 0 else str(res.pids_limit)
            )

    def open_dir(self, name: str) -> int:
        """An fd of the cgroup directory, for clone3(CLONE_INTO_CGROUP): the cheapest join."""
        return os.open(self._dir(name), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def join_paths(self, name: str) -> list[str]:
        return [os.path.join(self._dir(name), "cgroup.procs")]

    def pids(self, name: str) -> list[int]:
        return read_pids(os.path.join(self._dir(name), "cgroup.procs"))

    def freeze(self, name: str, timeout: float = 5.0) -> None:
        import time

        from dockyard.errors import Unavailable

        d = self._dir(name)
        write(os.path.join(d, "cgroup.freeze"), "1")
        deadline = time.monotonic() + timeout
        while read_keyed(os.path.join(d, "cgroup.events")).get("frozen") != 1:
            if time.monotonic() > deadline:
                write(os.path.join(d, "cgroup.freeze"), "0")
                raise Unavailable(f"cgroup {name} did not freeze within {timeout}s")
            time.sleep(0.001)

    def thaw(self, name: str) -> None:
        write(os.path.join(self._dir(name), "cgroup.freeze"), "0")

    def frozen(self, name: str) -> bool:
        return read_keyed(os.path.join(self._dir(name), "cgroup.events")).get("frozen") == 1

    def stats(self, name: str) -> Stats:
        """Counters from the controllers enabled here; zeros for the others."""
        d = self._dir(name)
        cpu = read_keyed(os.path.join(d, "cpu.stat"))
        pids_file = os.path.join(d, "pids.current")
        io_read, io_write = parse_io_stat(read_text(os.path.join(d, "io.stat")))
        return Stats(
            memory_usage=read_int(os.path.join(d, "memory.current")),
            memory_limit=read_int(os.path.join(d, "memory.max")),
            cpu_usage_ns=cpu.get("usage_usec", 0) * 1000,
            pids=read_int(pids_file) if os.path.exists(pids_file) else len(self.pids(name)),
            memory_inactive_file=read_keyed(os.path.join(d, "memory.stat")).get("inactive_file", 0),
            io_read=io_read,
            io_write=io_write,
        )

    def oom_kills(self, name: str) -> int:
        return read_keyed(os.path.join(self._dir(name), "memory.events")).get("oom_kill", 0)

    def kill(self, name: str, sig: int = 9) -> None:
        d = self._dir(name)
        if sig == 9 and os.path.exists(os.path.join(d, "cgroup.kill")):
            write(os.path.join(d, "cgroup.kill"), "1")
            return
        self.freeze(name)
        try:
            for pid in self.pids(name):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        finally:
            self.thaw(name)


def _max(v: int) -> str:
    return "max" if v < 0 else str(v)


def _enable_controllers(d: str) -> None:
    """Enable the wanted controllers this level offers for its children."""
    try:
        offered = set(read(os.path.join(d, "cgroup.controllers")).split())
        enabled = set(read(os.path.join(d, "cgroup.subtree_control")).split())
    except FileNotFoundError:
        return
    missing = [c for c in _WANTED if c in offered and c not in enabled]
    if missing:
        write(os.path.join(d, "cgroup.subtree_control"), " ".join("+" + c for c in missing))
