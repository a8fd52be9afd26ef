"""`ContainerService.wait` with the Engine API's conditions (not-running, next-exit,
removed), on real containers. Each waiter runs in its own thread with its own service (a
sqlite connection belongs to one thread)."""

import threading

import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.services.containers import ContainerService, RunOptions


@pytest.fixture(scope="module")
def data_root(tmp_path_factory, busybox_root):
    return busybox_root(tmp_path_factory.mktemp("dy-wait"))


@pytest.fixture
def svc(data_root):
    s = ContainerService(data_root)
    yield s
    for c in s.list(all=True):
        s.remove(c["Id"], force=True)
    s.close()


class Waiter(threading.Thread):
    def __init__(self, cfg, ref, condition):
        super().__init__(daemon=True)
        self.cfg, self.ref, self.condition = cfg, ref, condition
        self.result = self.error = None
        self.ready = threading.Event()

    def run(self):
        s = ContainerService(self.cfg)
        try:
            s._get(self.ref)  # opened and found before the test moves on
            self.ready.set()
            self.result = s.wait(self.ref, self.condition)
        except Exception as e:  # reported to the test
            self.error = e
        finally:
            self.ready.set()
            s.close()

    def started(self):
        self.start()
        self.ready.wait(30)
        return self


def _code_file(tmp_path, code: int):
    ctl = tmp_path / "ctl"
    ctl.mkdir(exist_ok=True)
    (ctl / "code").write_text(str(code))
    return ctl


def _create(svc, ctl, name):
    return svc.create(RunOptions(image="busybox", name=name, binds=(f"{ctl}:/ctl",),
                                 cmd=("sh", "-c", "sleep 0.3; exit $(cat /ctl/code)")))  # fmt: skip


def test_not_running_returns_at_once_for_a_stopped_container_and_at_exit_for_a_running_one(
    svc, data_root, tmp_path
):
    ctl = _code_file(tmp_path, 3)
    cid = _create(svc, ctl, "nr")
    assert svc.wait(cid) == 0  # created: not running already
    svc.start(cid)
    assert svc.wait(cid, "not-running") == 3
    assert svc.wait(cid) == 3  # exited: at once, with its code


def test_next_exit_waits_through_the_next_start(svc, data_root, tmp_path):
    ctl = _code_file(tmp_path, 3)
    cid = _create(svc, ctl, "nx")
    svc.start(cid)
    assert svc.wait(cid) == 3
    w = Waiter(data_root, cid, "next-exit").started()
    w.join(0.5)
    assert w.is_alive()  # exited already: next-exit waits for a new run
    (ctl / "code").write_text("5")
    svc.start(cid)
    w.join(30)
    assert not w.is_alive() and w.error is None and w.result == 5


def test_an_auto_removed_container_reports_its_code_at_exit_and_at_removal(svc, tmp_path):
    ctl = _code_file(tmp_path, 9)
    opts = RunOptions(image="busybox", auto_remove=True, binds=(f"{ctl}:/ctl",),
                      cmd=("sh", "-c", "sleep 0.5; exit $(cat /ctl/code)"))  # fmt: skip
    first, _ = svc.run(opts)
    second, _ = svc.run(opts)
    assert svc.wait(first, "next-exit") == 9
    assert svc.wait(second, "removed") == 9  # its record is gone: the code is still known
    with pytest.raises(NotFound):
        svc.wait(second)


def test_removed_waits_for_the_removal(svc, data_root, tmp_path):
    ctl = _code_file(tmp_path, 4)
    cid = _create(svc, ctl, "rmw")
    svc.start(cid)
    w = Waiter(data_root, cid, "removed").started()
    assert svc.wait(cid) == 4  # the container exited ...
    w.join(0.5)
    assert w.is_alive()  # ... but it is not removed yet
    svc.remove(cid)
    w.join(30)
    assert not w.is_alive() and w.error is None and w.result == 4


def test_unknown_condition_and_container(svc):
    with pytest.raises(InvalidArgument, match='invalid condition: "sometime"'):
        svc.wait("whatever", "sometime")
    with pytest.raises(NotFound):
        svc.wait("nope", "removed")


def test_many_short_auto_removed_containers_waited_at_once_keep_their_codes(svc, data_root):
    # each exits, loses its record and its directory in a few milliseconds: between two
    # polls of a waiter, which must get its code all the same
    ids = {}
    for i in range(12):
        code = 10 + i
        opts = RunOptions(image="busybox", auto_remove=True,
                          cmd=("sh", "-c", f"sleep 1.{i % 5}; exit {code}"))  # fmt: skip
        cid, _ = svc.run(opts)
        ids[cid] = code
    waiters = [Waiter(data_root, cid, cond).started()
               for cid in ids for cond in ("not-running", "removed")]  # fmt: skip
    for w in waiters:
        w.join(60)
    got = {(w.ref, w.condition): (w.error, w.result) for w in waiters}
    assert got == {(cid, cond): (None, code)
                   for cid, code in ids.items() for cond in ("not-running", "removed")}  # fmt: skip
    assert svc.list(all=True) == []
