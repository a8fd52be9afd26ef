"""`wait` with the Engine API's conditions (the docker CLI itself always asks not-running):

- not-running: return once the container is not running; at once if it is created or
  exited already (its last exit code);
- next-exit: return at the container's next exit, even when it is not running yet (a
  created or exited container is waited through its next start);
- removed: return once the container is removed (running ones are waited through their
  exit first), with the exit code of its last run.

An exit is seen from the record (`FinishedAt` changes) and, for a --rm container whose
record may vanish with it, from the supervisor's exit file of the run being waited on:
the waiter holds the container's directory (`runtime.exitwaiters`), so the --rm finisher
removes it, exit file included, only once every waiter has read it.
"""

import os
import time

from dockyard.errors import InvalidArgument, NotFound
from dockyard.runtime import state as ST

CONDITIONS = ("not-running", "next-exit", "removed")


def wait(svc, ref: str, condition: str = "not-running") -> int:
    if condition not in CONDITIONS:
        raise InvalidArgument(f'invalid condition: "{condition}"')
    rec = svc._get(ref)
    if condition == "not-running" and rec.state not in ST.LIVE:
        return rec.exit_code
    from dockyard.runtime.exitwaiters import hold

    held = _Held(hold(svc._layout(rec.id).dir))
    try:
        if condition == "not-running" and rec.pid > 0:
            _sleep_on_init(svc, rec)
        return _poll(svc, rec, condition, held)
    finally:
        held.release()


class _Held:
    """The waiter's hold on the container's directory, let go once the exit code is known."""

    __slots__ = ("fd",)

    def __init__(self, fd: int):
        self.fd = fd

    def release(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


def _sleep_on_init(svc, rec) -> None:
    """Block on a pidfd of the init while it runs (a long wait without polling); the
    record follows right after its exit."""
    import select

    from dockyard.runtime.pidwait import pidfd_of

    fd = pidfd_of(rec.pid)
    if fd < 0:
        return
    try:
        if rec.pid not in svc.driver.pids(_cgroup(rec.id)):
            return  # the pid is no longer this container's init
        p = select.poll()
        p.register(fd, select.POLLIN)
        while not p.poll(60_000):
            pass
    finally:
        os.close(fd)


def _cgroup(cid: str) -> str:
    from dockyard.runtime.launch import cgroup_name

    return cgroup_name(cid)


def _poll(svc, first, condition: str, held: _Held) -> int:
    """Poll the record without reconciling it (a reconciliation may remove a --rm container
    and its exit file in one go): only a dead supervisor's container is reconciled, once
    its exit code is known or lost anyway."""
    from dockyard.runtime.exitfile import read_exit
    from dockyard.runtime.reconcile import supervisor_alive

    cdir = svc._layout(first.id).dir
    finished = first.finished
    code = first.exit_code
    run = (first.sup_pid, first.sup_start) if first.state in (ST.RUNNING, ST.PAUSED) else None
    started = time.monotonic()
    delay = 0.0005
    while True:
        try:
            rec = svc.store.get(first.id)
        except NotFound:
            rec = None
        if rec is None:
            ex = read_exit(cdir)
            # the run we saw, or one that began and ended between two polls (launch
            # removes an earlier run's exit file)
            if ex is not None and ((ex[0], ex[1]) == run or ex[4] > finished):
                code = ex[2]
            return code  # removed: every condition is met
        if rec.state in (ST.RUNNING, ST.PAUSED):
            run = (rec.sup_pid, rec.sup_start)
            ex = read_exit(cdir)
            if ex is not None and (ex[0], ex[1]) == run:
                code = ex[2]
                held.release()  # known: the finisher may remove the directory
            if not supervisor_alive(rec):
                ex = read_exit(cdir)  # final now: read again, it may have come meanwhile
                # else 137: what the reconciliation records for a supervisor's death
                code = ex[2] if ex is not None and (ex[0], ex[1]) == run else 137
                held.release()  # the reconciliation below may remove it (and us waiting)
                try:
                    rec = svc._get(first.id)
                except NotFound:
                    return code
        if rec.state not in (ST.RUNNING, ST.PAUSED, ST.REMOVING):
            code = rec.exit_code
            exited = rec.finished != 0 and rec.finished != finished
            if exited:
                held.release()
            if condition == "not-running" and rec.state != ST.RESTARTING:
                return code
            if condition == "next-exit" and exited:
                return code
        # fine-grained while an exit is imminent, then back off
        time.sleep(delay)
        delay = min(delay * 2, 0.005 if time.monotonic() - started < 1 else 0.05)
