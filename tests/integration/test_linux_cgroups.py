"""Cgroup drivers on the real kernel: limits a container feels (pids, memory/OOM, devices),
freeze/thaw, stats, kill and removal. This host is hybrid: controllers on v1, plus a
controller-less unified v2 hierarchy where the v2 driver's core (join, freeze, kill) runs."""

import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from dockyard.errors import AlreadyExists, InvalidArgument, Unsupported
from dockyard.linux import caps, cgroups, init, mounts
from dockyard.linux.cgroups.base import DEFAULT_DEVICE_RULES, Resources, read_mounts
from dockyard.linux.cgroups.v1 import V1Driver
from dockyard.linux.cgroups.v2 import V2Driver

MiB = 1 << 20


@pytest.fixture(scope="module")
def rootfs(busybox_tar):
    d = tempfile.mkdtemp(prefix="dy-cg-")
    subprocess.run(["tar", "-x", "-f", str(busybox_tar), "-C", d], check=True)
    yield d
    with open("/proc/self/mountinfo") as f:
        assert d not in f.read()
    shutil.rmtree(d)


def _cleanup(driver, parent, name):
    driver.remove(name)
    driver.remove(parent)
    assert not driver.exists(name) and not driver.exists(parent)


@pytest.fixture
def v1():
    driver = cgroups.detect()
    if driver.version != 1:
        pytest.skip("this host keeps its controllers on cgroup v2")
    parent = f"dockyard-test-{uuid.uuid4().hex[:8]}"
    name = f"{parent}/c1"
    driver.create(name)
    yield driver, name
    _cleanup(driver, parent, name)


@pytest.fixture
def v2():
    _, point = read_mounts()
    if not point:
        pytest.skip("no cgroup2 hierarchy mounted")
    driver = V2Driver(point)
    parent = f"dockyard-test-{uuid.uuid4().hex[:8]}"
    name = f"{parent}/c1"
    driver.create(name)
    yield driver, name
    _cleanup(driver, parent, name)


class Container:
    """A busybox shell in the cgroup; output is read line by line."""

    def __init__(self, rootfs, driver, name, script):
        r, w = os.pipe()
        stdin, self.stdin_w = os.pipe()  # `read x` blocks until wait() closes it
        cfg = init.InitConfig(
            argv=("/bin/sh", "-c", script),
            rootfs=mounts.RootfsSpec(rootfs=rootfs),
            caps=caps.resolve(),
            cgroup_join=tuple(driver.join_paths(name)),
            stdio=(stdin, w, w),
        )
        try:
            self.h = init.spawn(cfg)
        finally:
            os.close(w)
            os.close(stdin)
        self.h.wait_exec()
        self.out = os.fdopen(r, "rb")

    def read_until(self, marker: str) -> str:
        seen = b""
        while marker.encode() not in seen:
            line = self.out.readline()
            if not line:
                break
            seen += line
        return seen.decode()

    def wait(self) -> tuple[int, str]:
        os.close(self.stdin_w)
        rest = self.out.read().decode()
        self.out.close()
        _, st = os.waitpid(self.h.pid, 0)
        return os.waitstatus_to_exitcode(st), rest


def test_detect_picks_v1_on_a_hybrid_host():
    v1_mounts, _v2_point = read_mounts()
    driver = cgroups.detect()
    assert isinstance(driver, V1Driver if v1_mounts else V2Driver)


def test_names_cannot_escape_the_hierarchy(v1):
    driver, _ = v1
    for bad in ("../etc", "/abs", "a//b", "a/./b", ""):
        with pytest.raises(InvalidArgument):
            driver.create(bad)


def test_create_twice_is_already_exists(v1):
    driver, name = v1
    with pytest.raises(AlreadyExists):
        driver.create(name)


def test_the_child_joins_every_hierarchy(v1, rootfs):
    driver, name = v1
    c = Container(rootfs, driver, name, "cat /proc/self/cgroup; echo END; read x")
    out = c.read_until("END")
    for line in out.splitlines()[:-1]:
        _, controllers, path = line.split(":", 2)
        if controllers in driver.mounts:
            assert path == "/" + name, line
    assert driver.pids(name) == [c.h.pid]
    driver.kill(name)
    c.wait()


def test_pids_limit_caps_a_fork_bomb(v1, rootfs):
    driver, name = v1
    driver.set(name, Resources(pids_limit=20))
    # the inner shell forks until the cap stops it; pid 1 survives to be counted
    bomb = "sh -c 'for i in $(seq 60); do sleep 60 & done' 2>&1; echo SPAWNED; read x"
    c = Container(rootfs, driver, name, bomb)
    out = c.read_until("SPAWNED")
    assert "can't fork" in out or "Resource temporarily unavailable" in out
    running = len(driver.pids(name))
    assert 15 <= running <= 20 and driver.stats(name).pids <= 20
    driver.kill(name)
    code, _ = c.wait()
    assert code == -9


def test_memory_limit_triggers_an_oom_kill_the_driver_reports(v1, rootfs):
    driver, name = v1
    driver.set(name, Resources(memory=32 * MiB, memory_swap=32 * MiB))
    assert driver.stats(name).memory_limit == 32 * MiB
    assert driver.oom_kills(name) == 0
    c = Container(
        rootfs,
        driver,
        name,
        "head -c 200000000 /dev/zero | tr '\\0' a | sort > /dev/null; echo rc=$?",
    )
    _code, out = c.wait()
    assert "rc=137" in out  # sort was SIGKILLed
    assert driver.oom_kills(name) >= 1


def test_device_rules_stop_mknod_of_a_host_disk(v1, rootfs):
    driver, name = v1
    driver.set(name, Resources(devices=DEFAULT_DEVICE_RULES))
    c = Container(
        rootfs,
        driver,
        name,
        "mknod /tmp/disk b 8 0 && head -c 1 /tmp/disk; echo disk=$?;"
        "echo x > /dev/null; echo null=$?",
    )
    _code, out = c.wait()
    assert "disk=1" in out and "null=0" in out
    assert "Operation not permitted" in out


def test_cpu_and_cpuset_limits_read_back_and_bad_values_are_refused(v1):
    driver, name = v1
    driver.set(
        name, Resources(cpu_quota=150000, cpu_period=100000, cpu_shares=512, cpuset_cpus="0")
    )
    cpu = os.path.join(driver.mounts["cpu"], name)
    with open(os.path.join(cpu, "cpu.cfs_quota_us")) as f:
        assert f.read().strip() == "150000"
    with open(os.path.join(cpu, "cpu.shares")) as f:
        assert f.read().strip() == "512"
    with open(os.path.join(driver.mounts["cpuset"], name, "cpuset.cpus")) as f:
        assert f.read().strip() == "0"
    with pytest.raises(InvalidArgument, match=r"cpuset\.cpus"):
        driver.set(name, Resources(cpuset_cpus="4096"))


def _cpu_after(driver, name, seconds):
    a = driver.stats(name).cpu_usage_ns
    time.sleep(seconds)
    return driver.stats(name).cpu_usage_ns - a


def test_freeze_stops_a_busy_loop_and_thaw_resumes_it(v1, rootfs):
    driver, name = v1
    c = Container(rootfs, driver, name, "echo GO; while :; do :; done")
    c.read_until("GO")
    assert _cpu_after(driver, name, 0.1) > 0
    driver.freeze(name)
    assert driver.frozen(name)
    assert _cpu_after(driver, name, 0.2) == 0
    driver.thaw(name)
    assert not driver.frozen(name)
    assert _cpu_after(driver, name, 0.1) > 0
    driver.kill(name)
    c.wait()


def test_remove_kills_what_is_left(v1, rootfs):
    driver, name = v1
    c = Container(rootfs, driver, name, "sleep 60 & sleep 60 & echo UP; wait")
    c.read_until("UP")
    assert len(driver.pids(name)) == 3
    assert driver.stats(name).memory_usage > 0
    driver.remove(name)
    assert not driver.exists(name)
    code, _ = c.wait()
    assert code == -9


def test_v2_core_join_freeze_kill_remove(v2, rootfs):
    driver, name = v2
    c = Container(rootfs, driver, name, "cat /proc/self/cgroup; echo GO; while :; do :; done")
    out = c.read_until("GO")
    assert f"0::/{name}" in out
    driver.freeze(name)
    assert driver.frozen(name)
    assert _cpu_after(driver, name, 0.2) == 0
    driver.thaw(name)
    assert _cpu_after(driver, name, 0.1) > 0
    driver.kill(name)
    code, _ = c.wait()
    assert code == -9
    assert driver.pids(name) == []


def test_v2_refuses_limits_its_hierarchy_cannot_hold(v2):
    driver, name = v2
    with open(os.path.join(driver.root, "cgroup.controllers")) as f:
        offered = f.read().split()
    if "memory" in offered:
        pytest.skip("memory controller present on v2 here")
    with pytest.raises(Unsupported, match="memory"):
        driver.set(name, Resources(memory=64 * MiB))


def test_v2_device_program_stops_opening_a_host_disk(v2, rootfs):
    driver, name = v2
    driver.set(name, Resources(devices=DEFAULT_DEVICE_RULES))
    c = Container(
        rootfs,
        driver,
        name,
        "mknod /tmp/disk b 8 0; head -c 1 /tmp/disk; echo disk=$?;"
        "echo x > /dev/null; echo null=$?; head -c 3 /dev/urandom | wc -c;"
        "mknod /tmp/mem c 1 1; head -c 1 /tmp/mem; echo mem=$?",
    )
    _code, out = c.wait()
    assert "disk=1" in out and "mem=1" in out and "Operation not permitted" in out
    assert "null=0" in out and "\n3\n" in out


def test_v2_clone_into_cgroup_starts_the_init_inside(v2, rootfs):
    driver, name = v2
    r, w = os.pipe()
    fd = driver.open_dir(name)
    try:
        h = init.spawn(
            init.InitConfig(
                argv=("/bin/sh", "-c", "cat /proc/self/cgroup"),
                rootfs=mounts.RootfsSpec(rootfs),
                cgroup_fd=fd,
                stdio=(0, w, w),
            )
        )
    finally:
        os.close(fd)
        os.close(w)
    h.wait_exec()
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    os.waitpid(h.pid, 0)
    assert f"0::/{name}" in out
