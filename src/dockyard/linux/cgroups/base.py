"""The cgroup driver interface, the typed limits and stats, and small file helpers."""

import os

from dockyard.record import Record

# Docker's device cgroup allow-list (v1 devices.allow lines) after denying everything.
DEFAULT_DEVICE_RULES = (
    "c *:* m",
    "b *:* m",
    "c 1:3 rwm",  # null
    "c 1:5 rwm",  # zero
    "c 1:7 rwm",  # full
    "c 1:8 rwm",  # random
    "c 1:9 rwm",  # urandom
    "c 5:0 rwm",  # tty
    "c 5:1 rwm",  # console
    "c 5:2 rwm",  # ptmx
    "c 136:* rwm",  # pts
)


class Resources(Record):
    """Limits to set; None leaves the kernel's value. -1 means unlimited where allowed."""

    memory: int | None = None  # bytes
    memory_swap: int | None = None  # memory + swap, bytes (Docker's --memory-swap), -1 unlimited
    cpu_quota: int | None = None  # microseconds per period, -1 unlimited
    cpu_period: int | None = None  # microseconds
    cpu_shares: int | None = None  # v1 shares; v2 converts to cpu.weight
    cpuset_cpus: str | None = None  # "0-1,3"
    cpuset_mems: str | None = None
    pids_limit: int | None = None  # <= 0: unlimited (Docker)
    memory_reservation: int | None = None  # soft limit, bytes; -1 or 0 removes it
    devices: tuple[str, ...] | None = None  # v1 allow rules after "deny a"; None: untouched


class Stats(Record):
    """One reading of a cgroup's counters, as `docker stats` needs them."""

    memory_usage: int  # bytes charged, page cache included
    memory_limit: int  # bytes; 0 when unlimited
    cpu_usage_ns: int
    pids: int
    memory_inactive_file: int = 0  # v1 total_inactive_file, v2 inactive_file (Docker subtracts it)
    io_read: int = 0  # bytes read from block devices
    io_write: int = 0  # bytes written to block devices


class CgroupDriver:
    """What the runtime drives; `V1Driver` and `V2Driver` implement it."""

    version: int = 0

    def restricted(self, controllers: tuple[str, ...]) -> "CgroupDriver":
        """A driver for cgroups in only these controllers' hierarchies (cgroup v1, where
        each is a directory to make and remove); v2's one hierarchy: this driver."""
        return self

    def create(self, name: str) -> None:
        """Create the cgroup (and missing parents). AlreadyExists if it exists."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def set(self, name: str, res: Resources) -> None:
        raise NotImplementedError

    def join_paths(self, name: str) -> list[str]:
        """Files a process writes "0" to, to join the cgroup itself (the fast child-side join)."""
        raise NotImplementedError

    def join(self, name: str, pid: int = 0) -> None:
        """Move `pid` (0: the caller) into the cgroup."""
        for path in self.join_paths(name):
            write(path, str(pid))

    def pids(self, name: str) -> list[int]:
        raise NotImplementedError

    def freeze(self, name: str, timeout: float = 5.0) -> None:
        raise NotImplementedError

    def thaw(self, name: str) -> None:
        raise NotImplementedError

    def frozen(self, name: str) -> bool:
        raise NotImplementedError

    def stats(self, name: str) -> Stats:
        raise NotImplementedError

    def oom_kills(self, name: str) -> int:
        """How many processes the OOM killer killed in this cgroup."""
        raise NotImplementedError

    def kill(self, name: str, sig: int = 9) -> None:
        """Signal every process in the cgroup, including ones forked meanwhile."""
        raise NotImplementedError

    def children(self, name: str) -> list[str]:
        """The names of the cgroups right under `name` ([] when it does not exist)."""
        try:
            return [e.name for e in os.scandir(self._dirs(name)[0]) if e.is_dir()]
        except FileNotFoundError:
            return []

    def rename(self, old: str, new: str) -> None:
        """Give the cgroup `old` the name `new` (same parent) in every hierarchy."""
        for a, b in zip(self._dirs(old), self._dirs(new), strict=True):
            os.rename(a, b)

    def remove(self, name: str, timeout: float = 5.0) -> None:
        """Kill what is left and rmdir, retrying while tasks exit. No error if already gone.

        Another process may be removing the same cgroup: its files then vanish (ENOENT) or
        answer ENODEV while the kernel tears it down, and rmdir answers EBUSY until the
        killed tasks have left. Those are retried until `timeout`, then reported."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                if not self.exists(name):
                    return
                if not self.pids(name):
                    break
                self.kill(name, 9)
            except Exception as e:
                if not _racing(e):
                    raise
            if time.monotonic() > deadline:
                break
            time.sleep(0.002)
        rmdir_retry(self._dirs(name), max(deadline - time.monotonic(), 0.1))

    def _dirs(self, name: str) -> list[str]:
        """Every directory that makes up the cgroup (one per hierarchy), for `remove`."""
        raise NotImplementedError


def _racing(e: BaseException) -> bool:
    """Is `e` what a cgroup being removed by someone else answers?"""
    import errno

    from dockyard.errors import Unsupported

    if isinstance(e, Unsupported):  # `write` found a control file gone
        return True
    return isinstance(e, OSError) and e.errno in (errno.ENOENT, errno.ENODEV)


def check_name(name: str) -> str:
    """A relative cgroup path with no empty, '.' or '..' parts."""
    from dockyard.errors import InvalidArgument

    parts = name.split("/")
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidArgument(f"invalid cgroup name {name!r}")
    return name


def write(path: str, value: str) -> None:
    """Write one value to a cgroup file; EINVAL/ERANGE become InvalidArgument naming the file."""
    import errno

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        from dockyard.errors import Unsupported

        raise Unsupported(f"cgroup file {os.path.basename(path)} is not available")
    try:
        os.write(fd, value.encode())
    except OSError as e:
        if e.errno in (errno.EINVAL, errno.ERANGE, errno.EOVERFLOW):
            from dockyard.errors import InvalidArgument

            raise InvalidArgument(f"{os.path.basename(path)}: invalid value {value!r}")
        if e.errno == errno.EBUSY:
            # e.g. a memory limit below what the cgroup uses and cannot reclaim
            from dockyard.errors import FailedPrecondition

            raise FailedPrecondition(
                f"{os.path.basename(path)}: cannot set {value}: device or resource busy"
            )
        raise
    finally:
        os.close(fd)


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def read_int(path: str, default: int = 0) -> int:
    """An integer file; `default` when missing, gone or "max"."""
    s = read_text(path).strip()
    return default if s in ("max", "") else int(s)


def read_keyed(path: str) -> dict[str, int]:
    """A flat-keyed file ("key value" per line) such as memory.events or cpu.stat."""
    out = {}
    for line in read_text(path).splitlines():
        k, _, v = line.partition(" ")
        if v.strip().lstrip("-").isdigit():
            out[k] = int(v)
    return out


def parse_blkio_v1(text: str) -> tuple[int, int]:
    """(read, write) bytes from a v1 blkio.*io_service_bytes_recursive file: "MAJ:MIN Op N"
    lines, summed over devices the way the docker CLI sums them (ops starting r / w)."""
    rd = wr = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or not parts[2].isdigit():
            continue  # the closing "Total N"
        op = parts[1][:1]
        if op in ("r", "R"):
            rd += int(parts[2])
        elif op in ("w", "W"):
            wr += int(parts[2])
    return rd, wr


def parse_io_stat(text: str) -> tuple[int, int]:
    """(read, write) bytes from a v2 io.stat file: "MAJ:MIN rbytes=N wbytes=N ..." lines."""
    rd = wr = 0
    for line in text.splitlines():
        for field in line.split()[1:]:
            key, _, value = field.partition("=")
            if key == "rbytes" and value.isdigit():
                rd += int(value)
            elif key == "wbytes" and value.isdigit():
                wr += int(value)
    return rd, wr


def read_text(path: str) -> str:
    """A stats file's text; "" when it is missing (controller absent, cgroup gone)."""
    import errno

    try:
        return read(path)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENODEV):
            return ""
        raise


def read_pids(path: str) -> list[int]:
    """The pids in a cgroup.procs/tasks file; none when the cgroup is gone or going."""
    import errno

    try:
        return [int(x) for x in read(path).split()]
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENODEV):
            return []
        raise


def host_memory(meminfo: str = "/proc/meminfo") -> int:
    """The host's MemTotal in bytes (Docker caps a container's reported limit at it)."""
    with open(meminfo) as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def read_mounts(mountinfo: str = "/proc/self/mountinfo") -> tuple[dict[str, str], str]:
    """({v1 controller: mount point}, v2 mount point or "") from a mountinfo file."""
    v1: dict[str, str] = {}
    v2 = ""
    with open(mountinfo) as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fields, extra = pre.split(), post.split()
            if len(fields) < 5 or len(extra) < 3:
                continue
            point = fields[4].replace("\\040", " ")
            if extra[0] == "cgroup2" and not v2:
                v2 = point
            elif extra[0] == "cgroup":
                for opt in extra[2].split(","):
                    if opt in _V1_CONTROLLERS:
                        v1.setdefault(opt, point)
    return v1, v2


_V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio")


def rmdir_retry(paths: list[str], timeout: float) -> None:
    """rmdir each path, retrying on EBUSY (tasks still exiting) and ENODEV (the kernel is
    tearing it down) until `timeout`; then FailedPrecondition naming the tasks left.

    A cgroup with child cgroups is refused at once: waiting would not help.
    """
    import errno
    import time

    from dockyard.errors import FailedPrecondition

    for path in paths:
        try:
            if any(e.is_dir(follow_symlinks=False) for e in os.scandir(path)):
                raise FailedPrecondition(f"cannot remove cgroup {path}: it has child cgroups")
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.ENODEV):
                raise
    deadline = time.monotonic() + timeout
    for path in paths:
        delay = 0.001
        while True:
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno not in (errno.EBUSY, errno.ENODEV) or time.monotonic() > deadline:
                    left = (
                        read_pids(os.path.join(path, "cgroup.procs"))
                        if e.errno == errno.EBUSY
                        else []
                    )
                    more = f" (tasks left: {' '.join(map(str, left[:8]))})" if left else ""
                    raise FailedPrecondition(
                        f"cannot remove cgroup {path}: {e.strerror}{more}"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
