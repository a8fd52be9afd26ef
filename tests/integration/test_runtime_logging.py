"""`--log-driver json-file|none` and `--log-opt max-size=,max-file=`: the log rotates as
Docker's json-file, `logs` (all, --tail, --since, -f) reads across the rotated files in
order, driver none writes nothing and `logs` refuses. The real CLI, real containers."""

import os

import pytest
from runopts_support import busybox_cli, inspect, one_line_error


@pytest.fixture
def d(dy, busybox_tar):
    yield from busybox_cli(dy, busybox_tar)


COUNT_TO = "i=0; while [ $i -lt {n} ]; do echo line-$i; i=$((i+1)); done"


def numbers(text: str) -> list[int]:
    return [int(ln.split("-")[1]) for ln in text.splitlines() if ln.startswith("line-")]


def log_files(d, name: str) -> list[str]:
    c = inspect(d, name)
    base = os.path.basename(c["LogPath"])
    return sorted(n for n in os.listdir(os.path.dirname(c["LogPath"])) if n.startswith(base))


def test_rotation_keeps_max_file_files_and_logs_reads_them_in_order(d):
    d("run", "--name", "rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
      "busybox", "sh", "-c", COUNT_TO.format(n=400))  # fmt: skip
    c = inspect(d, "rot")
    base = os.path.basename(c["LogPath"])
    assert log_files(d, "rot") == [base, base + ".1", base + ".2"]
    for name in log_files(d, "rot"):
        # max-size is checked before each line: a file ends at most one line over it
        assert os.path.getsize(os.path.join(os.path.dirname(c["LogPath"]), name)) < 1100
    got = numbers(d.out("logs", "rot"))
    assert got == list(range(got[0], 400)) and got[0] > 0  # the oldest lines rotated away
    assert numbers(d.out("logs", "--tail", "5", "rot")) == [395, 396, 397, 398, 399]
    assert c["HostConfig"]["LogConfig"] == {
        "Type": "json-file", "Config": {"max-size": "1k", "max-file": "3"},
    }  # fmt: skip


def test_one_file_is_truncated_instead(d):
    d("run", "--name", "one", "--log-opt", "max-size=1k", "busybox", "sh", "-c",
      COUNT_TO.format(n=300))  # fmt: skip
    assert len(log_files(d, "one")) == 1
    got = numbers(d.out("logs", "one"))
    assert got and got[-1] == 299 and got == list(range(got[0], 300))


def test_logs_follow_reads_on_across_rotations(d):
    script = ("sleep 1; i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); "
              "[ $((i % 20)) = 0 ] && sleep 0.05; done; true")  # fmt: skip
    d("run", "-d", "--name", "live", "--log-opt", "max-size=2k", "--log-opt", "max-file=5",
      "busybox", "sh", "-c", script)  # fmt: skip
    out = d.out("logs", "-f", "live", timeout=60)
    got = numbers(out)
    assert got == list(range(got[0], 300)), got
    assert len(log_files(d, "live")) == 5  # it did rotate while followed


def test_since_filters_across_rotated_files(d):
    d("run", "--name", "old", "--log-opt", "max-size=1k", "--log-opt", "max-file=4",
      "busybox", "sh", "-c", COUNT_TO.format(n=100))  # fmt: skip
    assert numbers(d.out("logs", "--since", "1h", "old"))[-1] == 99
    assert d.out("logs", "--since", "2099-01-01T00:00:00Z", "old") == ""


def test_driver_none_writes_no_log_and_logs_refuses(d):
    out = d.out("run", "--name", "quiet", "--log-driver", "none", "busybox", "echo", "hi")
    assert out == "hi\n"  # an attached client still gets the output
    assert log_files(d, "quiet") == []
    p = d("logs", "quiet", check=False)
    assert one_line_error(p, 1).endswith("configured logging driver does not support reading")
    assert inspect(d, "quiet")["HostConfig"]["LogConfig"] == {"Type": "none", "Config": {}}


def test_default_log_config(d):
    d("run", "--name", "plain", "busybox", "echo", "hi")
    assert inspect(d, "plain")["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": {}}
    assert d.out("logs", "plain") == "hi\n"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--log-opt", "max-size=lots"], "invalid size: 'lots'"),
        (["--log-opt", "max-size=0"], "max-size must be a positive number"),
        (["--log-opt", "max-size=1m", "--log-opt", "max-file=0"], "max-file cannot be less than 1"),
        (["--log-opt", "max-file=2"], "max-file needs max-size"),
        (["--log-opt", "colour=blue"], "unknown log opt 'colour' for json-file log driver"),
        (["--log-opt", "nonsense"], "unknown log opt 'nonsense' for json-file log driver"),
        (["--log-driver", "none", "--log-opt", "max-size=1m"], "invalid logging opts for driver none"),
        (["--log-driver", "syslog"], "logger: no log driver named 'syslog' is registered"),
    ],
)  # fmt: skip
def test_bad_log_options(d, args, message):
    p = d("run", "--rm", *args, "busybox", "true", check=False)
    assert message in one_line_error(p, 125)
    assert d.out("ps", "-aq") == ""
