"""An in-process `CgroupDriver` for unit tests of the layers above: it keeps cgroups,
limits, members and the frozen flag in memory and obeys the same contract (the shared
suite in tests/integration/test_linux_cgroup_contract.py runs against it too)."""

import os

from dockyard.linux.cgroups.base import CgroupDriver, Resources, Stats, check_name


class FakeDriver(CgroupDriver):
    version = 0

    def __init__(self) -> None:
        self.groups: dict[str, dict] = {}

    def _get(self, name: str) -> dict:
        from dockyard.errors import NotFound

        check_name(name)
        if name not in self.groups:
            raise NotFound(f"cgroup {name} does not exist")
        return self.groups[name]

    def exists(self, name: str) -> bool:
        return check_name(name) in self.groups

    def create(self, name: str) -> None:
        from dockyard.errors import AlreadyExists

        if self.exists(name):
            raise AlreadyExists(f"cgroup {name} already exists")
        parts = name.split("/")
        for i in range(1, len(parts) + 1):
            self.groups.setdefault(
                "/".join(parts[:i]),
                {"res": Resources(), "pids": [], "frozen": False, "oom": 0},
            )

    def set(self, name: str, res: Resources) -> None:
        g = self._get(name)
        old = g["res"]
        merged = {f: getattr(res, f) for f in res._fields}
        g["res"] = Resources(
            **{f: (v if v is not None else getattr(old, f)) for f, v in merged.items()}
        )

    def resources(self, name: str) -> Resources:
        """What was set (fake only): lets tests check what the runtime asked for."""
        return self._get(name)["res"]

    def join_paths(self, name: str) -> list[str]:
        self._get(name)
        return []

    def join(self, name: str, pid: int = 0) -> None:
        self._get(name)["pids"].append(pid or os.getpid())

    def pids(self, name: str) -> list[int]:
        return list(self._get(name)["pids"])

    def freeze(self, name: str, timeout: float = 5.0) -> None:
        self._get(name)["frozen"] = True

    def thaw(self, name: str) -> None:
        self._get(name)["frozen"] = False

    def frozen(self, name: str) -> bool:
        return self._get(name)["frozen"]

    def stats(self, name: str) -> Stats:
        g = self._get(name)
        limit = g["res"].memory
        return Stats(0, limit if limit and limit > 0 else 0, 0, len(g["pids"]))

    def oom_kills(self, name: str) -> int:
        return self._get(name)["oom"]

    def record_oom_kill(self, name: str) -> None:
        """Simulate the kernel's OOM killer (fake only)."""
        g = self._get(name)
        g["oom"] += 1
        if g["pids"]:
            g["pids"].pop()

    def kill(self, name: str, sig: int = 9) -> None:
        if sig == 9:
            self._get(name)["pids"].clear()

    def remove(self, name: str, timeout: float = 5.0) -> None:
        from dockyard.errors import FailedPrecondition

        if not self.exists(name):
            return
        if any(g.startswith(name + "/") for g in self.groups):
            raise FailedPrecondition(f"cannot remove cgroup {name}: it has child cgroups")
        del self.groups[name]
