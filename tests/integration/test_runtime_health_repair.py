"""A health monitor killed with SIGKILL while its container runs is started again by its
supervisor within seconds, or sooner by the next command that looks at the container,
carries on from the state it left (status and log kept), and there is never more than one
per container. The real CLI, real containers."""

import os
import signal
import subprocess

import pytest
from runopts_support import busybox_cli, inspect, monitors, wait_until


@pytest.fixture
def d(dy, busybox_tar):
    yield from busybox_cli(dy, busybox_tar)


def health(d, name: str) -> dict:
    return inspect(d, name)["State"].get("Health") or {}


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except FileNotFoundError:
        return True


def kill_monitor(d) -> tuple[int, str]:
    """SIGKILL the only monitor; (its pid, the newest probe's start before the kill)."""
    [pid] = monitors(d.root)
    last = health(d, "hc")["Log"][-1]["Start"]  # (this inspect finds the monitor alive)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: gone(pid))
    return pid, last


def test_a_killed_monitor_is_restarted_by_the_next_command_and_goes_on(d):
    d("run", "-d", "--name", "hc", "--health-cmd", "echo ok", "--health-interval", "100ms",
      "busybox", "sleep", "120")  # fmt: skip
    wait_until(lambda: health(d, "hc").get("Status") == "healthy")
    old, last = kill_monitor(d)
    h = health(d, "hc")  # the next command: it notices and starts a new one
    assert h["Status"] == "healthy"  # carried on, not reset to "starting"
    [new] = wait_until(lambda: monitors(d.root))
    assert new != old
    wait_until(lambda: health(d, "hc")["Log"][-1]["Start"] > last)  # probing again
    h = health(d, "hc")
    assert h["Status"] == "healthy" and h["FailingStreak"] == 0 and len(h["Log"]) >= 2
    assert monitors(d.root) == [new]


@pytest.mark.parametrize("attached", [False, True])
def test_the_supervisor_restarts_a_killed_monitor_with_no_command_run(d, attached):
    """Nothing touches the container after the kill: its supervisor (the slim one of a
    detached container, or the forked one of an attached run) notices by itself."""
    argv = d.argv("run", "--name", "hc", "--health-cmd", "echo ok", "--health-interval",
                  "100ms", *(() if attached else ("-d",)), "busybox", "sleep", "60")  # fmt: skip
    client = subprocess.Popen(argv, env=d.env, stdout=subprocess.DEVNULL)
    try:
        if not attached:
            assert client.wait(timeout=60) == 0
        [old] = wait_until(lambda: monitors(d.root))
        wait_until(lambda: health(d, "hc").get("Status") == "healthy")
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: gone(old))
        # no command from here on until the new monitor is there: /proc only
        [new] = wait_until(lambda: monitors(d.root), timeout=10)
        assert new != old
        h = health(d, "hc")
        assert h["Status"] == "healthy" and len(h["Log"]) >= 1
    finally:
        d("rm", "-f", "hc", check=False)
        client.wait(timeout=60)
    wait_until(lambda: not monitors(d.root))


def test_the_log_grows_again_after_the_repair(d):
    d("run", "-d", "--name", "hc", "--health-cmd", "echo ok", "--health-interval", "300ms",
      "busybox", "sleep", "120")  # fmt: skip
    wait_until(lambda: len(health(d, "hc").get("Log") or ()) >= 1)
    _, last = kill_monitor(d)
    seen = len(health(d, "hc")["Log"])  # the repair
    assert 1 <= seen <= 5
    wait_until(lambda: len(health(d, "hc")["Log"]) > seen or seen == 5)
    wait_until(lambda: health(d, "hc")["Log"][-1]["Start"] > last)
    assert len(monitors(d.root)) == 1


def test_many_commands_at_once_start_one_monitor(d):
    d("run", "-d", "--name", "hc", "--health-cmd", "echo ok", "--health-interval", "100ms",
      "busybox", "sleep", "120")  # fmt: skip
    wait_until(lambda: health(d, "hc").get("Log"))
    kill_monitor(d)
    procs = [
        subprocess.Popen(d.argv(*args), env=d.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        for args in [("inspect", "hc"), ("ps",), ("inspect", "hc"), ("ps", "-a"),
                     ("inspect", "hc"), ("logs", "hc")]
    ]  # fmt: skip
    for p in procs:
        assert p.wait(timeout=60) == 0
    [one] = wait_until(lambda: monitors(d.root))
    # more commands while it runs start nothing
    for _ in range(3):
        d("inspect", "hc")
        assert monitors(d.root) == [one]


def test_a_restart_leaves_one_monitor_and_a_stopped_container_gets_none(d):
    d("run", "-d", "--name", "hc", "--health-cmd", "echo ok", "--health-interval", "100ms",
      "busybox", "sleep", "120")  # fmt: skip
    wait_until(lambda: health(d, "hc").get("Status") == "healthy")
    d("restart", "-t", "0", "hc")
    wait_until(lambda: len(monitors(d.root)) == 1 and health(d, "hc")["Status"] == "healthy")
    d("stop", "-t", "0", "hc")
    wait_until(lambda: monitors(d.root) == [])
    d("inspect", "hc")  # a stopped container: nothing to repair
    d("ps", "-a")
    assert monitors(d.root) == []


def test_a_container_without_a_check_gets_no_monitor(d):
    d("run", "-d", "--name", "plain", "busybox", "sleep", "120")
    d("inspect", "plain")
    d("ps")
    assert monitors(d.root) == []
    cdir = os.path.join(str(d.root), "containers", inspect(d, "plain")["Id"])
    assert not os.path.exists(os.path.join(cdir, "health.lock"))
