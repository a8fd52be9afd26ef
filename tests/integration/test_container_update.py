"""`dockyard update` on real cgroups: new limits land in the running container's cgroup
files and its processes feel them (a memory hog, a fork loop); stopped containers keep
them for their next start; Docker's refusals; an OOM kill reported as Docker does."""

import json
import os

import pytest
from cgroup_cli_support import cgroup_file, cli_with_busybox, one_line_error, wait_for


@pytest.fixture
def d(dy, busybox_tar):
    yield from cli_with_busybox(dy, busybox_tar)


MiB = 1 << 20
# waits for /ctl/go, then holds ~40 MB in the shell
HOG = 'while [ ! -e /ctl/go ]; do sleep 0.05; done; x=$(head -c 40000000 /dev/zero | tr "\\0" a); echo survived'
# waits for /ctl/go, then forks ten sleepers
FORKS = "while [ ! -e /ctl/go ]; do sleep 0.05; done; for i in 0 1 2 3 4 5 6 7 8 9; do sleep 30 & done; echo forked"


def _id(d, name: str) -> str:
    return d.out("inspect", "-f", "{{.Id}}", name).strip()


def _host_config(d, name: str) -> dict:
    return json.loads(d.out("inspect", "-f", "{{json .HostConfig}}", name))


def test_memory_update_is_live_and_felt_by_a_hog(d, tmp_path):
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    for name in ("kept", "shrunk"):
        d("run", "-d", "--name", name, "-v", f"{ctl}:/ctl", "--memory", "256m",
          "--memory-swap", "256m", "busybox", "sh", "-c", HOG)  # fmt: skip
    assert d.out("update", "--memory", "16m", "--memory-swap", "16m", "shrunk") == "shrunk\n"
    cid = _id(d, "shrunk")
    assert cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max") == str(16 * MiB)
    hc = _host_config(d, "shrunk")
    assert (hc["Memory"], hc["MemorySwap"]) == (16 * MiB, 16 * MiB)
    (ctl / "go").touch()
    assert d.out("wait", "shrunk", "kept") == "137\n0\n"
    assert d.out("logs", "kept") == "survived\n"  # the control: the old limit was enough
    state = json.loads(d.out("inspect", "-f", "{{json .State}}", "shrunk"))
    assert state["OOMKilled"] is True and state["ExitCode"] == 137


def test_pids_limit_update_caps_a_fork_loop(d, tmp_path):
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    d("run", "-d", "--name", "fk", "-v", f"{ctl}:/ctl", "busybox", "sh", "-c", FORKS)
    assert d.out("update", "--pids-limit", "5", "fk") == "fk\n"
    assert cgroup_file(_id(d, "fk"), "pids", "pids.max", "pids.max") == "5"
    assert _host_config(d, "fk")["PidsLimit"] == 5
    (ctl / "go").touch()
    wait_for(lambda: b"fork" in d("logs", "fk").stderr, "the loop hit the limit")
    assert int(d.out("stats", "--no-stream", "--format", "{{.PIDs}}", "fk")) <= 5
    d.out("wait", "fk")  # the shell gives up when it cannot fork
    logs = d("logs", "fk")
    assert b"can't fork" in logs.stderr and b"forked" not in logs.stdout


def test_cpus_update_and_restart_keeps_it(d):
    d("run", "-d", "--name", "cp", "busybox", "sleep", "1000")
    assert d.out("update", "--cpus", "0.5", "--cpu-shares", "512", "cp") == "cp\n"
    cid = _id(d, "cp")
    if os.path.isdir("/sys/fs/cgroup/cpu/dockyard"):
        assert cgroup_file(cid, "cpu", "cpu.cfs_quota_us", "cpu.max") == "50000"
        assert cgroup_file(cid, "cpu", "cpu.cfs_period_us", "cpu.max") == "100000"
    else:
        assert cgroup_file(cid, "cpu", "cpu.cfs_quota_us", "cpu.max") == "50000 100000"
    hc = _host_config(d, "cp")
    assert (hc["NanoCpus"], hc["CpuShares"], hc["CpuQuota"]) == (500_000_000, 512, 0)
    d("restart", "-t", "0", "cp")
    assert cgroup_file(cid, "cpu", "cpu.cfs_quota_us", "cpu.max").startswith("50000")
    p = d("update", "--cpu-quota", "20000", "cp", check=False)
    assert one_line_error(p).endswith(
        "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"
    )


def test_a_stopped_container_gets_the_limits_at_its_next_start(d):
    d("create", "--name", "st", "busybox", "sleep", "1000")
    out = d.out("update", "--memory", "32m", "--memory-swap", "64m", "--pids-limit", "7",
                "--restart", "on-failure:2", "st")  # fmt: skip
    assert out == "st\n"
    hc = _host_config(d, "st")
    assert (hc["Memory"], hc["MemorySwap"], hc["PidsLimit"]) == (32 * MiB, 64 * MiB, 7)
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    d("start", "st")
    cid = _id(d, "st")
    assert cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max") == str(32 * MiB)
    assert cgroup_file(cid, "pids", "pids.max", "pids.max") == "7"


def test_refusals_leave_the_container_as_it_was(d, tmp_path):
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    d("run", "-d", "--name", "mm", "-v", f"{ctl}:/ctl", "--memory", "64m", "busybox", "sh", "-c",
      'x=$(head -c 30000000 /dev/zero | tr "\\0" a); touch /ctl/ready; while :; do sleep 1; done')  # fmt: skip
    wait_for(lambda: (ctl / "ready").exists(), "the container holds its memory")
    cid = _id(d, "mm")
    p = d("update", "--memory", "200m", "mm", check=False)
    assert one_line_error(p) == (
        f"Error: Cannot update container {cid}: Memory limit should be smaller than already set "
        "memoryswap limit, update the memoryswap at the same time"
    )
    # below what it uses: the kernel's EBUSY, as one clear line; nothing changes
    p = d("update", "--memory", "8m", "--memory-swap", "8m", "mm", check=False)
    err = one_line_error(p)
    assert err.startswith(f"Error: Cannot update container {cid}: ") and "busy" in err
    assert "below what the container uses" in err
    assert cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max") == str(64 * MiB)
    assert _host_config(d, "mm")["Memory"] == 64 * MiB
    assert d.out("inspect", "-f", "{{.State.Status}}", "mm") == "running\n"
    p = d("update", "--memory", "1k", "mm", check=False)
    assert one_line_error(p) == "Error: Minimum memory limit allowed is 6MB"
    p = d("update", "--memory", "lots", "mm", check=False)
    assert 'invalid argument "lots" for "-m, --memory" flag' in p.stderr.decode()
    assert p.returncode == 125
    p = d("update", "mm", check=False)
    assert one_line_error(p) == "you must provide one or more flags when using this command"
    # several containers: the good ones are updated and printed, the failures reported
    p = d("update", "--pids-limit", "50", "mm", "nope", check=False)
    assert p.stdout == b"mm\n" and one_line_error(p) == "Error: No such container: nope"


def test_restart_policy_cannot_be_set_on_an_auto_removed_container(d):
    d("run", "-d", "--rm", "--name", "rr", "busybox", "sleep", "1000")
    p = d("update", "--restart", "always", "rr", check=False)
    assert one_line_error(p).endswith(
        "Restart policy cannot be updated because AutoRemove is enabled for the container"
    )
    assert _host_config(d, "rr")["RestartPolicy"]["Name"] == "no"


def test_a_memory_hog_under_16m_is_oom_killed(d):
    p = d("run", "--name", "hog", "--memory", "16m", "busybox", "sh", "-c",
          "x=a; while :; do x=$x$x; done", check=False)  # fmt: skip
    assert p.returncode == 137
    state = json.loads(d.out("inspect", "-f", "{{json .State}}", "hog"))
    assert state["OOMKilled"] is True and state["ExitCode"] == 137 and state["Status"] == "exited"


def test_memory_reservation_and_cpuset_mems_survive_a_restart(d):
    d("run", "-d", "--name", "res", "busybox", "sleep", "1000")
    d("update", "--memory-reservation", "24m", "--cpuset-mems", "0", "res")
    cid = _id(d, "res")
    soft = ("memory.soft_limit_in_bytes", "memory.low")
    assert cgroup_file(cid, "memory", *soft) == str(24 * MiB)
    d("restart", "-t", "0", "res")
    assert cgroup_file(cid, "memory", *soft) == str(24 * MiB)
    assert cgroup_file(cid, "cpuset", "cpuset.mems", "cpuset.mems") == "0"
    hc = _host_config(d, "res")
    assert (hc["MemoryReservation"], hc["CpusetMems"]) == (24 * MiB, "0")
