"""How the v2 driver maps Docker's limits onto unified-hierarchy files, checked on a
directory laid out like a cgroup (the kernel-side behaviour is in tests/integration)."""

import pytest

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.linux.cgroups.base import Resources, check_name, read_keyed
from dockyard.linux.cgroups.v2 import V2Driver

MiB = 1 << 20


@pytest.fixture
def driver(tmp_path):
    root = tmp_path / "cg"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    d = V2Driver(str(root))
    d.create("dockyard/c1")
    leaf = root / "dockyard" / "c1"
    (leaf / "cgroup.controllers").write_text("cpuset cpu memory pids\n")
    for f in ("memory.max", "memory.swap.max", "cpu.max", "cpu.weight", "cpuset.cpus", "pids.max"):
        (leaf / f).write_text("")  # the kernel creates these with the cgroup
    return d, leaf, root


def test_create_enables_the_controllers_down_the_tree(driver):
    _, leaf, root = driver
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +cpuset +memory +pids +io"
    assert leaf.is_dir()


def test_limits_land_in_v2_files(driver):
    d, leaf, _ = driver
    d.set(
        "dockyard/c1",
        Resources(
            memory=64 * MiB,
            memory_swap=192 * MiB,
            cpu_quota=150000,
            cpu_period=100000,
            cpu_shares=1024,
            cpuset_cpus="0-1",
            pids_limit=-1,
        ),
    )
    assert (leaf / "memory.max").read_text() == str(64 * MiB)
    assert (leaf / "memory.swap.max").read_text() == str(128 * MiB)  # v2 counts swap alone
    assert (leaf / "cpu.max").read_text() == "150000 100000"
    assert (leaf / "cpu.weight").read_text() == "39"
    assert (leaf / "cpuset.cpus").read_text() == "0-1"
    assert (leaf / "pids.max").read_text() == "max"


def test_unlimited_values(driver):
    d, leaf, _ = driver
    d.set("dockyard/c1", Resources(memory=-1, memory_swap=-1, cpu_quota=-1, pids_limit=50))
    assert (leaf / "memory.max").read_text() == "max"
    assert (leaf / "memory.swap.max").read_text() == "max"
    assert (leaf / "cpu.max").read_text() == "max 100000"
    assert (leaf / "pids.max").read_text() == "50"


def test_missing_controller_is_unsupported(driver):
    d, leaf, _ = driver
    (leaf / "cgroup.controllers").write_text("cpu\n")
    with pytest.raises(Unsupported, match="pids"):
        d.set("dockyard/c1", Resources(pids_limit=5))


@pytest.mark.parametrize("bad", ["../x", "/etc", "a//b", "a/../../b", ".", ""])
def test_hostile_names_are_refused(bad):
    with pytest.raises(InvalidArgument):
        check_name(bad)


def test_keyed_files_parse(tmp_path):
    p = tmp_path / "memory.events"
    p.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n")
    assert read_keyed(str(p))["oom_kill"] == 1
    assert read_keyed(str(tmp_path / "missing")) == {}
