"""The truth about a container whose supervisor died (kill -9, OOM, a crash).

A live state (running, paused, restarting) is only true while the supervisor recorded in
the row is alive — the same pid with the same start time. Otherwise the container is gone
too (its init has PDEATHSIG=SIGKILL), and the next command that touches it records the
death like Docker (exited, 137, with an Error), kills what is left in its cgroup, removes
the cgroup and, for --rm, the container.
"""

from dockyard.runtime import state as ST

SUPERVISOR_DIED = "container supervisor died unexpectedly"


def supervisor_alive(rec) -> bool:
    from dockyard.runtime.supervisor import proc_start_time

    return bool(rec.sup_pid) and proc_start_time(rec.sup_pid) == rec.sup_start


def apply_exit(store, rec, container_dir: str) -> bool:
    """Record the exit file the supervisor wrote for this run (same supervisor), if any."""
    from dockyard.runtime.supervisor import read_exit

    # (restarting: this exit was recorded already, before the back-off began)
    if rec.state not in (ST.RUNNING, ST.PAUSED):
        return False
    ex = read_exit(container_dir)
    if ex is None:
        return False
    sup_pid, sup_start, code, oom, finished = ex
    if (sup_pid, sup_start) != (rec.sup_pid, rec.sup_start):
        return False  # a file from an earlier run
    return store.update(
        rec.id, (ST.RUNNING, ST.PAUSED), where={"sup_pid": sup_pid, "sup_start": sup_start},
        state=ST.EXITED, pid=0, exit_code=code, oom_killed=oom, finished=finished,
    )  # fmt: skip


def reconcile(store, rec, driver, db_path: str, container_dir: str, auto_remove: bool):
    """`rec` as it really is; None when the reconciliation removed it (--rm)."""
    if rec.state not in ST.LIVE:
        return rec
    if apply_exit(store, rec, container_dir):
        rec = store.get(rec.id)
        if auto_remove and not supervisor_alive(rec):
            from dockyard.runtime import cleanup

            cleanup.remove_container(db_path, rec.id, container_dir)
            return None
        return rec
    if supervisor_alive(rec):
        return rec
    import time

    from dockyard.runtime import cleanup
    from dockyard.runtime.launch import cgroup_name

    name = cgroup_name(rec.id)
    oom = False
    try:
        if driver.exists(name):
            try:
                driver.thaw(name)
            except Exception:
                pass
            oom = driver.oom_kills(name) > 0
            cleanup.remove_cgroup(driver, name)
    except Exception:
        pass
    finished = time.time_ns()
    store.update(
        rec.id, ST.LIVE, state=ST.EXITED, pid=0, exit_code=137,
        error=SUPERVISOR_DIED, finished=finished, oom_killed=oom,
    )  # fmt: skip
    if auto_remove:
        cleanup.remove_container(db_path, rec.id, container_dir)
        return None
    return store.get(rec.id)
