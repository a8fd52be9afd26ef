"""`docker update` over the container service: the live cgroup, then the stored spec.

For a running (or paused) container the new limits are written into its cgroup first; if
the kernel refuses (a memory limit below what the container uses and cannot reclaim is
EBUSY), what was written is put back and nothing is stored. The spec is then replaced in
one compare-and-set transaction on the record (the spec lives in sqlite: a reader sees the
old spec or the new one, never a mix), so the next start, a policy restart included, runs
with the new values. A stopped container only gets the new spec.
"""

import os

from dockyard.errors import Conflict, DockyardError, FailedPrecondition, Unavailable


def _memory_nodes() -> int:
    try:
        with open("/sys/devices/system/node/online") as f:
            text = f.read().strip()
    except OSError:
        return 1
    last = text.replace("-", ",").split(",")[-1]
    return int(last) + 1 if last.isdigit() else 1


def update(svc, ref: str, changes) -> str:
    """Apply `changes` (`runtime.update.Changes`) to the container; returns its id."""
    from dockyard import fastjson
    from dockyard.runtime import state as ST
    from dockyard.runtime import update as U

    for _ in range(10):
        rec = svc._get(ref)
        if rec.state in (ST.REMOVING, ST.DEAD):
            raise Conflict(f'Container {rec.id} is marked for removal and cannot be "update"')
        doc = fastjson.loads(rec.spec)
        try:
            new, res = U.apply(doc, changes, os.cpu_count() or 1, _memory_nodes())
        except Conflict as e:
            raise Conflict(f"Cannot update container {rec.id}: {e}") from None
        if rec.state in (ST.RUNNING, ST.PAUSED) and res != type(res)():
            _set_live(svc, rec, doc, res)
        if svc.store.update(rec.id, where={"spec": rec.spec}, spec=fastjson.dumps(new)):
            return rec.id
        # someone changed the spec meanwhile (another update): start over from theirs
    raise Unavailable(f"Cannot update container {ref}: it keeps changing, try again")


def _set_live(svc, rec, doc: dict, res) -> None:
    from dockyard.runtime import update as U
    from dockyard.runtime.launch import cgroup_name

    name = cgroup_name(rec.id)
    try:
        svc.driver.set(name, res)
    except DockyardError as e:
        if not svc.driver.exists(name):
            return  # it stopped meanwhile: the spec alone decides its next start
        try:
            svc.driver.set(name, U.previous(doc, res))
        except DockyardError:
            pass  # best effort: the error below is what matters
        msg = str(e)
        if isinstance(e, FailedPrecondition) and res.memory is not None and "busy" in msg:
            msg += " (the new memory limit is below what the container uses)"
        raise type(e)(f"Cannot update container {rec.id}: {msg}") from None
