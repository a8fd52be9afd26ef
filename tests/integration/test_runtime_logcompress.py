"""`--log-opt compress=true`: rotated json-file logs are gzipped as Docker's (`<id>-json.log.1.gz`
..., the live file plain), `logs` (all, --tail, --since/--until, -f) reads across them in
order, a compression cut short is finished later and never read half-done, and the bad
combinations are refused with Docker's messages. The real CLI, real containers."""

import gzip
import json
import os
import subprocess

import pytest
from runopts_support import busybox_cli, inspect, one_line_error, wait_until


@pytest.fixture
def d(dy, busybox_tar):
    yield from busybox_cli(dy, busybox_tar)


COUNT = "i={start}; while [ $i -lt {end} ]; do echo line-$i; i=$((i+1)); done"
COMPRESS = ["--log-opt", "max-size=1k", "--log-opt", "max-file=4", "--log-opt", "compress=true"]


def numbers(text: str) -> list[int]:
    return [int(ln.split("-")[1]) for ln in text.splitlines() if ln.startswith("line-")]


def log_dir_files(d, name: str) -> tuple[str, list[str]]:
    path = inspect(d, name)["LogPath"]
    base = os.path.basename(path)
    names = sorted(n for n in os.listdir(os.path.dirname(path)) if n.startswith(base))
    return path, names


def settled(d, name: str) -> list[str]:
    """The log's files once no rotated file is left plain (the compressor is done)."""
    path, _ = log_dir_files(d, name)
    base = os.path.basename(path)

    def done():
        _, names = log_dir_files(d, name)
        rest = [n for n in names if n != base and not n.endswith(".gz")]
        return names if not rest else None

    return wait_until(done)


def gz_lines(path: str) -> list[int]:
    with gzip.open(path, "rb") as f:
        return [int(json.loads(ln)["log"].split("-")[1]) for ln in f]


def test_rotated_files_are_gzipped_and_logs_reads_them_in_order(d):
    d("run", "--name", "gz", *COMPRESS, "busybox", "sh", "-c", COUNT.format(start=0, end=400))
    path, _ = log_dir_files(d, "gz")
    base = os.path.basename(path)
    names = settled(d, "gz")
    assert names == [base, base + ".1.gz", base + ".2.gz", base + ".3.gz"]
    folder = os.path.dirname(path)
    for n in names[1:]:
        assert subprocess.run(["gzip", "-t", os.path.join(folder, n)]).returncode == 0, n
    with open(path, "rb") as f:
        assert f.read(1) == b"{"  # the live file stays plain JSON lines
    # oldest first: .3.gz, .2.gz, .1.gz, then the live file, each one contiguous
    parts = [gz_lines(os.path.join(folder, base + f".{i}.gz")) for i in (3, 2, 1)]
    flat = [n for p in parts for n in p]
    assert flat == list(range(flat[0], flat[-1] + 1))
    got = numbers(d.out("logs", "gz"))
    assert got == list(range(flat[0], 400)) and got[0] > 0  # the oldest rotated away
    assert inspect(d, "gz")["HostConfig"]["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-size": "1k", "max-file": "4", "compress": "true"},
    }


def test_tail_since_and_until_across_compressed_files(d):
    d("run", "--name", "tl", *COMPRESS, "busybox", "sh", "-c", COUNT.format(start=0, end=300))
    path, _ = log_dir_files(d, "tl")
    settled(d, "tl")
    with open(path, "rb") as f:
        live = f.read().count(b"\n")
    n = live + 15  # reaches back into .1.gz and .2.gz
    assert numbers(d.out("logs", "--tail", str(n), "tl")) == list(range(300 - n, 300))
    assert numbers(d.out("logs", "--tail", "1", "tl")) == [299]
    assert d.out("logs", "--tail", "0", "tl") == ""
    everything = numbers(d.out("logs", "tl"))
    assert numbers(d.out("logs", "--since", "1h", "tl")) == everything
    assert d.out("logs", "--since", "2099-01-01T00:00:00Z", "tl") == ""
    assert d.out("logs", "--until", "2000-01-01T00:00:00Z", "tl") == ""
    stamped = d.out("logs", "-t", "tl").splitlines()
    assert len(stamped) == len(everything) and stamped[0].split()[1] == f"line-{everything[0]}"


def test_follow_reads_on_across_compressed_rotations(d):
    script = ("sleep 1; i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); "
              "[ $((i % 20)) = 0 ] && sleep 0.05; done; true")  # fmt: skip
    d("run", "-d", "--name", "live", "--log-opt", "max-size=2k", "--log-opt", "max-file=5",
      "--log-opt", "compress=1", "busybox", "sh", "-c", script)  # fmt: skip
    got = numbers(d.out("logs", "-f", "live", timeout=60))
    assert got == list(range(got[0], 300)), got
    names = settled(d, "live")
    assert len(names) == 5 and all(n.endswith(".gz") for n in names[1:])


def test_a_compression_cut_short_is_never_read_and_is_finished_later(d):
    d("run", "--name", "cut", *COMPRESS, "busybox", "sh", "-c", COUNT.format(start=0, end=200))
    path, _ = log_dir_files(d, "cut")
    settled(d, "cut")
    before = numbers(d.out("logs", "cut"))
    # as a compressor killed mid-way leaves it: `.1` plain again beside its `.1.gz`, `.2`
    # plain with only a partial `.2.gz.tmp`, and a stray partial `.3.gz.tmp`
    with gzip.open(path + ".1.gz", "rb") as f:
        one = f.read()
    with open(path + ".1", "wb") as f:
        f.write(one)
    with gzip.open(path + ".2.gz", "rb") as f:
        two = f.read()
    os.unlink(path + ".2.gz")
    with open(path + ".2", "wb") as f:
        f.write(two)
    with open(path + ".2.gz.tmp", "wb") as f:
        f.write(gzip.compress(two)[:40])
    with open(path + ".3.gz.tmp", "wb") as f:
        f.write(b"\x1f\x8b\x08garbage")
    assert numbers(d.out("logs", "cut")) == before
    assert numbers(d.out("logs", "--tail", "20", "cut")) == before[-20:]
    # the next run's first rotation compresses what is left plain and drops the partials
    d("start", "-a", "cut")
    base = os.path.basename(path)
    names = settled(d, "cut")
    assert names == [base, base + ".1.gz", base + ".2.gz", base + ".3.gz"]
    got = numbers(d.out("logs", "cut"))  # the second run's lines only, whole and in order
    assert got == list(range(got[0], 200)) and got[0] > 0 and len(got) > len(before) // 2
    for n in names[1:]:
        assert (
            subprocess.run(["gzip", "-t", os.path.join(os.path.dirname(path), n)]).returncode == 0
        )


def test_compress_false_and_without_rotation_leave_plain_files(d):
    d("run", "--name", "plain", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
      "--log-opt", "compress=false", "busybox", "sh", "-c", COUNT.format(start=0, end=200))  # fmt: skip
    path, names = log_dir_files(d, "plain")
    base = os.path.basename(path)
    assert names == [base, base + ".1", base + ".2"]
    assert numbers(d.out("logs", "plain"))[-1] == 199


@pytest.mark.parametrize(
    "args,message",
    [
        (["compress=true"],
         "compress cannot be true when max-file is less than 2 or max-size is not set"),
        (["max-size=1k", "compress=true"],
         "compress cannot be true when max-file is less than 2 or max-size is not set"),
        (["max-size=1k", "max-file=1", "compress=true"],
         "compress cannot be true when max-file is less than 2 or max-size is not set"),
        (["max-file=3", "compress=true"],
         "compress cannot be true when max-file is less than 2 or max-size is not set"),
        (["max-size=1k", "max-file=3", "compress=yes"],
         'strconv.ParseBool: parsing "yes": invalid syntax'),
        (["max-size=1k", "max-file=3", "compress="], 'strconv.ParseBool: parsing "": invalid syntax'),
        (["max-size=1k", "max-file=0", "compress=true"], "max-file cannot be less than 1"),
    ],
)  # fmt: skip
def test_bad_compress_combinations_are_refused_with_dockers_messages(d, args, message):
    opts = [w for a in args for w in ("--log-opt", a)]
    p = d("run", "--rm", *opts, "busybox", "true", check=False)
    assert one_line_error(p, 125).endswith(message)
    assert d.out("ps", "-aq") == ""
