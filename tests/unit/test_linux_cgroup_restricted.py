"""A driver restricted to some controllers makes, joins and removes only their directories
(cgroup v1); on v2 there is one hierarchy and nothing to restrict."""

from dockyard.linux.cgroups.v1 import V1Driver
from dockyard.linux.cgroups.v2 import V2Driver

MOUNTS = {c: f"/sys/fs/cgroup/{c}" for c in ("cpu", "memory", "devices", "pids", "freezer")}


def test_v1_restricted_driver_touches_only_those_hierarchies():
    d = V1Driver(MOUNTS).restricted(("devices", "pids"))
    assert d.join_paths("dockyard-build/x") == [
        "/sys/fs/cgroup/devices/dockyard-build/x/tasks",
        "/sys/fs/cgroup/pids/dockyard-build/x/tasks",
    ]
    assert V1Driver(MOUNTS).restricted(("pids", "nope")).mounts == {"pids": MOUNTS["pids"]}


def test_v2_driver_is_its_own_restriction():
    d = V2Driver.__new__(V2Driver)
    assert d.restricted(("devices", "pids")) is d
