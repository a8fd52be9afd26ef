"""bench.stats and bench.goals: the numbers the harness reports and how goals are judged."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pytest
from bench import goals, stats


def test_summary_reports_min_median_max():
    s = stats.summary([0.3, 0.1, 0.2, 0.5])
    assert s["n"] == 4
    assert s["min"] == 0.1
    assert s["max"] == 0.5
    assert s["median"] == pytest.approx(0.25)


def test_summary_of_nothing_is_empty():
    assert stats.summary([]) == {}
    assert stats.median([]) is None


def test_pairwise_ratios_use_only_rounds_where_both_ran():
    subject = {0: 1.0, 1: 2.0, 3: 4.0}
    anchor = {0: 2.0, 1: 2.0, 2: 9.0, 3: 1.0}
    assert stats.pairwise_ratios(subject, anchor) == [0.5, 1.0, 4.0]
    assert stats.median_ratio(subject, anchor) == 1.0


def test_median_of_pairwise_ratios_differs_from_ratio_of_medians():
    # round-to-round drift hits both tools alike; the per-round ratio cancels it
    subject = {0: 1.0, 1: 10.0, 2: 100.0}
    anchor = {0: 2.0, 1: 20.0, 2: 50.0}
    assert stats.median_ratio(subject, anchor) == 0.5
    assert stats.median(list(subject.values())) / stats.median(list(anchor.values())) == 0.5
    subject2 = {0: 1.0, 1: 30.0, 2: 100.0}
    assert stats.median_ratio(subject2, anchor) == pytest.approx(1.5)


def test_inverted_ratio_is_relative_throughput():
    assert stats.pairwise_ratios({0: 2.0}, {0: 4.0}, invert=True) == [2.0]


def test_no_common_round_gives_no_ratio():
    assert stats.median_ratio({0: 1.0}, {1: 1.0}) is None


def test_throughput_in_megabytes_per_second():
    assert stats.throughput(100_000_000, 0.5) == pytest.approx(200.0)
    assert stats.throughput(None, 0.5) is None
    assert stats.throughput(100, None) is None


@pytest.mark.parametrize(
    ("key", "subject", "anchor", "status"),
    [
        ("cli-start", {0: 0.010}, {0: 0.020}, goals.MET),  # half of podman's time
        ("cli-start", {0: 0.030}, {0: 0.020}, goals.NOT_MET),
        ("cli-start", {0: 0.020}, {0: 0.020}, goals.MET),  # ≤ 1.0× includes equal
        ("run-rm-true", {0: 0.030}, {0: 0.100}, goals.NOT_MET),  # 0.3× but the goal is 0.2×
        ("image-save", {0: 1.0}, {0: 1.2}, goals.MET),  # 1.2× podman's throughput
        ("image-save", {0: 1.2}, {0: 1.0}, goals.NOT_MET),
        ("registry-push", {0: 1.0}, {0: 1.1}, goals.NOT_MET),  # 1.1× but the goal is 1.2×
        ("build-cached", {}, {0: 0.1}, goals.UNMEASURABLE),  # dockyard has no sample
    ],
)
def test_goal_verdicts(key, subject, anchor, status):
    assert goals.evaluate(key, subject, anchor)["status"] == status


def test_throughput_goal_reports_throughput_ratio():
    rec = goals.evaluate("image-load", {0: 2.0, 1: 1.0}, {0: 4.0, 1: 3.0})
    assert rec["ratio"] == pytest.approx(2.5)  # median of 2.0 and 3.0
    assert rec["goal"] == "throughput ≥ 1× podman"


def test_every_goal_names_a_known_suite_and_kind():
    suites = {"cli", "images", "image", "run", "build", "registry"}
    for g in goals.GOALS.values():
        assert g.suite in suites
        assert g.kind in ("time", "throughput")
        assert g.target > 0
    assert goals.unmeasured("registry-pull")["status"] == goals.UNMEASURABLE
