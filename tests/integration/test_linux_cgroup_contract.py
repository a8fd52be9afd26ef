"""The `CgroupDriver` contract, one suite run against every implementation: the v1 and
v2 drivers on the real kernel and the in-process fake the layers above test with."""

import os
import signal
import uuid

import pytest

from dockyard.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from dockyard.linux import cgroups
from dockyard.linux.cgroups.base import Resources, read_mounts
from dockyard.linux.cgroups.fake import FakeDriver
from dockyard.linux.cgroups.v2 import V2Driver


def _v1():
    driver = cgroups.detect()
    if driver.version != 1:
        pytest.skip("no cgroup v1 controllers on this host")
    return driver


def _v2():
    _, point = read_mounts()
    if not point:
        pytest.skip("no cgroup2 hierarchy mounted")
    return V2Driver(point)


def _driver(kind: str):
    d = {"fake": FakeDriver, "v1": _v1, "v2": _v2}[kind]()
    parent = f"dockyard-contract-{uuid.uuid4().hex[:8]}"
    yield d, parent
    for name in (f"{parent}/a/b", f"{parent}/a", parent):
        if d.exists(name):
            d.remove(name)
    assert not d.exists(parent)


@pytest.fixture(params=["fake", "v1", "v2"])
def driver(request):
    yield from _driver(request.param)


@pytest.fixture(params=["v1", "v2"])
def kernel_driver(request):
    """The kernel's drivers only: races need a second process that shares their state."""
    yield from _driver(request.param)


def _sleeper() -> int:
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    return pid


def test_create_exists_remove(driver):
    d, parent = driver
    name = f"{parent}/a"
    assert not d.exists(name)
    d.create(name)
    assert d.exists(name) and d.exists(parent)
    with pytest.raises(AlreadyExists):
        d.create(name)
    d.remove(name)
    d.remove(name)  # gone already: no error
    assert not d.exists(name)


@pytest.mark.parametrize("bad", ["", "/abs", "../up", "a/../../b", "a//b", "."])
def test_bad_names(driver, bad):
    d, _ = driver
    with pytest.raises(InvalidArgument):
        d.create(bad)


def test_a_parent_with_children_is_not_removed(driver):
    d, parent = driver
    d.create(f"{parent}/a/b")
    with pytest.raises(FailedPrecondition, match="child cgroups"):
        d.remove(f"{parent}/a")
    assert d.exists(f"{parent}/a/b")


def test_join_pids_stats_kill(driver):
    d, parent = driver
    name = f"{parent}/a"
    d.create(name)
    pid = _sleeper()
    try:
        d.join(name, pid)
        assert d.pids(name) == [pid]
        assert d.stats(name).pids == 1
        assert d.oom_kills(name) == 0
        d.kill(name)
        if not isinstance(d, FakeDriver):
            _, st = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(st) == -signal.SIGKILL
        assert d.pids(name) == []
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    d.remove(name)
    assert not d.exists(name)


def test_freeze_and_thaw(driver):
    d, parent = driver
    name = f"{parent}/a"
    d.create(name)
    assert not d.frozen(name)
    d.freeze(name)
    assert d.frozen(name)
    d.thaw(name)
    assert not d.frozen(name)


def test_remove_kills_members(driver):
    d, parent = driver
    name = f"{parent}/a"
    d.create(name)
    pid = _sleeper()
    d.join(name, pid)
    d.remove(name)
    assert not d.exists(name)
    if not isinstance(d, FakeDriver):
        _, st = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(st) == -signal.SIGKILL
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_pids_limit_is_kept(driver):
    d, parent = driver
    name = f"{parent}/a"
    d.create(name)
    if isinstance(d, V2Driver) and not d._has(name, "pids"):
        pytest.skip("pids controller not on the v2 hierarchy here")
    d.set(name, Resources(pids_limit=7))
    if isinstance(d, FakeDriver):
        assert d.resources(name).pids_limit == 7
    else:
        root = d.mounts["pids"] if d.version == 1 else d.root
        with open(os.path.join(root, name, "pids.max")) as f:
            assert f.read().strip() == "7"


def _burner(seconds: float) -> int:
    """A child that spins for `seconds` of its own CPU time, then waits to be killed."""
    pid = os.fork()
    if pid == 0:
        import time

        end = time.process_time() + seconds
        while time.process_time() < end:
            pass
        signal.pause()
        os._exit(0)
    return pid


def _reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def test_stats_count_members_and_their_cpu_time(driver):
    d, parent = driver
    name = f"{parent}/a"
    d.create(name)
    before = d.stats(name)
    assert before.pids == 0 and before.cpu_usage_ns >= 0
    assert before.io_read >= 0 and before.io_write >= 0 and before.memory_inactive_file >= 0
    pids = [_sleeper(), _sleeper()]
    try:
        for pid in pids:
            d.join(name, pid)
        assert d.stats(name).pids == 2
        if not isinstance(d, FakeDriver):
            burner = _burner(0.05)  # joins after it forked: its CPU time is charged here
            pids.append(burner)
            d.join(name, burner)
            import time

            deadline = time.monotonic() + 10
            while d.stats(name).cpu_usage_ns < 10_000_000 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert d.stats(name).cpu_usage_ns >= 10_000_000
    finally:
        for pid in pids:
            _reap(pid)


def test_two_removers_racing_both_succeed(kernel_driver):
    """`rm -f` and the finisher remove the same cgroup at once: neither may fail."""
    d, parent = kernel_driver
    name = f"{parent}/a"
    for _ in range(15):
        d.create(name)
        members = [_sleeper(), _sleeper()]
        for pid in members:
            d.join(name, pid)
        child = os.fork()
        if child == 0:
            code = 0
            try:
                d.remove(name)
            except BaseException:
                code = 1
            os._exit(code)
        try:
            d.remove(name)
        finally:
            _, st = os.waitpid(child, 0)
            for pid in members:
                _reap(pid)
        assert os.waitstatus_to_exitcode(st) == 0
        assert not d.exists(name)
