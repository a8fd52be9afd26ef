"""A supervisor forked ahead makes its container's cgroup before the container exists
(`runtime.cgroupahead`): renamed to the container's once the plan comes, removed when no
plan comes, swept when its supervisor died. Real cgroups, as root."""

import os
import subprocess
import sys
import time

import pytest
from cgroup_cli_support import cli_with_busybox

from dockyard.linux.cgroups import detect
from dockyard.linux.cgroups.base import DEFAULT_DEVICE_RULES, Resources
from dockyard.runtime import cgroupahead


@pytest.fixture
def driver():
    d = detect()
    if d.version != 1:
        pytest.skip("cgroups made ahead serve the v1 start path (clone_early)")
    return d


def _pending(driver) -> list[str]:
    return [n for n in driver.children("dockyard") if n.startswith(".pending-")]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_dead_supervisors_cgroup_is_swept_and_ours_made(driver):
    stale = f"dockyard/.pending-{_dead_pid()}-1"
    driver.create(stale)
    ours = cgroupahead.make(driver)
    try:
        assert ours == f"dockyard/.pending-{os.getpid()}-" + ours.rsplit("-", 1)[1]
        assert not driver.exists(stale)
        assert driver.exists(ours)
        devices = driver._dir("devices", ours) if "devices" in driver.mounts else ""
        if devices:
            with open(os.path.join(devices, "devices.list")) as f:
                assert "c 1:3 rwm" in f.read().split("\n")  # /dev/null, not everything
    finally:
        cgroupahead.drop(driver, ours)
    assert not driver.exists(ours)


def test_take_renames_it_and_sets_the_spec(driver):
    ours = cgroupahead.make(driver)
    final = f"dockyard/test-ahead-{os.getpid()}"
    try:
        join = cgroupahead.take(
            driver, ours, final, Resources(pids_limit=42, devices=DEFAULT_DEVICE_RULES)
        )
        assert not driver.exists(ours) and driver.exists(final)
        assert all(p.endswith("/tasks") and final in p for p in join)
        if "pids" in driver.mounts:
            with open(os.path.join(driver._dir("pids", final), "pids.max")) as f:
                assert f.read().strip() == "42"
    finally:
        driver.remove(final)


def test_take_for_a_privileged_container_allows_every_device(driver):
    if "devices" not in driver.mounts:
        pytest.skip("no devices controller")
    ours = cgroupahead.make(driver)
    final = f"dockyard/test-ahead-priv-{os.getpid()}"
    try:
        cgroupahead.take(driver, ours, final, Resources(devices=None))
        with open(os.path.join(driver._dir("devices", final), "devices.list")) as f:
            assert f.read().strip() == "a *:* rwm"
    finally:
        driver.remove(final)


@pytest.fixture
def d(dy, busybox_tar):
    yield from cli_with_busybox(dy, busybox_tar)


def test_runs_that_start_or_never_start_leave_no_pending_cgroup(d, driver):
    before = set(_pending(driver))
    assert d("run", "--rm", "busybox", "true").returncode == 0
    d("run", "--no-such-flag", "busybox", "true", check=False)  # no plan comes
    d("run", "--rm", "no-such-image-here", "true", check=False)
    deadline = time.time() + 5
    while set(_pending(driver)) - before and time.time() < deadline:
        time.sleep(0.02)
    assert set(_pending(driver)) - before == set()


def _v1_lines(pid: int, driver) -> dict[str, str]:
    """controller set → cgroup path, for the hierarchies the driver uses."""
    out = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if any(c in driver.mounts for c in ctrls.split(",")):
                out[ctrls] = path
    return out


@pytest.mark.parametrize("network", ["none", "host"])
def test_the_init_that_joined_ahead_ends_in_its_containers_cgroup(d, driver, network):
    # "none": the init cloned early joins the cgroup made ahead, renamed to the
    # container's; "host": it does not fit, leaves with that cgroup, and a fresh init joins
    before = set(_pending(driver))
    cid = d.out("run", "-d", "--network", network, "busybox", "sleep", "100").strip()
    pid = int(d.out("inspect", "-f", "{{.State.Pid}}", cid))
    lines = _v1_lines(pid, driver)
    assert lines and all(p == f"/dockyard/{cid}" for p in lines.values()), lines
    assert set(_pending(driver)) - before == set()


def _spares(driver) -> list[str]:
    return [n for n in driver.children("dockyard") if n.startswith(".spare-")]


def _clear_spares(driver) -> None:
    for n in _spares(driver):
        cgroupahead.drop(driver, f"dockyard/{n}")


def test_a_restocked_spare_is_claimed_by_the_next_make(driver):
    _clear_spares(driver)
    cgroupahead.restock(driver)
    cgroupahead.restock(driver)  # one waits already: no second
    spares = _spares(driver)
    assert len(spares) == 1
    ours = cgroupahead.make(driver)
    try:
        assert _spares(driver) == []
        assert ours.startswith("dockyard/.pending-") and driver.exists(ours)
        if "devices" in driver.mounts:
            with open(os.path.join(driver._dir("devices", ours), "devices.list")) as f:
                rules = f.read().split("\n")
            assert "c 1:3 rwm" in rules and "a *:* rwm" not in rules
    finally:
        cgroupahead.drop(driver, ours)


def test_a_half_made_spare_is_dropped_and_a_fresh_cgroup_made(driver):
    _clear_spares(driver)
    first = next(iter(driver.mounts.values()))
    broken = os.path.join(first, "dockyard", ".spare-1-1")
    os.mkdir(broken)  # in the first hierarchy only: its maker died half-way
    ours = cgroupahead.make(driver)
    try:
        assert not os.path.exists(broken)
        assert _spares(driver) == []
        assert all(os.path.isdir(d) for d in driver._dirs(ours))
    finally:
        cgroupahead.drop(driver, ours)


def test_a_finished_run_leaves_a_spare_for_the_next(d, driver):
    _clear_spares(driver)
    assert d("run", "--rm", "busybox", "true").returncode == 0
    deadline = time.time() + 5
    while not _spares(driver) and time.time() < deadline:
        time.sleep(0.02)
    (spare,) = _spares(driver)
    assert d("run", "--rm", "busybox", "true").returncode == 0
    assert spare not in _spares(driver)  # claimed (and, once it is done, another made)
