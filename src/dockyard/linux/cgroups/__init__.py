"""Cgroups: one `CgroupDriver` interface, a v1 and a v2 implementation, and `detect()`.

Cgroups are named by a relative path such as "dockyard/<id>" (the runtime stores just
that string); each driver maps it onto its hierarchy or hierarchies. Docker flag parsing
into limit values lives in `flags` (pure).
"""


def detect(mountinfo: str = "/proc/self/mountinfo"):
    """The driver for this host: v1 when any v1 controller hierarchy is mounted (hybrid hosts
    keep their controllers there), v2 when the unified hierarchy is the only one."""
    from dockyard.errors import Unavailable
    from dockyard.linux.cgroups.base import read_mounts

    v1, v2 = read_mounts(mountinfo)
    if v1:
        from dockyard.linux.cgroups.v1 import V1Driver

        return V1Driver(v1)
    if v2:
        from dockyard.linux.cgroups.v2 import V2Driver

        return V2Driver(v2)
    raise Unavailable("no cgroup hierarchy is mounted")
