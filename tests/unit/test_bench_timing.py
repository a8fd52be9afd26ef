"""bench.timing: interleaving order, warm-up, prepare steps and error handling (fake executor)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.timing import Case, Comparison, rotation, run_comparison


def test_rotation_starts_each_round_one_further():
    names = ["dockyard", "podman", "docker"]
    assert rotation(names, 0) == ["dockyard", "podman", "docker"]
    assert rotation(names, 1) == ["podman", "docker", "dockyard"]
    assert rotation(names, 2) == ["docker", "dockyard", "podman"]
    assert rotation(names, 3) == rotation(names, 0)
    assert rotation([], 5) == []


def test_every_tool_leads_equally_often():
    names = ["a", "b", "c"]
    firsts = [rotation(names, r)[0] for r in range(9)]
    assert sorted(firsts) == ["a"] * 3 + ["b"] * 3 + ["c"] * 3


class FakeClock:
    """Executor double: records the order of calls; each tool takes a fixed time."""

    def __init__(self, times, fail=()):
        self.times = times
        self.fail = set(fail)
        self.calls = []

    def __call__(self, argv, env):
        tool = argv[0]
        self.calls.append(tool)
        if tool in self.fail:
            return 0.001, 1, "Error: no such command\n"
        return self.times[tool], 0, ""


def _cmp(goal=None, **kw):
    return Comparison(
        "x", [Case("dockyard", ["dockyard"]), Case("podman", ["podman"])], goal=goal, **kw
    )


def test_runs_interleaved_with_warmup_not_recorded():
    fake = FakeClock({"dockyard": 0.01, "podman": 0.02})
    res = run_comparison(_cmp(), runs=3, warmup=1, run=fake)
    assert fake.calls == [
        "dockyard",
        "podman",
        "podman",
        "dockyard",
        "dockyard",
        "podman",
        "podman",
        "dockyard",
    ]
    dy, pod = res["cases"]
    assert dy["stats"]["n"] == 3 and pod["stats"]["n"] == 3
    assert res["ratios"]["podman"]["median"] == 0.5
    assert res["ratios"]["podman"]["per_round"] == [0.5, 0.5, 0.5]


def test_prepare_runs_before_every_sample_including_warmup():
    order = []
    fake = FakeClock({"dockyard": 0.01, "podman": 0.02})

    def run(argv, env):
        order.append(("run", argv[0]))
        return fake(argv, env)

    cmp = Comparison(
        "x",
        [
            Case("dockyard", ["dockyard"], prepare=[lambda: order.append(("prep", "dockyard"))]),
            Case("podman", ["podman"], prepare=[lambda: order.append(("prep", "podman"))]),
        ],
    )
    run_comparison(cmp, runs=1, warmup=1, run=run)
    assert order == [
        ("prep", "dockyard"),
        ("run", "dockyard"),
        ("prep", "podman"),
        ("run", "podman"),
        ("prep", "podman"),
        ("run", "podman"),
        ("prep", "dockyard"),
        ("run", "dockyard"),
    ]


def test_unavailable_case_is_never_run_and_has_no_ratio():
    fake = FakeClock({"dockyard": 0.01, "podman": 0.02})
    cmp = _cmp(goal="cli-start")
    cmp.cases[0].unavailable = "not yet available in dockyard"
    res = run_comparison(cmp, runs=2, warmup=0, run=fake)
    assert fake.calls == ["podman", "podman"]
    assert res["cases"][0]["unavailable"] == "not yet available in dockyard"
    assert res["cases"][0]["stats"] == {}
    assert res["ratios"]["podman"]["median"] is None
    assert res["goal"]["status"] == "not yet measurable"


def test_failing_command_is_reported_and_given_up_after_three_errors():
    fake = FakeClock({"dockyard": 0.01, "podman": 0.02}, fail={"dockyard"})
    res = run_comparison(_cmp(), runs=10, warmup=0, run=fake)
    assert fake.calls.count("dockyard") == 3
    dy = res["cases"][0]
    assert dy["errors"] == 3
    assert dy["first_error"] == "Error: no such command"
    assert dy["stats"] == {}
    assert res["cases"][1]["stats"]["n"] == 10


def test_throughput_and_goal_in_result():
    fake = FakeClock({"dockyard": 0.5, "podman": 1.0})
    res = run_comparison(_cmp(goal="image-save", nbytes=100_000_000), runs=3, warmup=0, run=fake)
    assert res["cases"][0]["mb_s"] == 200.0
    assert res["cases"][1]["mb_s"] == 100.0
    assert res["goal"]["ratio"] == 2.0
    assert res["goal"]["status"] == "met"


def test_case_command_shows_changed_environment_only(monkeypatch):
    monkeypatch.setenv("HOME", "/root")
    c = Case("podman", ["podman", "images"], env={"HOME": "/root", "CONTAINERS_CONF": "/w/c.conf"})
    assert c.command() == "CONTAINERS_CONF=/w/c.conf podman images"
    assert Case("x", ["echo", "a b"]).command() == "echo 'a b'"


def test_series_case_sums_its_steps_and_stops_at_first_failure():
    calls = []

    def run(argv, env):
        calls.append(argv)
        return (0.5, 1, "boom") if argv == ["stop", "c2"] else (0.25, 0, "")

    steps = [["run", "c1"], ["run", "c2"], ["stop", "c1"], ["stop", "c2"]]
    ok = Comparison("s", [Case("dockyard", ["dockyard"], steps=steps[:3])])
    res = run_comparison(ok, runs=1, warmup=0, run=run)
    assert res["cases"][0]["samples"] == [0.75]
    assert "3 commands in sequence: run c1; …; stop c1" in res["cases"][0]["command"]
    calls.clear()
    bad = Comparison("s", [Case("dockyard", ["dockyard"], steps=steps)])
    res = run_comparison(bad, runs=1, warmup=0, run=run)
    assert calls == steps
    assert res["cases"][0]["errors"] == 1
    assert res["cases"][0]["first_error"] == "stop c2: boom"
