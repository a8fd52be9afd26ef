"""What the stats and update tests share: the CLI runner with busybox imported, a check
that no container, mount or cgroup is left behind, and the path of a container's cgroup
file on whichever hierarchy holds the controller."""

import os
import time

from dockyard.linux import cgroups


def dockyard_cgroups() -> set[str]:
    out = set()
    for base in ("/sys/fs/cgroup/pids/dockyard", "/sys/fs/cgroup/memory/dockyard",
                 "/sys/fs/cgroup/dockyard", "/sys/fs/cgroup/unified/dockyard"):  # fmt: skip
        if os.path.isdir(base):
            out.update(n for n in os.listdir(base) if len(n) == 64)
    return out


def cli_with_busybox(dy, busybox_tar):
    """The body of each test module's `d` fixture: `dy` with busybox imported."""
    before = dockyard_cgroups()
    dy("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    yield dy
    ids = dy.out("ps", "-aq", "--no-trunc").split()
    if ids:
        dy("rm", "-f", *ids, check=False)
    assert dy.out("ps", "-aq") == ""
    # only this test's containers: other data roots on the host may be running their own
    ours = set(ids)
    deadline = time.time() + 10
    while (dockyard_cgroups() - before) & ours and time.time() < deadline:
        time.sleep(0.05)
    with open("/proc/self/mountinfo") as f:
        assert [ln for ln in f if str(dy.root) in ln] == [], "mounts leaked onto the host"
    assert (dockyard_cgroups() - before) & ours == set(), "cgroups leaked"


def cgroup_file(cid: str, controller: str, v1_name: str, v2_name: str) -> str:
    """The text of a container's cgroup file, v1 or v2 as this host keeps `controller`."""
    driver = cgroups.detect()
    if driver.version == 1:
        path = os.path.join(driver.mounts[controller], "dockyard", cid, v1_name)
    else:
        path = os.path.join(driver.root, "dockyard", cid, v2_name)
    with open(path) as f:
        return f.read().strip()


def wait_for(cond, what: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def one_line_error(p, status=1) -> str:
    err = p.stderr.decode()
    assert p.returncode == status, (p.returncode, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")
