"""The json-file log with `compress=true` on a tmp dir: rotated files gzipped with Docker's
header (`{"lastTime":...}` in FEXTRA), the live file plain, every reader (whole history,
--tail, --since, a follower across several rotations between two looks) getting each line
once and in order, and Docker's checks of the `compress` option. Real files, real
compressor processes."""

import gzip
import os
import random
import subprocess

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime import jsonlog as J
from dockyard.runtime import logcompress as C


def _line(i: int) -> bytes:
    return J.encode(f"line {i}\n".encode(), "stdout", 1_000_000_000 * (i + 1))


def _numbers(entries) -> list[int]:
    return [int(e.data.split()[1]) for e in entries]


def _log(tmp_path, size="1k", files="4"):
    J.write_config(str(tmp_path), "json-file", (("max-size", size), ("max-file", files),
                                                 ("compress", "true")))  # fmt: skip
    return J.open_log(str(tmp_path / "c-json.log"))


def test_rotated_files_are_gzip_with_dockers_header_and_the_live_file_is_plain(tmp_path):
    log = _log(tmp_path)
    assert log.compress
    for i in range(300):
        log.write_lines([_line(i)])
    log.close()  # waits for the compressor, as Docker's Close
    path = str(tmp_path / "c-json.log")
    assert sorted(os.listdir(tmp_path)) == ["c-json.log", "c-json.log.1.gz", "c-json.log.2.gz",
                                            "c-json.log.3.gz", "log-config"]  # fmt: skip
    for i in (1, 2, 3):
        assert subprocess.run(["gzip", "-t", f"{path}.{i}.gz"]).returncode == 0
        with open(f"{path}.{i}.gz", "rb") as f:
            head = f.read(12)
            extra = f.read(int.from_bytes(head[10:12], "little"))
        assert head[:4] == b"\x1f\x8b\x08\x04" and extra.startswith(b'{"lastTime":"1970-')
        with gzip.open(f"{path}.{i}.gz") as g:
            last = g.read().splitlines()[-1]
        fd = os.open(f"{path}.{i}.gz", os.O_RDONLY)
        try:
            last_ns, _ = C.header_meta(fd)
        finally:
            os.close(fd)
        assert J.parse_line(last).time_ns == last_ns
    got = [int(d.split()[1]) for _, d in J.stream(path, lambda: False)]
    assert got == list(range(got[0], 300)) and got[0] > 0
    assert [d for _, d in J.stream(path, lambda: False, tail=40)] == [
        f"line {i}\n".encode() for i in range(260, 300)
    ]
    since = list(J.stream(path, lambda: False, since=295.5))
    assert [d for _, d in since] == [f"line {i}\n".encode() for i in range(295, 300)]


def test_a_follower_gets_every_line_once_across_compressed_rotations(tmp_path):
    log = _log(tmp_path, files="5")
    f = J.Follower(str(tmp_path / "c-json.log"))
    got = _numbers(f.initial())
    n = 0
    rng = random.Random(7)
    for _ in range(60):  # up to ~3 rotations between two looks
        for _ in range(rng.randint(0, 40)):
            log.write_lines([_line(n)])
            n += 1
        got += _numbers(f.more())
    log.close()
    got += _numbers(f.more())
    f.close()
    assert got == list(range(n))


def test_a_plain_copy_beside_its_gz_and_partial_tmps_are_read_right(tmp_path):
    log = _log(tmp_path)
    for i in range(200):
        log.write_lines([_line(i)])
    log.close()
    path = str(tmp_path / "c-json.log")
    before = [d for _, d in J.stream(path, lambda: False)]
    with gzip.open(path + ".1.gz") as g:
        data = g.read()
    with open(path + ".1", "wb") as f:  # a compressor killed before it removed the plain one
        f.write(data)
    with open(path + ".2.gz.tmp", "wb") as f:
        f.write(b"\x1f\x8b\x08\x04junk")
    assert [d for _, d in J.stream(path, lambda: False)] == before
    C.compress_rotated(path, 4)  # what the next rotation's compressor does
    assert sorted(n for n in os.listdir(tmp_path) if n.startswith("c-json")) == [
        "c-json.log", "c-json.log.1.gz", "c-json.log.2.gz", "c-json.log.3.gz",
    ]  # fmt: skip
    assert [d for _, d in J.stream(path, lambda: False)] == before


@pytest.mark.parametrize(
    "opts,message",
    [
        ({"compress": "true"},
         "compress cannot be true when max-file is less than 2 or max-size is not set"),
        ({"max-size": "1k", "compress": "1"},
         "compress cannot be true when max-file is less than 2 or max-size is not set"),
        ({"max-file": "2", "compress": "T"},
         "compress cannot be true when max-file is less than 2 or max-size is not set"),
        ({"max-size": "1k", "max-file": "2", "compress": "yes"},
         'strconv.ParseBool: parsing "yes": invalid syntax'),
        ({"max-size": "1k", "max-file": "2", "compress": "TRUE "},
         'strconv.ParseBool: parsing "TRUE ": invalid syntax'),
        ({"max-size": "x", "compress": "true"}, "invalid size: 'x'"),
    ],
)  # fmt: skip
def test_compress_is_checked_as_docker_does(opts, message):
    with pytest.raises(InvalidArgument) as e:
        J.log_config("json-file", tuple(opts.items()))
    assert str(e.value) == message


@pytest.mark.parametrize("value,on", [("true", True), ("True", True), ("t", True), ("1", True),
                                      ("false", False), ("F", False), ("0", False)])  # fmt: skip
def test_compress_values_go_accepts(tmp_path, value, on):
    opts = (("max-size", "1k"), ("max-file", "2"), ("compress", value))
    assert J.log_config("json-file", opts) == opts
    J.write_config(str(tmp_path), "json-file", opts)
    log = J.open_log(str(tmp_path / "c-json.log"))
    assert log.compress is on
    log.close()


def test_lines_written_between_a_followers_read_and_the_rotation_are_kept(tmp_path):
    log = _log(tmp_path, files="3")

    class Racy(J.Follower):  # the writer runs right after the follower read its file
        hook = None

        def _drain(self):
            out = super()._drain()
            if self.hook is not None:
                hook, self.hook = self.hook, None
                hook()
            return out

    f = Racy(str(tmp_path / "c-json.log"))
    f.initial()
    log.write_lines([_line(0)])
    assert _numbers(f.more()) == [0]
    f.hook = lambda: log.write_lines([_line(i) for i in range(1, 30)])  # rotates once
    got = _numbers(f.more()) + _numbers(f.more())
    log.close()
    f.close()
    assert got == list(range(1, 30))
