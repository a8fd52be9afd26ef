"""`runtime.handoff`: a supervisor plan survives the trip to a pre-forked supervisor."""

import pytest

from dockyard.linux import init as I
from dockyard.linux import mounts as M
from dockyard.linux.cgroups.v1 import V1Driver
from dockyard.linux.cgroups.v2 import V2Driver
from dockyard.runtime import handoff
from dockyard.runtime.plan import Plan


def _plan(driver) -> Plan:
    rootfs = M.RootfsSpec(
        rootfs="/r/rootfs",
        lowerdirs=("/l/1", "/l/2"),
        upperdir="/r/diff",
        workdir="/r/work",
        volatile=True,
        mounts=(
            M.Mount(destination="/etc/hosts", type="bind", source="/r/hosts", options=("bind",)),
        ),
    )
    cfg = I.InitConfig(
        argv=("sh", "-c", "echo hi"),
        env=("PATH=/bin", "X=é"),
        rootfs=rootfs,
        caps=frozenset({0, 1, 5}),
        uid=1000,
        gid=1000,
        groups=(10, 20),
        seccomp_bpf=b"\x06\x00\x00\x00\x00\x00\xff\x7f",
        cgroup_join=("/sys/fs/cgroup/pids/dockyard/x/tasks",),
        loopback=True,
    )
    return Plan(
        cid="c" * 64, root="/var/lib/dockyard", state_dir="/run/dockyard", db_path="/db",
        container_dir="/r", log_path="/r/log", init=cfg, cgroup="dockyard/x", driver=driver,
        rlimits=((7, 1024, 1024),), status_w=5, barrier_r=6, result_w=-1,
        attach=(-1, 1, 2), auto_remove=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    "driver", [V1Driver({"pids": "/sys/fs/cgroup/pids"}), V2Driver("/sys/fs/cgroup")]
)
def test_a_plan_comes_back_equal(driver):
    plan = _plan(driver)
    back = handoff.loads(handoff.dumps(plan))
    assert type(back) is Plan
    for f in Plan._fields:
        if f != "driver":
            assert getattr(back, f) == getattr(plan, f), f
    assert type(back.driver) is type(driver) and vars(back.driver) == vars(driver)
    assert back.init.rootfs.mounts[0].source == "/r/hosts"


def test_tuples_and_lists_keep_their_kind():
    v = {"t": (1, (2, 3)), "l": [1, [2]], "n": None, "b": b"x", "f": frozenset({1})}
    assert handoff.loads(handoff.dumps(v)) == v
    back = handoff.loads(handoff.dumps(v))
    assert type(back["t"][1]) is tuple and type(back["l"][1]) is list


def test_what_cannot_be_handed_over_is_refused():
    with pytest.raises(TypeError):
        handoff.dumps({"x": object()})
