"""Compression: sniffing, decompressing readers (also from pipes) and compressing writers."""

import bz2
import io
import lzma
import os
import threading

import pytest

from dockyard.archive.compression import Replay, detect, open_reader, open_writer, sniff
from dockyard.errors import InvalidArgument, Unsupported

DATA = b"".join(b"line %d of a layer\n" % i for i in range(50_000)) + os.urandom(100_000)


def _compress(kind: str, data: bytes = DATA, level=None) -> bytes:
    buf = io.BytesIO()
    w = open_writer(buf, kind, level)
    w.write(data)
    w.close()
    assert not buf.closed  # close() ends the stream but leaves the file open
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["gzip", "zstd", ""])
def test_round_trip(kind):
    blob = _compress(kind)
    assert detect(blob[:6]) == kind
    assert open_reader(io.BytesIO(blob)).read() == DATA
    if kind:
        assert len(blob) < len(DATA) // 2


def test_detect_all_formats():
    assert detect(bz2.compress(b"x")[:6]) == "bzip2"
    assert detect(lzma.compress(b"x")[:6]) == "xz"
    assert detect(b"\x1f\x8b\x08") == "gzip"
    assert detect(b"\x28\xb5\x2f\xfd") == "zstd"
    assert detect(b"etc/passwd\0") == ""
    assert detect(b"") == ""


@pytest.mark.parametrize("comp", [bz2.compress, lzma.compress])
def test_stdlib_formats_are_read(comp):
    assert open_reader(io.BytesIO(comp(DATA))).read() == DATA


def test_gzip_from_other_tools_and_multiple_members():
    import gzip

    blob = gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:])
    assert open_reader(io.BytesIO(blob)).read() == DATA


def test_zstd_multiple_frames():
    blob = _compress("zstd", DATA[:5000]) + _compress("zstd", DATA[5000:])
    assert open_reader(io.BytesIO(blob)).read() == DATA


@pytest.mark.parametrize("kind", ["gzip", "zstd", ""])
def test_reader_on_a_pipe(kind):
    blob = _compress(kind)
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as f:
            f.write(blob)

    t = threading.Thread(target=feed)
    t.start()
    with os.fdopen(r, "rb", buffering=0) as raw:
        out = bytearray()
        buf = bytearray(65536)
        stream = open_reader(raw)
        while n := stream.readinto(buf):
            out += buf[:n]
    t.join()
    assert bytes(out) == DATA


def test_tiny_input_shorter_than_the_sniff():
    assert open_reader(io.BytesIO(b"ab")).read() == b"ab"
    assert open_reader(io.BytesIO(b"")).read() == b""


def test_gzip_output_is_deterministic():
    assert _compress("gzip") == _compress("gzip")
    assert _compress("zstd") == _compress("zstd")


def test_levels_change_the_output():
    assert len(_compress("gzip", level=3)) != len(_compress("gzip", level=0))


def test_unknown_compression_refused():
    with pytest.raises(Unsupported) as info:
        open_writer(io.BytesIO(), "lz4")
    assert "lz4" in str(info.value)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_corrupt_stream_is_one_clear_error(kind):
    blob = bytearray(_compress(kind))
    blob[len(blob) // 2] ^= 0xFF  # zstd frames carry a checksum, so this is always caught
    with pytest.raises(InvalidArgument) as info:
        open_reader(io.BytesIO(bytes(blob))).read()
    assert f"corrupt {kind} stream" in str(info.value) and "\n" not in str(info.value)


def test_truncated_gzip_is_an_error():
    # (a truncated zstd stream just ends early: the tar layer or the diff id catches it)
    with pytest.raises(InvalidArgument, match="corrupt gzip"):
        open_reader(io.BytesIO(_compress("gzip")[:-100])).read()


def test_corrupt_xz_and_bzip2_are_invalid_argument():
    for blob in (lzma.compress(DATA)[:5000], bz2.compress(DATA)[:5000]):
        with pytest.raises(InvalidArgument):
            open_reader(io.BytesIO(blob)).read()


class _Unpeekable:
    """A pipe-like reader without peek/readinto: sized reads return at most 4 bytes."""

    def __init__(self, data: bytes):
        self._f = io.BytesIO(data)

    def read(self, n=-1):
        return self._f.read() if n is None or n < 0 else self._f.read(min(n, 4))


def test_sniff_returns_the_head_and_a_stream_with_every_byte():
    data = b"\x1f\x8b" + b"rest of a stream" * 100
    buffered = io.BufferedReader(io.BytesIO(data))
    head, stream = sniff(buffered)
    assert head == data[:6] and stream is buffered  # peekable: nothing consumed
    assert stream.read() == data
    head, stream = sniff(_Unpeekable(data))
    assert head == data[:6] and detect(head) == "gzip"
    assert stream.read() == data
    head, stream = sniff(_Unpeekable(b"abc"))
    assert head == b"abc" and stream.read() == b"abc"
    assert sniff(_Unpeekable(b""))[0] == b""


def test_replay_serves_the_prefix_then_the_source():
    r = Replay(b"head", _Unpeekable(b"tail-bytes"))
    assert r.readable() and not r.seekable()
    buf = bytearray(3)
    assert r.readinto(buf) == 3 and buf == b"hea"
    assert r.read(5) == b"d" + b"tail"
    assert r.read() == b"-bytes"
    assert Replay(b"ab", io.BytesIO(b"cd")).read(10) == b"abcd"
