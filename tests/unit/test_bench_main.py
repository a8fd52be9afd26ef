"""bench.main: the command line (suites, --quick, results update) and the work-dir guard."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pytest
from bench import main


def test_full_runs_update_results_quick_runs_do_not():
    assert main.parse(["cli"]).update is True
    assert main.parse(["--quick"]).update is False
    assert main.parse(["--quick", "--update-results"]).update is True
    assert main.parse(["image", "--no-update-results"]).update is False


def test_unknown_suite_and_bad_runs_are_rejected(capsys):
    with pytest.raises(SystemExit):
        main.parse(["nosuch"])
    assert "unknown suite(s): nosuch" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main.parse(["--runs", "0"])


def test_reproduce_command_names_suite_and_options():
    a = main.parse(["image", "--runs", "7"])
    assert main.reproduce("image", a).endswith(".venv/bin/python -m bench image --runs 7")
    q = main.parse(["--quick"])
    assert main.reproduce("cli", q).endswith("-m bench cli --quick")


def test_suite_status_says_what_dockyard_cannot_do_yet():
    pending = {
        "comparisons": [],
        "broken": [],
        "notes": [],
        "pending": [
            {
                "name": "build cold",
                "goal": "build-cold",
                "reason": "not yet available in dockyard (needs build)",
            }
        ],
    }
    assert main.suite_status(pending).startswith("not yet available in dockyard")
    assert main.suite_status({"comparisons": [], "pending": [], "error": "boom"}) == (
        "harness error: boom"
    )


def test_work_dir_that_is_not_ours_is_refused(tmp_path):
    assert main.check_workdir("/") is not None
    assert main.check_workdir("/tmp") is not None
    assert main.check_workdir(str(tmp_path / "new")) is None
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "precious.txt").write_text("x")
    assert "not made by the harness" in main.check_workdir(str(tmp_path / "theirs"))
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / main.MARKER).write_text("")
    (tmp_path / "ours" / "inputs").mkdir()
    assert main.check_workdir(str(tmp_path / "ours")) is None
