"""bench.fanout: N copies of a command at once, {i} numbered, failing when any copy fails."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _fanout(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.fanout", *args], cwd=REPO, capture_output=True, timeout=60
    )


def test_every_copy_runs_with_its_number(tmp_path):
    p = _fanout("4", "sh", "-c", f"echo copy > {tmp_path}/out-{{i}}")
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == [f"out-{i}" for i in range(4)]


def test_one_failing_copy_fails_the_whole(tmp_path):
    p = _fanout("3", "sh", "-c", "test {i} != 1 || { echo broken >&2; exit 3; }")
    assert p.returncode == 1
    assert b"copy 1 failed (rc 3): broken" in p.stderr


def test_usage_error():
    assert _fanout("x", "true").returncode == 2
