"""Health checks end to end: the real CLI, real containers, probes run inside them by the
monitor process; status in `ps`, `inspect` and `ps --filter health=`."""

import pytest
from runopts_support import busybox_cli, inspect, monitors, one_line_error, wait_until


@pytest.fixture
def d(dy, busybox_tar):
    yield from busybox_cli(dy, busybox_tar)


def health(d, name: str) -> dict:
    return inspect(d, name)["State"].get("Health") or {}


def status_of(d, name: str) -> str:
    return d.out("ps", "-a", "--filter", f"name=^/{name}$", "--format", "{{.Status}}").strip()


def test_starting_then_healthy_in_ps_inspect_and_filters(d):
    d("run", "-d", "--name", "hc", "--health-cmd", "test -f /tmp/ready && echo fine",
      "--health-interval", "100ms", "--health-retries", "50",
      "busybox", "sh", "-c", "sleep 1; touch /tmp/ready; sleep 60")  # fmt: skip
    d("run", "-d", "--name", "plain", "busybox", "sleep", "60")
    assert "(health: starting)" in status_of(d, "hc")
    assert d.out("ps", "--filter", "health=starting", "--format", "{{.Names}}").split() == ["hc"]
    wait_until(lambda: health(d, "hc").get("Status") == "healthy")
    st = status_of(d, "hc")
    assert st.startswith("Up ") and st.endswith(" (healthy)")
    assert status_of(d, "plain").startswith("Up ") and "(" not in status_of(d, "plain")
    h = health(d, "hc")
    assert h["FailingStreak"] == 0
    assert 1 <= len(h["Log"]) <= 5
    last = h["Log"][-1]
    assert last["ExitCode"] == 0 and last["Output"] == "fine\n"
    assert set(last) == {"Start", "End", "ExitCode", "Output"}
    assert inspect(d, "hc")["Config"]["Healthcheck"] == {
        "Test": ["CMD-SHELL", "test -f /tmp/ready && echo fine"],
        "Interval": 100_000_000, "Retries": 50,
    }  # fmt: skip
    assert d.out("ps", "--filter", "health=healthy", "--format", "{{.Names}}").split() == ["hc"]
    assert d.out("ps", "--filter", "health=none", "--format", "{{.Names}}").split() == ["plain"]
    assert "Health" not in inspect(d, "plain")["State"]


def test_retries_failures_make_it_unhealthy_with_the_probes_output(d):
    d("run", "-d", "--name", "sick", "--health-cmd", "echo broken >&2; exit 3",
      "--health-interval", "50ms", "--health-retries", "2", "busybox", "sleep", "60")  # fmt: skip
    wait_until(lambda: health(d, "sick").get("Status") == "unhealthy")
    h = health(d, "sick")
    assert h["FailingStreak"] >= 2
    assert h["Log"][-1]["ExitCode"] == 3 and h["Log"][-1]["Output"] == "broken\n"
    assert status_of(d, "sick").endswith(" (unhealthy)")
    assert d.out("ps", "--filter", "health=unhealthy", "-q") != ""
    # the log keeps only the last five results
    wait_until(lambda: len(health(d, "sick")["Log"]) == 5)
    assert len(health(d, "sick")["Log"]) == 5


def test_a_probe_over_its_timeout_is_killed_and_counts_as_minus_one(d):
    d("run", "-d", "--name", "slow", "--health-cmd", "echo started; sleep 30",
      "--health-timeout", "300ms", "--health-interval", "50ms", "--health-retries", "1",
      "busybox", "sleep", "60")  # fmt: skip
    wait_until(lambda: health(d, "slow").get("Status") == "unhealthy")
    last = health(d, "slow")["Log"][-1]
    assert last["ExitCode"] == -1
    assert last["Output"].startswith("Health check exceeded timeout (300ms)")


def test_output_is_capped(d):
    d("run", "-d", "--name", "loud", "--health-cmd", "head -c 10000 /dev/zero | tr '\\0' a",
      "--health-interval", "50ms", "busybox", "sleep", "60")  # fmt: skip
    # exactly 4096 bytes is all of it: no "..."
    d("run", "-d", "--name", "full", "--health-cmd", "head -c 4096 /dev/zero | tr '\\0' b",
      "--health-interval", "50ms", "busybox", "sleep", "60")  # fmt: skip
    wait_until(lambda: health(d, "loud").get("Log") and health(d, "full").get("Log"))
    # Docker keeps the first 4096 bytes and adds "..." when there was more
    assert health(d, "loud")["Log"][-1]["Output"] == "a" * 4096 + "..."
    assert health(d, "full")["Log"][-1]["Output"] == "b" * 4096


def test_failures_in_the_start_period_do_not_count(d):
    d("run", "-d", "--name", "boot", "--health-cmd", "false", "--health-interval", "50ms",
      "--health-start-period", "60s", "--health-start-interval", "50ms",
      "--health-retries", "1", "busybox", "sleep", "60")  # fmt: skip
    wait_until(lambda: len(health(d, "boot").get("Log") or ()) >= 3)
    h = health(d, "boot")
    assert h["Status"] == "starting" and h["FailingStreak"] == 0
    assert all(e["ExitCode"] == 1 for e in h["Log"])


def test_the_images_healthcheck_runs_and_no_healthcheck_disables_it(dy, busybox_tar):
    gen = busybox_cli(dy, busybox_tar, ('CMD ["sh"]', 'HEALTHCHECK --interval=100ms CMD ["true"]'))
    d = next(gen)
    try:
        d("run", "-d", "--name", "img", "busybox", "sleep", "60")
        wait_until(lambda: health(d, "img").get("Status") == "healthy")
        assert inspect(d, "img")["Config"]["Healthcheck"]["Test"] == ["CMD", "true"]
        # a flag overrides only its own field
        d("run", "-d", "--name", "over", "--health-retries", "9", "busybox", "sleep", "60")
        hc = inspect(d, "over")["Config"]["Healthcheck"]
        assert hc == {"Test": ["CMD", "true"], "Interval": 100_000_000, "Retries": 9}
        d("run", "-d", "--name", "off", "--no-healthcheck", "busybox", "sleep", "60")
        off = inspect(d, "off")
        # Docker's merge: NONE is the test; the image's other fields are filled in still
        assert off["Config"]["Healthcheck"] == {"Test": ["NONE"], "Interval": 100_000_000}
        assert "Health" not in off["State"]
        assert d.out("ps", "--filter", "health=none", "--format", "{{.Names}}").split() == ["off"]
    finally:
        next(gen, None)


def test_the_monitor_ends_with_the_container_and_comes_back_with_it(d):
    d("run", "-d", "--name", "cycle", "--health-cmd", "true", "--health-interval", "50ms",
      "busybox", "sleep", "60")  # fmt: skip
    wait_until(lambda: health(d, "cycle").get("Status") == "healthy")
    assert len(monitors(d.root)) == 1
    d("stop", "-t", "0", "cycle")
    wait_until(lambda: monitors(d.root) == [])
    # a stopped container keeps its last health state, ps shows the exit only
    assert health(d, "cycle")["Status"] == "healthy"
    assert status_of(d, "cycle").startswith("Exited")
    d("start", "cycle")
    assert health(d, "cycle")["Status"] in ("starting", "healthy")
    wait_until(lambda: len(monitors(d.root)) == 1)
    wait_until(lambda: health(d, "cycle").get("Status") == "healthy")


def test_a_policy_restart_brings_the_monitor_back(d):
    d("run", "-d", "--name", "flappy", "--restart", "always", "--health-cmd", "true",
      "--health-interval", "50ms", "busybox", "sh", "-c", "sleep 0.5; exit 1")  # fmt: skip
    wait_until(lambda: inspect(d, "flappy")["RestartCount"] >= 1
               and inspect(d, "flappy")["State"]["Running"])  # fmt: skip
    wait_until(lambda: len(monitors(d.root)) == 1)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--no-healthcheck", "--health-cmd", "true"], "--no-healthcheck conflicts with --health-* options"),
        (["--health-interval", "-1s", "--health-cmd", "true"], "--health-interval cannot be negative"),
        (["--health-interval", "100us", "--health-cmd", "true"], "Interval in Healthcheck cannot be less than 1ms"),
        (["--health-timeout", "soon"], 'invalid argument "soon" for "--health-timeout" flag: time: invalid duration "soon"'),
    ],
)  # fmt: skip
def test_bad_health_flags(d, args, message):
    p = d("run", "--rm", *args, "busybox", "true", check=False)
    assert message in one_line_error(p, 125)
    assert d.out("ps", "-aq") == ""


def test_bad_health_filter(d):
    p = d("ps", "--filter", "health=sickly", check=False)
    assert "Unrecognised filter value for health: sickly" in one_line_error(p, 1)


def test_a_short_run_rm_with_a_check_leaves_nothing(d):
    for _ in range(3):
        assert d("run", "--rm", "--health-cmd", "true", "busybox", "true").returncode == 0
    containers = d.root / "containers"
    wait_until(lambda: not monitors(d.root) and not any(containers.iterdir()))
