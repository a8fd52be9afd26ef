"""Step cgroups whose builder was killed: found by the builder's pid in their name, removed.

A RUN step's cgroup is removed when the step ends; a builder killed with -9 during a step
cannot do that. So a step cgroup is named `<pid ns>-<pid>-<start time>-<random>` after the
builder process, and each new step first removes the step cgroups whose builder no longer
exists (the start time tells a dead builder from a later process that got the same pid).
Only names from our own pid namespace are judged — a builder in another one (a container
sharing the cgroup tree) has pids we cannot see — and names in another form are left alone.
"""

import os


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" if it does not exist)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    # the command name (field 2) may hold spaces and parentheses: split after its last ")"
    return data[data.rindex(b")") + 2 :].split()[19].decode()


def _pid_ns() -> str:
    return str(os.stat("/proc/self/ns/pid").st_ino)


def step_name(parent: str) -> str:
    pid = os.getpid()
    return f"{parent}/{_pid_ns()}-{pid}-{_start_time(pid)}-{os.urandom(4).hex()}"


def _dead(name: str, pid_ns: str) -> bool:
    fields = name.split("-")
    if len(fields) != 4 or fields[0] != pid_ns or not fields[1].isdigit():
        return False
    return _start_time(int(fields[1])) != fields[2]


def sweep(driver, parent: str) -> int:
    """Remove the step cgroups under `parent` whose builder is gone; return how many."""
    paths = driver.join_paths(parent)
    if not paths:
        return 0
    try:
        names = [e.name for e in os.scandir(os.path.dirname(paths[0])) if e.is_dir()]
    except FileNotFoundError:
        return 0
    from dockyard.errors import DockyardError

    pid_ns = _pid_ns()
    removed = 0
    for name in names:
        if _dead(name, pid_ns):
            try:
                driver.remove(f"{parent}/{name}")
                removed += 1
            except (OSError, DockyardError):
                pass  # another builder is sweeping it too, or it is busy: the next sweep
    return removed
