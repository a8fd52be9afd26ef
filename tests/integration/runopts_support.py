"""What the run-option tests (health, logging, init, add-host) share (not a test module):
the CLI fixture's body — busybox imported, and afterwards every container removed and no
mount, cgroup or health monitor left behind — and small waits."""

import json
import os
import time

from cgroup_cli_support import dockyard_cgroups


def monitors(root) -> list[int]:
    """Pids of health monitors running for the data root `root` (not counting a probe's
    process forked from one, which has its command line until it enters the container)."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"dockyard.runtime.healthmonitor" in argv and str(root).encode() in argv:
            found[int(pid)] = ppid
    return sorted(pid for pid, ppid in found.items() if ppid not in found)


def busybox_cli(dy, busybox_tar, changes=('CMD ["sh"]',)):
    """The body of a `d` fixture: yields `dy` with busybox:latest imported."""
    before = dockyard_cgroups()
    args = []
    for c in changes:
        args += ["-c", c]
    dy("import", *args, str(busybox_tar), "busybox:latest")
    yield dy
    ids = dy.out("ps", "-aq", "--no-trunc").split()
    cdir = os.path.join(str(dy.root), "containers")
    mine = set(ids) | set(os.listdir(cdir) if os.path.isdir(cdir) else ())
    if ids:
        dy("rm", "-f", *ids, check=False)
    assert dy.out("ps", "-aq") == ""

    def leaked() -> set[str]:  # other data roots on this host may have containers running
        return (dockyard_cgroups() - before) & mine

    deadline = time.time() + 10
    while (leaked() or monitors(dy.root)) and time.time() < deadline:
        time.sleep(0.05)  # finishers and monitors leave after the exit
    with open("/proc/self/mountinfo") as f:
        assert [ln for ln in f if str(dy.root) in ln] == [], "mounts leaked onto the host"
    assert leaked() == set(), "cgroups leaked"
    assert monitors(dy.root) == [], "health monitors left running"


def inspect(d, name: str) -> dict:
    return json.loads(d.out("inspect", name))[0]


def wait_until(what, timeout: float = 20, step: float = 0.05):
    """Poll `what()` until it returns something true; that value."""
    deadline = time.time() + timeout
    while True:
        value = what()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(step)


def one_line_error(p, status: int) -> str:
    err = p.stderr.decode()
    assert p.returncode == status, (p.returncode, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")
