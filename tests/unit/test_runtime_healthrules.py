"""Health checks, the pure parts: Docker's merge of --health-* flags over the image's
HEALTHCHECK, its validation messages, the status rules, the probe schedule, the state file,
and the monitor's loop driven by a fake clock and a fake probe."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime import health as H
from dockyard.runtime import healthconfig as C
from dockyard.runtime import healthmonitor as M
from dockyard.runtime.spec import RunOptions

S = 1_000_000_000
MS = 1_000_000


def opts(**kw) -> RunOptions:
    return RunOptions(image="x", **kw)


# -- flags, merge, validation -------------------------------------------------------------


def test_no_flags_take_the_images_check():
    image = {"Test": ["CMD", "true"], "Interval": 5 * S, "Retries": 2}
    assert C.decide(opts(), image) == image
    assert C.decide(opts(), None) is None


def test_flags_override_and_the_image_fills_the_rest():
    image = {"Test": ["CMD", "true"], "Interval": 5 * S, "Timeout": 3 * S, "Retries": 2}
    hc = C.decide(opts(health_cmd="exit 1", health_interval=2 * S), image)
    assert hc == {"Test": ["CMD-SHELL", "exit 1"], "Interval": 2 * S, "Timeout": 3 * S,
                  "Retries": 2}  # fmt: skip
    # only a timing flag: the image's test stays
    hc = C.decide(opts(health_retries=7), image)
    assert hc["Test"] == ["CMD", "true"] and hc["Retries"] == 7 and hc["Interval"] == 5 * S


def test_no_healthcheck_disables_the_images_and_conflicts_with_health_flags():
    assert C.decide(opts(no_healthcheck=True), {"Test": ["CMD", "true"]}) == {"Test": ["NONE"]}
    assert not C.active({"Test": ["NONE"]})
    with pytest.raises(
        InvalidArgument, match="--no-healthcheck conflicts with --health-\\* options"
    ):
        C.decide(opts(no_healthcheck=True, health_cmd="true"), None)


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"health_interval": -S}, "--health-interval cannot be negative"),
        ({"health_timeout": -S}, "--health-timeout cannot be negative"),
        ({"health_retries": -1}, "--health-retries cannot be negative"),
        ({"health_start_period": -S}, "--health-start-period cannot be negative"),
        ({"health_start_interval": -S}, "--health-start-interval cannot be negative"),
        ({"health_cmd": "true", "health_interval": 500_000}, "Interval in Healthcheck cannot be less than 1ms"),
        ({"health_cmd": "true", "health_timeout": 1}, "Timeout in Healthcheck cannot be less than 1ms"),
        ({"health_cmd": "true", "health_start_period": 10}, "StartPeriod in Healthcheck cannot be less than 1ms"),
        ({"health_cmd": "true", "health_start_interval": 10}, "StartInterval in Healthcheck cannot be less than 1ms"),
    ],
)  # fmt: skip
def test_dockers_messages_for_bad_values(kw, message):
    with pytest.raises(InvalidArgument) as e:
        C.decide(opts(**kw), None)
    assert str(e.value) == message


def test_a_hostile_image_check_is_cleaned():
    hc = C.merge(None, {"Test": ["CMD", 1], "Interval": "x", "Retries": True, "Timeout": -5})
    assert hc == {"Test": ["CMD", "1"]}


def test_probe_argv():
    assert C.probe_argv({"Test": ["CMD", "ls", "-l"]}, None) == ("ls", "-l")
    assert C.probe_argv({"Test": ["CMD-SHELL", "exit 3"]}, None) == ("/bin/sh", "-c", "exit 3")
    assert C.probe_argv({"Test": ["CMD-SHELL", "x"]}, ("/bin/ash", "-e", "-c")) == (
        "/bin/ash", "-e", "-c", "x",
    )  # fmt: skip
    assert not C.active({"Test": []}) and not C.active({"Test": ["BOGUS", "x"]})
    assert not C.active({"Test": ["CMD"]}) and C.active({"Test": ["CMD-SHELL", "true"]})


def test_defaults():
    t = C.Timing({"Test": ["CMD", "true"]})
    assert (t.interval, t.timeout, t.start_period, t.start_interval, t.retries) == (
        30 * S, 30 * S, 0, 5 * S, 3,
    )  # fmt: skip


@pytest.mark.parametrize(
    "ns,text",
    [(0, "0s"), (30 * S, "30s"), (90 * S, "1m30s"), (1500 * MS, "1.5s"), (500 * MS, "500ms"),
     (3600 * S, "1h0m0s"), (1500, "1.5µs"), (7, "7ns")],
)  # fmt: skip
def test_go_duration_strings(ns, text):
    assert C.go_duration(ns) == text


# -- status rules ---------------------------------------------------------------------------


def result(t_ns: int, code: int, out: str = "") -> H.Result:
    return H.Result(t_ns, t_ns + MS, code, out)


def test_retries_consecutive_failures_make_it_unhealthy_and_one_pass_heals():
    st = H.State()
    for i in range(2):
        st.record(result(i * S, 1), 0, 0, 3)
        assert st.status == H.STARTING and st.streak == i + 1
    st.record(result(3 * S, 1), 0, 0, 3)
    assert st.status == H.UNHEALTHY and st.streak == 3
    st.record(result(4 * S, 0), 0, 0, 3)
    assert st.status == H.HEALTHY and st.streak == 0


def test_failures_in_the_start_period_do_not_count_until_a_probe_passes():
    st = H.State()
    for i in range(5):
        st.record(result(i * S, 1), 0, 10 * S, 1)
    assert st.status == H.STARTING and st.streak == 0
    st.record(result(6 * S, 0), 0, 10 * S, 1)
    assert st.status == H.HEALTHY
    st.record(result(7 * S, 1), 0, 10 * S, 1)  # healthy once: failures count from now on
    assert st.status == H.UNHEALTHY and st.streak == 1
    st2 = H.State()
    st2.record(result(11 * S, 1), 0, 10 * S, 1)  # after the start period
    assert st2.status == H.UNHEALTHY


def test_the_log_keeps_the_last_five_results_with_dockers_fields():
    st = H.State()
    for i in range(8):
        st.record(result(i * S, i, f"out{i}"), 0, 0, 100)
    assert [e["Output"] for e in st.log] == [f"out{i}" for i in range(3, 8)]
    assert set(st.log[0]) == {"Start", "End", "ExitCode", "Output"}
    assert st.log[0]["Start"].endswith("Z") and st.log[0]["ExitCode"] == 3


def test_restart_keeps_the_log_and_starts_over():
    st = H.State(H.UNHEALTHY, 4, [{"ExitCode": 1}])
    st.restart()
    assert (st.status, st.streak, st.log) == (H.STARTING, 0, [{"ExitCode": 1}])


def test_output_capped_at_4096_bytes():
    assert H.cap_output(b"a" * 4096) == "a" * 4096
    assert H.cap_output(b"a" * 5000) == "a" * 4096 + "..."
    assert H.cap_output(b"\xff") == "\ufffd"


def test_schedule_start_interval_only_while_starting_in_the_start_period():
    t = C.Timing({"Interval": 30 * S, "StartPeriod": 60 * S, "StartInterval": 2 * S})
    st = H.State()
    assert st.next_delay(10 * S, 0, t) == 2 * S
    assert st.next_delay(61 * S, 0, t) == 30 * S
    st.status = H.HEALTHY
    assert st.next_delay(10 * S, 0, t) == 30 * S


def test_state_file_round_trip_and_garbage(tmp_path):
    d = str(tmp_path)
    assert H.read(d) is None
    st = H.State(H.HEALTHY, 0, [{"Start": "s", "End": "e", "ExitCode": 0, "Output": "ok"}])
    H.write(d, st)
    back = H.read(d)
    assert back.to_json() == st.to_json()
    assert [p.name for p in tmp_path.iterdir()] == ["health.json"]  # no temp left
    (tmp_path / "health.json").write_bytes(b"{not json")
    assert H.read(d) is None
    (tmp_path / "health.json").write_bytes(b'{"Status": 3, "FailingStreak": "x", "Log": 5}')
    assert H.read(d).to_json() == {"Status": "3", "FailingStreak": 0, "Log": []}


def test_current_for_inspect(tmp_path):
    class Spec:
        healthcheck = {"Test": ["CMD", "true"]}

    class NoCheck:
        healthcheck = {"Test": ["NONE"]}

    d = str(tmp_path)
    assert H.current(NoCheck, d, True) is None
    assert H.current(Spec, d, True).status == H.STARTING  # running, nothing written yet
    assert H.current(Spec, d, False) is None
    H.write(d, H.State(H.UNHEALTHY, 3))
    assert H.status(Spec, d, False) == H.UNHEALTHY  # kept after the container stopped
    assert H.suffix(H.STARTING) == "health: starting" and H.suffix(H.HEALTHY) == "healthy"


# -- the monitor's loop ---------------------------------------------------------------------


class FakeProbe:
    def __init__(self, hc, codes, clock):
        self.config = (hc, ())
        self.codes = list(codes)
        self.clock = clock
        self.timeouts = []

    def __call__(self, timeout_ns):
        self.timeouts.append(timeout_ns)
        t = self.clock.now
        self.clock.now += MS
        return H.Result(t, self.clock.now, self.codes.pop(0), "")


class FakeClock:
    def __init__(self):
        self.now = 0
        self.waits = []
        self.exit_after = None  # number of probes after which the init "exits"

    def __call__(self):
        return self.now

    def wait(self, pidfd, delay_ns):
        if delay_ns == 0:
            return False
        self.waits.append(delay_ns)
        if self.exit_after is not None and len(self.waits) > self.exit_after:
            return True
        self.now += delay_ns
        return False


def test_monitor_probes_on_schedule_writes_state_and_stops_with_the_init(tmp_path):
    hc = {"Test": ["CMD", "x"], "Interval": 10 * S, "Timeout": 2 * S, "StartPeriod": 5 * S,
          "StartInterval": 1 * S, "Retries": 2}  # fmt: skip
    clock = FakeClock()
    clock.exit_after = 9
    probe = FakeProbe(hc, [1, 1, 1, 1, 1, 1, 0, 1, 1], clock)
    seen = []
    orig = H.write

    def spy(d, st):
        seen.append(st.status)
        orig(d, st)

    H.write, saved = spy, H.write
    try:
        M.run(None, "cid", str(tmp_path), -1, 0, probe, clock=clock, wait=clock.wait)
    finally:
        H.write = saved
    # start interval (1 s) inside the 5 s start period while starting, then the interval
    assert clock.waits[:6] == [1 * S, 1 * S, 1 * S, 1 * S, 1 * S, 10 * S]
    assert probe.timeouts == [2 * S] * 9
    # four failures inside the start period do not count; the fifth (just after it, the
    # probes take 1 ms each) and the sixth do: 2 retries
    assert seen == [H.STARTING] * 5 + [H.UNHEALTHY, H.HEALTHY, H.HEALTHY, H.UNHEALTHY]
    assert H.read(str(tmp_path)).status == H.UNHEALTHY


def test_monitor_drops_the_result_of_a_probe_that_outlived_the_container(tmp_path):
    hc = {"Test": ["CMD", "x"], "Interval": S}
    clock = FakeClock()
    probe = FakeProbe(hc, [1], clock)
    calls = []

    def wait(pidfd, delay):
        calls.append(delay)
        return delay == 0  # the init is gone when checked right after the probe

    M.run(None, "cid", str(tmp_path), -1, 0, probe, clock=clock, wait=wait)
    assert calls == [S, 0] and H.read(str(tmp_path)) is None


def test_monitor_drops_a_failure_while_the_user_stops_the_container(tmp_path):
    hc = {"Test": ["CMD", "x"], "Interval": S}
    clock = FakeClock()
    probe = FakeProbe(hc, [0, 1], clock)
    (tmp_path / "stopped-by-user").touch()
    calls = []

    def wait(pidfd, delay):
        calls.append(delay)
        return delay == M.STOP_GRACE  # the init exits during the grace period

    M.run(None, "cid", str(tmp_path), -1, 0, probe, clock=clock, wait=wait)
    assert calls == [S, 0, S, 0, M.STOP_GRACE]
    assert H.read(str(tmp_path)).status == H.HEALTHY  # the failure was not recorded
