"""Container records in sqlite and the reconciliation of dead supervisors (with the fake
cgroup driver: no root, no kernel)."""

import os

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.linux.cgroups.fake import FakeDriver
from dockyard.metadata.store import MetadataStore
from dockyard.runtime import reconcile as R
from dockyard.runtime import state as ST
from dockyard.runtime.exitfile import proc_start_time, write_exit
from dockyard.runtime.store import ContainerRecord, ContainerStore


@pytest.fixture
def store(tmp_path):
    path = str(tmp_path / "metadata.db")
    MetadataStore(path).close()
    s = ContainerStore(path)
    yield s
    s.close()


def rec(cid: str, name: str, **kw) -> ContainerRecord:
    base = dict(image="busybox", image_id="sha256:" + "0" * 64, snapshot="sha256:" + "1" * 64,
                created=1, state=ST.CREATED, spec="{}")  # fmt: skip
    base.update(kw)
    return ContainerRecord(id=cid, name=name, **base)


def test_find_by_id_name_and_prefix(store):
    a, b = "ab" + "0" * 62, "ac" + "0" * 62
    store.insert(rec(a, "web"))
    store.insert(rec(b, "db"))
    assert store.find("web").id == a and store.find("/db").id == b
    assert store.find("ab").id == a and store.find(a).name == "web"
    with pytest.raises(InvalidArgument, match="Multiple IDs found with provided prefix: a"):
        store.find("a")
    with pytest.raises(NotFound, match="No such container: nope"):
        store.find("nope")
    with pytest.raises(InvalidArgument):
        store.find("")


def test_a_name_is_unique_with_dockers_message(store):
    store.insert(rec("1" * 64, "web"))
    with pytest.raises(Conflict, match='"/web" is already in use by container "1111'):
        store.insert(rec("2" * 64, "web"))
    store.insert(rec("2" * 64, "api"))
    with pytest.raises(Conflict):
        store.update("2" * 64, name="web")


def test_compare_and_set_moves(store):
    cid = "3" * 64
    store.insert(rec(cid, "x"))
    assert store.update(cid, (ST.CREATED,), state=ST.RUNNING, pid=10)
    assert not store.update(cid, (ST.CREATED,), state=ST.RUNNING)  # lost the race
    assert not store.update(cid, (ST.RUNNING,), where={"sup_pid": 99}, state=ST.EXITED)
    assert store.get(cid).state == ST.RUNNING
    with pytest.raises(InvalidArgument):
        store.update(cid, bogus=1)
    assert store.delete(cid) and not store.delete(cid)


def test_dead_supervisor_is_reported_exited_and_cgroup_removed(store, tmp_path):
    cid = "4" * 64
    drv = FakeDriver()
    drv.create(f"dockyard/{cid}")
    # a supervisor identity that cannot be alive: our pid with a wrong start time
    store.insert(rec(cid, "x", state=ST.RUNNING, pid=123, sup_pid=os.getpid(), sup_start="1"))
    out = R.reconcile(store, store.get(cid), drv, store.path, str(tmp_path), False)
    assert out.state == ST.EXITED and out.exit_code == 137 and out.error == R.SUPERVISOR_DIED
    assert not drv.exists(f"dockyard/{cid}")


def test_a_live_supervisor_is_believed_and_its_exit_file_applied(store, tmp_path):
    cid = "5" * 64
    me, start = os.getpid(), proc_start_time(os.getpid())
    store.insert(rec(cid, "x", state=ST.RUNNING, pid=1, sup_pid=me, sup_start=start))
    drv = FakeDriver()
    assert (
        R.reconcile(store, store.get(cid), drv, store.path, str(tmp_path), False).state == "running"
    )
    write_exit(str(tmp_path), me, "other-run", 3, False, 5)  # an earlier run's file: ignored
    assert (
        R.reconcile(store, store.get(cid), drv, store.path, str(tmp_path), False).state == "running"
    )
    write_exit(str(tmp_path), me, start, 3, True, 5)
    out = R.reconcile(store, store.get(cid), drv, store.path, str(tmp_path), False)
    assert (out.state, out.exit_code, out.oom_killed, out.finished) == (ST.EXITED, 3, True, 5)


def test_dead_supervisor_of_an_rm_container_removes_it(store, tmp_path):
    cid = "6" * 64
    cdir = tmp_path / cid
    cdir.mkdir()
    store.insert(rec(cid, "x", state=ST.PAUSED, pid=9, sup_pid=os.getpid(), sup_start="1"))
    assert R.reconcile(store, store.get(cid), FakeDriver(), store.path, str(cdir), True) is None
    with pytest.raises(NotFound):
        store.get(cid)
    assert not cdir.exists()


def test_restart_policy_decisions():
    from dockyard.runtime import restart as RP

    assert RP.should_restart("always", 0, 0, 5, False)
    assert not RP.should_restart("always", 0, 1, 0, True)  # the user stopped it
    assert RP.should_restart("on-failure", 2, 1, 1, False)
    assert not RP.should_restart("on-failure", 2, 1, 2, False)
    assert not RP.should_restart("on-failure", 0, 0, 0, False)
    assert not RP.should_restart("no", 0, 1, 0, False)
    assert RP.delay(0, 0) == 0.1 and RP.delay(3, 0) == 0.8 and RP.delay(30, 0) == 60.0
    assert RP.delay(5, 11 * 10**9) == 0.1


def test_closing_keeps_the_wal_and_loses_nothing(tmp_path):
    """The last connection's close skips the checkpoint (no fsyncs on `run`'s path): the
    WAL stays next to the database, and every committed row is there when reopened."""
    path = str(tmp_path / "metadata.db")
    MetadataStore(path).close()
    s = ContainerStore(path)
    s.insert(rec("a" * 64, "kept"))
    s.close()
    assert os.path.exists(path + "-wal")
    import subprocess
    import sys

    code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "print(c.execute('SELECT name FROM containers').fetchall())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, path], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[('kept',)]"


def test_an_exit_recorded_by_the_finisher_meanwhile_is_not_reported_running(store, tmp_path):
    """`ps` read the record as running; the finisher recorded the exit (from its own
    connection) just before ps's own update: ps must show the exit, not the stale record,
    although the supervisor is still alive (tearing down)."""
    cid = "7" * 64
    me, start = os.getpid(), proc_start_time(os.getpid())
    store.insert(rec(cid, "x", state=ST.RUNNING, pid=1, sup_pid=me, sup_start=start))
    stale = store.get(cid)
    write_exit(str(tmp_path), me, start, 4, False, 9)
    finisher = ContainerStore(store.path)
    try:
        assert R.apply_exit(finisher, finisher.get(cid), str(tmp_path))
    finally:
        finisher.close()
    out = R.reconcile(store, stale, FakeDriver(), store.path, str(tmp_path), False)
    assert (out.state, out.exit_code, out.finished) == (ST.EXITED, 4, 9)


def test_an_rm_container_removed_by_the_finisher_meanwhile_is_gone(store, tmp_path):
    cid = "8" * 64
    me, start = os.getpid(), proc_start_time(os.getpid())
    store.insert(rec(cid, "x", state=ST.RUNNING, pid=1, sup_pid=me, sup_start=start))
    stale = store.get(cid)
    write_exit(str(tmp_path), me, start, 0, False, 9)
    store.delete(cid)  # the --rm finisher: exit recorded, record deleted
    assert R.reconcile(store, stale, FakeDriver(), store.path, str(tmp_path), True) is None


def test_a_live_supervisor_never_needs_the_cgroup_driver(store, tmp_path):
    """`ps` passes the driver lazily: detecting it costs, and only a dead supervisor needs it."""
    cid = "9" * 64
    me, start = os.getpid(), proc_start_time(os.getpid())
    store.insert(rec(cid, "x", state=ST.RUNNING, pid=1, sup_pid=me, sup_start=start))
    calls = []

    def driver():
        calls.append(1)
        return FakeDriver()

    assert R.reconcile(store, store.get(cid), driver, store.path, str(tmp_path), False).state == (
        ST.RUNNING
    )
    assert calls == []
    store.update(cid, sup_start="1")  # now its supervisor cannot be alive
    out = R.reconcile(store, store.get(cid), driver, store.path, str(tmp_path), False)
    assert out.state == ST.EXITED and out.error == R.SUPERVISOR_DIED and calls == [1]
