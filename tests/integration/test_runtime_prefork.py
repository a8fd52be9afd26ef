"""`run` forks the supervisor before it resolves the image: every way out of `run` must
leave no supervisor, no descriptor and no container behind."""

import os
import time

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.services.containers import ContainerService, RunOptions


@pytest.fixture(scope="module")
def data_root(tmp_path_factory, busybox_root):
    return busybox_root(tmp_path_factory.mktemp("dy-prefork"))


def _twins() -> set[int]:
    """Other processes running our own command line: forked supervisors still alive."""
    with open("/proc/self/cmdline", "rb") as f:
        me = f.read()
    out = set()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if f.read() == me:
                    out.add(int(name))
        except OSError:
            pass
    return out


def _settled(before: set[int]) -> set[int]:
    deadline = time.time() + 10
    while _twins() - before and time.time() < deadline:
        time.sleep(0.02)
    return _twins() - before


@pytest.fixture
def svc(data_root):
    s = ContainerService(data_root)
    s.list(all=True)  # the stores' own descriptors (database, WAL) open once, up front
    s.images.snapshots  # noqa: B018
    yield s
    try:
        for rec in s.list(all=True):
            try:
                s.remove(rec["Id"], force=True)
            except NotFound:
                pass  # a --rm container its finisher removed meanwhile
    finally:
        s.close()


@pytest.mark.parametrize(
    ("opts", "error"),
    [
        (RunOptions(image="no-such-image", cmd=("true",)), NotFound),
        (RunOptions(image="", cmd=("true",)), InvalidArgument),
        (RunOptions(image="busybox", cmd=("true",), name="bad name!"), InvalidArgument),
    ],
)
def test_a_run_that_fails_before_starting_leaves_nothing(svc, opts, error):
    fds = sorted(os.listdir("/proc/self/fd"))
    before = _twins()
    out_r, out_w = os.pipe()
    try:
        with pytest.raises(error):
            svc.run(opts, (-1, out_w, out_w))
    finally:
        os.close(out_w)
    # the forked supervisor held a copy of the client's output: it must let go of it
    assert os.read(out_r, 100) == b""
    os.close(out_r)
    assert _settled(before) == set()
    assert sorted(os.listdir("/proc/self/fd")) == fds
    assert svc.list(all=True) == []


def test_a_run_whose_name_is_taken_leaves_nothing_and_the_holder_runs(svc, data_root):
    """The record goes in only after the plan is handed over (the init sets up meanwhile):
    a name conflict found then stops the start, and its supervisor, cgroup and directory go."""
    from cgroup_cli_support import dockyard_cgroups

    holder, _ = svc.run(RunOptions(image="busybox", cmd=("sleep", "60"), name="taken"))
    fds = sorted(os.listdir("/proc/self/fd"))
    before, groups = _twins(), dockyard_cgroups()
    dirs = set(os.listdir(data_root.containers_dir))
    out_r, out_w = os.pipe()
    try:
        with pytest.raises(Conflict, match='The container name "/taken" is already in use'):
            svc.run(RunOptions(image="busybox", cmd=("true",), name="taken", auto_remove=True),
                    (-1, out_w, out_w))  # fmt: skip
    finally:
        os.close(out_w)
    assert os.read(out_r, 100) == b""  # the container never ran
    os.close(out_r)
    assert _settled(before) == set()
    assert sorted(os.listdir("/proc/self/fd")) == fds
    assert dockyard_cgroups() == groups
    assert set(os.listdir(data_root.containers_dir)) == dirs
    assert [(c["Id"], c["State"]) for c in svc.list(all=True)] == [(holder, "running")]


def test_runs_whose_command_is_missing_leave_no_supervisor(svc):
    before = _twins()
    fds = None
    for _ in range(3):
        with pytest.raises(NotFound) as e:
            svc.run(RunOptions(image="busybox", cmd=("no-such-cmd",), auto_remove=True), (-1, 1, 2))
        assert e.value.exit_code == 127
        assert _settled(before) == set()
        now = sorted(os.listdir("/proc/self/fd"))
        assert fds is None or now == fds  # the removal's store opens once, then nothing grows
        fds = now


def test_runs_back_to_back_report_their_own_exit_codes(svc):
    fds = sorted(os.listdir("/proc/self/fd"))
    for code in (0, 3, 0, 7):
        _, got = svc.run(
            RunOptions(image="busybox", cmd=("sh", "-c", f"exit {code}"), auto_remove=True),
            (-1, 1, 2),
        )
        assert got == code
    assert sorted(os.listdir("/proc/self/fd")) == fds


def test_detached_run_hands_over_and_the_container_runs(svc):
    before = _twins()
    cid, code = svc.run(RunOptions(image="busybox", cmd=("sleep", "30")))
    assert code is None
    assert svc.inspect(cid)["State"]["Running"] is True
    svc.remove(cid, force=True)
    assert _settled(before) == set()


def _finishers(cid: str) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"dockyard.runtime.finish" in cmd and cid.encode() in cmd:
                out.append(int(name))
    return out


def _gone(svc, cid: str, timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            svc.store.get(cid)
        except NotFound:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("db_open_before", [False, True])
def test_foreground_rm_run_is_removed_by_either_finisher(data_root, db_open_before):
    """Forked before the database was opened, the supervisor finishes the container itself;
    forked from a process holding it, a finisher started ahead does. Same outcome."""
    from dockyard.runtime.launch import _has_open

    s = ContainerService(data_root)
    try:
        if db_open_before:
            s.list(all=True)
        assert _has_open(data_root.metadata_path) is db_open_before
        before = _twins()
        cid, code = s.run(
            RunOptions(image="busybox", cmd=("sh", "-c", "exit 5"), auto_remove=True), (-1, 1, 2)
        )
        assert code == 5
        assert _gone(s, cid)
        assert _settled(before) == set()  # the directory goes after the record
        assert not os.path.exists(os.path.join(data_root.containers_dir, cid))
        deadline = time.time() + 10
        while _finishers(cid) and time.time() < deadline:
            time.sleep(0.01)
        assert _finishers(cid) == []
    finally:
        s.close()


@pytest.mark.parametrize("db_open_before", [False, True])
def test_foreground_run_records_its_exit(data_root, db_open_before):
    s = ContainerService(data_root)
    try:
        if db_open_before:
            s.list(all=True)
        cid, code = s.run(RunOptions(image="busybox", cmd=("sh", "-c", "exit 4")), (-1, 1, 2))
        assert code == 4
        assert s.wait(cid) == 4
        state = s.inspect(cid)["State"]
        assert (state["Status"], state["ExitCode"]) == ("exited", 4)
        s.remove(cid)
    finally:
        s.close()
