"""A container's cgroup made before its container exists, by a supervisor forked ahead.

Making a cgroup on v1 costs ~0.9 ms here (a directory in each hierarchy, then Docker's
device rules one write at a time). A supervisor forked ahead (`launch.prefork`) has that
time to spare while its client creates the container, so it makes one under a name of its
own, `dockyard/.pending-<pid>-<start time>`, with the device rules every unprivileged
container gets; once the plan names the container, `take` renames it (one rename per
hierarchy) and sets what the container's spec adds. The start then no longer waits for it.

A supervisor that gets no plan removes its cgroup (`drop`); one killed first leaves it to
the next supervisor, which sweeps every pending cgroup whose process is gone (`make`).

Making one still costs a supervisor ~1 ms of its warm-up, which is as long as its client's
share of the start. So each container's teardown, off every start's path, leaves a fresh
one behind for the next supervisor (`restock`: at most one waits, `.spare-<pid>-<start>`),
and `make` claims it by renaming it to its pending name: the rename in the first
hierarchy decides between two claimants. A spare is never a used cgroup: a used one carries
its container's counters (OOM kills, CPU time, memory peak).
"""

import os

PARENT = "dockyard"
_PREFIX = ".pending-"
_SPARE = ".spare-"


def make(driver) -> str:
    """A pending cgroup for this process, after sweeping those of dead ones; "" when it
    cannot be made (the start makes the cgroup itself then)."""
    from dockyard.linux.cgroups.base import DEFAULT_DEVICE_RULES, Resources
    from dockyard.runtime.exitfile import proc_start_time

    names = _sweep(driver)
    me = os.getpid()
    name = f"{PARENT}/{_PREFIX}{me}-{proc_start_time(me)}"
    for n in names:
        if n.startswith(_SPARE) and _claim(driver, f"{PARENT}/{n}", name):
            return name
    try:
        driver.create(name)
        driver.set(name, Resources(devices=DEFAULT_DEVICE_RULES))
    except Exception:
        drop(driver, name)
        return ""
    return name


def take(driver, pending: str, final: str, res) -> tuple[str, ...]:
    """Rename `pending` to `final` and set `res` (launch.resources) on it; the files the init
    joins. On failure the pending cgroup is gone and the error raised."""
    from dockyard.linux.cgroups.base import DEFAULT_DEVICE_RULES

    if res.devices == DEFAULT_DEVICE_RULES:
        res = res.replace(devices=None)  # set when it was made
    elif res.devices is None:
        res = res.replace(devices=("a *:* rwm",))  # privileged: every device again
    try:
        if driver.exists(final):
            driver.remove(final)  # left over from a crashed run
        driver.rename(pending, final)
    except BaseException:
        drop(driver, pending)
        raise
    try:
        driver.set(final, res)
    except BaseException:
        driver.remove(final)
        raise
    return tuple(driver.join_paths(final))


def _claim(driver, spare: str, name: str) -> bool:
    try:
        driver.rename(spare, name)
        return True
    except OSError:
        # lost in the first hierarchy (another claimant's now), or a spare whose maker died
        # half-way: what is left of it goes
        if driver.exists(name):
            drop(driver, name)
            drop(driver, spare)
        return False


def restock(driver) -> None:
    """Leave a fresh cgroup for the next supervisor to claim, unless one waits already
    (cgroup v1 only, where cgroups are made ahead). Quiet: it only saves time."""
    from dockyard.linux.cgroups.base import DEFAULT_DEVICE_RULES, Resources
    from dockyard.runtime.exitfile import proc_start_time

    if driver.version != 1:
        return
    try:
        if any(n.startswith(_SPARE) for n in driver.children(PARENT)):
            return
        me = os.getpid()
        tag = f"{me}-{proc_start_time(me)}"
    except Exception:
        return
    # made under this process's pending name (swept should it die half-way), then shown
    making = f"{PARENT}/{_PREFIX}{tag}"
    try:
        driver.create(making)
        driver.set(making, Resources(devices=DEFAULT_DEVICE_RULES))
        driver.rename(making, f"{PARENT}/{_SPARE}{tag}")
    except Exception:
        drop(driver, making)


def drop(driver, pending: str) -> None:
    """Remove a pending cgroup nobody will use (quietly: a later sweep retries)."""
    try:
        driver.remove(pending)
    except Exception:
        pass


def _sweep(driver) -> list[str]:
    """Drop the pending cgroups of dead processes; the names under PARENT."""
    from dockyard.runtime.exitfile import proc_start_time

    names = driver.children(PARENT)
    for n in names:
        if not n.startswith(_PREFIX):
            continue
        pid, _, start = n[len(_PREFIX) :].partition("-")
        if pid.isdigit() and proc_start_time(int(pid)) == start:
            continue  # its supervisor still waits for its plan
        drop(driver, f"{PARENT}/{n}")
    return names
