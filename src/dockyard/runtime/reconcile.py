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
    from dockyard.runtime.exitfile import proc_start_time

    return bool(rec.sup_pid) and proc_start_time(rec.sup_pid) == rec.sup_start


def apply_exit(store, rec, container_dir: str) -> bool:
    """Record the exit file the supervisor wrote for this run (same supervisor), if any."""
    return _apply_exit(store, rec, container_dir) == _APPLIED


_NONE, _APPLIED, _LOST = 0, 1, 2


def _apply_exit(store, rec, container_dir: str) -> int:
    """_APPLIED; _NONE (no exit file for this run); _LOST: there is one, but another process
    (the finisher, another command) moved the record first, so `rec` is stale."""
    from dockyard.runtime.exitfile import read_exit

    # (restarting: this exit was recorded already, before the back-off began)
    if rec.state not in (ST.RUNNING, ST.PAUSED):
        return _NONE
    ex = read_exit(container_dir)
    if ex is None:
        return _NONE
    sup_pid, sup_start, code, oom, finished = ex
    if (sup_pid, sup_start) != (rec.sup_pid, rec.sup_start):
        return _NONE  # a file from an earlier run
    done = store.update(
        rec.id, (ST.RUNNING, ST.PAUSED), where={"sup_pid": sup_pid, "sup_start": sup_start},
        state=ST.EXITED, pid=0, exit_code=code, oom_killed=oom, finished=finished,
    )  # fmt: skip
    return _APPLIED if done else _LOST


def reconcile(store, rec, driver, db_path: str, container_dir: str, auto_remove: bool):
    """`rec` as it really is; None when the reconciliation removed it (--rm).

    `driver`: the cgroup driver, or a callable returning it (only a dead supervisor's
    cleanup needs one: `ps` with live containers never pays for detecting it)."""
    for _ in range(8):
        if rec.state not in ST.LIVE:
            return rec
        applied = _apply_exit(store, rec, container_dir)
        if applied != _LOST:
            break
        # the finisher recorded this exit as we read it: its record is the truth, not the
        # stale "running" one we hold (whose supervisor may still be alive, tearing down)
        from dockyard.errors import NotFound

        try:
            rec = store.get(rec.id)
        except NotFound:
            return None  # --rm: already removed
    if rec.state not in ST.LIVE:
        return rec
    if applied == _APPLIED:
        rec = store.get(rec.id)
        if auto_remove and not supervisor_alive(rec):
            _remove(db_path, rec, container_dir)
            return None
        return rec
    if supervisor_alive(rec):
        return rec
    import time

    from dockyard.runtime import cleanup
    from dockyard.runtime.launch import cgroup_name

    if callable(driver):
        driver = driver()
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
        _remove(db_path, rec, container_dir)
        return None
    return store.get(rec.id)


def _remove(db_path: str, rec, container_dir: str) -> None:
    """--rm on behalf of a dead supervisor: the anonymous volumes go too, as its finisher
    would have taken them."""
    import os

    from dockyard.runtime import cleanup
    from dockyard.runtime.containerspec import from_json

    try:
        spec = from_json(rec.spec)
    except (KeyError, TypeError, ValueError):  # an unreadable spec must not block removal
        spec = None
    if spec is not None and spec.volumes:
        from dockyard.runtime import volumes as V

        # the data root's layout (Config): volumes/ sits beside metadata.db
        volumes_dir = os.path.join(os.path.dirname(db_path), "volumes")
        V.release(db_path, volumes_dir, rec.id, V.anonymous_names(spec))
    from dockyard.runtime.exitwaiters import drain

    held = drain(container_dir)  # every `wait` has read the exit file first
    try:
        cleanup.remove_container(db_path, rec.id, container_dir)
    finally:
        if held >= 0:
            os.close(held)
