"""bench.render: the suite tables and RESULTS.md a reader sees."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import render
from bench.timing import Case, Comparison, run_comparison

MACHINE = {"cores": 2, "cpu_model": "CPU X", "kernel": "6.1", "mem_gib": 8.0, "os": "Debian 12"}


def _suite(name, comparisons, pending=()):
    return {
        "suite": name,
        "title": "t",
        "date": "2026-11-27 19:00 UTC",
        "runs": 3,
        "warmup": 1,
        "command": f"cd /w && .venv/bin/python -m bench {name}",
        "machine": MACHINE,
        "versions": {"podman": "podman version 4.3.1"},
        "status": "ok",
        "comparisons": comparisons,
        "pending": list(pending),
        "notes": ["a note"],
    }


def _measured(dy_time=0.01, pod_time=0.02, unavailable=None, goal="cli-start"):
    times = {"dockyard": dy_time, "podman": pod_time}
    cmp = Comparison(
        "CLI start",
        [
            Case("dockyard", ["dockyard", "--version"], unavailable=unavailable),
            Case("podman", ["podman", "--version"]),
        ],
        goal=goal,
    )
    return run_comparison(cmp, 3, 0, run=lambda argv, env: (times[argv[0]], 0, ""))


def test_fmt():
    assert render.fmt_seconds(0.0123) == "12.3 ms"
    assert render.fmt_seconds(2.5) == "2.50 s"
    assert render.fmt_seconds(None) == "—"
    assert render.fmt_ratio(0.456) == "0.46×"


def test_suite_table_has_a_row_per_tool_with_ratio_and_verdict():
    md = render.suite_markdown(_suite("cli", [_measured()]))
    rows = [x for x in md.splitlines() if x.startswith("| CLI start")]
    assert len(rows) == 2
    assert "| dockyard | 3 | 10.0 ms | 10.0 ms | 10.0 ms |" in rows[0]
    assert "| podman | 3 | 20.0 ms | 20.0 ms | 20.0 ms |" in rows[1]
    assert "0.50×" in rows[1] and "| met |" in rows[1]
    assert "Reproduce: `cd /w && .venv/bin/python -m bench cli`" in md
    assert "`dockyard --version`" in md and "`podman --version`" in md
    assert "- a note" in md


def test_unavailable_dockyard_is_said_plainly_never_a_number():
    res = _measured(unavailable="not yet available in dockyard (no CLI)")
    md = render.suite_markdown(_suite("cli", [res]))
    row = next(x for x in md.splitlines() if x.startswith("| CLI start | dockyard"))
    cells = [x.strip() for x in row.split("|")]
    assert cells[5] == "not yet available in dockyard"
    assert cells[-2] == "not yet available in dockyard (no CLI)"
    assert "ms" not in row
    assert "not yet measurable" in md


def test_failed_case_shows_errors_column():
    cmp = Comparison("images", [Case("dockyard", ["dockyard"]), Case("podman", ["podman"])])
    res = run_comparison(
        cmp,
        2,
        0,
        run=lambda argv, env: (
            (0.01, 2, "usage: dockyard images | oops") if argv[0] == "dockyard" else (0.02, 0, "")
        ),
    )
    md = render.suite_table(_suite("images", [res]))
    row = next(x for x in md.splitlines() if "| dockyard |" in x)
    assert "| failed |" in row
    assert "2: usage: dockyard images \\| oops" in row


def test_pending_rows_name_the_goal():
    md = render.suite_table(
        _suite(
            "build",
            [],
            pending=[
                {
                    "name": "build cold",
                    "goal": "build-cold",
                    "reason": "not yet available in dockyard (`dockyard build --help` exit 1)",
                }
            ],
        )
    )
    assert (
        "| build cold | dockyard | | | not yet available in dockyard | | | | "
        "time ≤ 0.25× buildkit | not yet measurable | "
        "not yet available in dockyard (`dockyard build --help` exit 1) |"
    ) in md


def test_results_md_lists_every_goal_and_every_suite():
    results = [
        _suite("cli", [_measured(0.03, 0.02)]),
        _suite(
            "run",
            [],
            pending=[
                {
                    "name": "run --rm true",
                    "goal": "run-rm-true",
                    "reason": "not yet available in dockyard (`dockyard build --help` exit 1)",
                }
            ],
        ),
    ]
    md = render.results_markdown(results, "2026-11-27 19:30 UTC")
    assert md.startswith("# dockyard benchmark results")
    assert "Last updated 2026-11-27 19:30 UTC." in md
    assert "Machine: CPU X, 2 cores, 8.0 GiB RAM, Linux 6.1, Debian 12" in md
    assert "| cli | CLI start | time ≤ 1× podman | 1.50× | not met |" in md
    assert "| run | run --rm true | time ≤ 0.2× podman | — | not yet measurable |" in md
    assert (
        "| registry | registry push | throughput ≥ 1.2× docker-registry | — | not yet measurable |"
        in md
    )
    # suites in the fixed order, each with its reproduce command
    assert md.index("### cli") < md.index("### run")
    assert "Reproduce: `cd /w && .venv/bin/python -m bench run`" in md
    assert "Versions: podman podman version 4.3.1" in md
    assert "No full run recorded yet for: images, image, build, registry" in md


def test_failed_output_check_marks_the_figure_and_breaks_the_run():
    from bench.suites.common import verify

    out = {"broken": []}
    res = _measured()
    verify(out, res, "dockyard", False, "saved archive is 0.0 MB")
    verify(out, res, "podman", True, "saved archive is 100.0 MB")
    assert out["broken"] == ["CLI start / dockyard: check failed: saved archive is 0.0 MB"]
    md = render.suite_table(_suite("image", [res]))
    row = next(x for x in md.splitlines() if "| dockyard |" in x)
    assert "CHECK FAILED: saved archive is 0.0 MB" in row
    pod = next(x for x in md.splitlines() if "| podman |" in x)
    assert "CHECK FAILED" not in pod


def test_header_gives_the_range_of_rounds_when_benchmarks_differ():
    a, b = _measured(), _measured()
    b["runs"], b["warmup"] = 10, 1
    assert render.rounds_text(_suite("x", [a])) == "3 timed rounds after 0 warm-up round(s)"
    assert render.rounds_text(_suite("x", [a, b])) == "3–10 timed rounds after 0–1 warm-up round(s)"
