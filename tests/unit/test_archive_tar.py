"""The tar reader (untrusted input, limits) and the deterministic writer, checked against GNU tar
and Python's tarfile as independent peers."""

import dataclasses
import io
import os
import subprocess
import tarfile

import pytest

from dockyard.archive import tarformat as tf
from dockyard.archive.limits import Limits
from dockyard.archive.tarreader import TarReader, parse_pax
from dockyard.archive.tarwriter import TarWriter
from dockyard.errors import InvalidArgument, LimitExceeded, Unsupported


def entries(data: bytes, limits: Limits | None = None) -> list[tuple]:
    r = TarReader(io.BytesIO(data), limits)
    out = []
    for e in r:
        body = r.read_data() if e.type == tf.REG else b""
        out.append((e.name, e.type, e.mode, e.uid, e.gid, e.mtime_ns, e.linkname, body, e.xattrs))
    return out


def gnu_tar(tmp_path, fmt: str, *extra: str) -> bytes:
    out = tmp_path / f"out-{fmt}.tar"
    subprocess.run(
        ["tar", "-C", str(tmp_path / "src"), f"--format={fmt}", *extra, "-cf", str(out), "."],
        check=True,
    )
    return out.read_bytes()


@pytest.fixture
def src(tmp_path):
    s = tmp_path / "src"
    deep = s / ("d" * 120) / ("e" * 120)
    deep.mkdir(parents=True)
    (deep / ("f" * 150)).write_bytes(b"deep file")
    (s / "small").write_bytes(b"hello")
    os.symlink("l" * 150, s / "longlink")
    os.setxattr(s / "small", "user.note", b"v\x00\xff")
    os.utime(s / "small", (1_700_000_000, 1_700_000_000))
    return s


def test_reads_gnu_format_long_names(tmp_path, src):
    got = {e[0]: e for e in entries(gnu_tar(tmp_path, "gnu"))}
    deep = "./" + "d" * 120 + "/" + "e" * 120 + "/" + "f" * 150
    assert got[deep][7] == b"deep file"
    assert got["./longlink"][6] == "l" * 150
    assert got["./small"][5] == 1_700_000_000 * 10**9


def test_reads_pax_format_with_xattrs(tmp_path, src):
    got = {
        e[0]: e for e in entries(gnu_tar(tmp_path, "posix", "--xattrs", "--xattrs-include=user.*"))
    }
    assert got["./small"][8] == {"user.note": b"v\x00\xff"}
    assert got["./small"][7] == b"hello"
    assert got["./longlink"][6] == "l" * 150


def test_reads_tarfile_gnu_base256_numbers():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo("big")
        info.uid = 2**31 + 5  # past the 7 octal digits of ustar
        info.gid = 3
        info.mtime = 2**33 + 5  # past the 11 octal digits
        t.addfile(info, io.BytesIO(b""))
    (e,) = entries(buf.getvalue())
    assert e[3] == 2**31 + 5 and e[5] == (2**33 + 5) * 10**9


def test_ids_beyond_32_bits_refused():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo("big")
        info.uid = 2**40
        t.addfile(info, io.BytesIO(b""))
    with pytest.raises(InvalidArgument, match="out of range"):
        entries(buf.getvalue())


def test_pax_fractional_mtime_and_global_header():
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"uid": "77"}
    ) as t:
        info = tarfile.TarInfo("f")
        info.mtime = 1.25
        info.pax_headers = {"mtime": "-1.5"}
        t.addfile(info, io.BytesIO(b""))
    (e,) = entries(buf.getvalue())
    assert e[5] == -1_500_000_000
    assert e[3] == 77


def test_libarchive_xattr_names_are_decoded():
    assert parse_pax(b"24 LIBARCHIVE.xattr.x=y\n") == {"LIBARCHIVE.xattr.x": b"y"}
    w = io.BytesIO()
    rec = b" LIBARCHIVE.xattr.user.a%20b=dmFs\n"
    rec = str(len(rec) + 2).encode() + rec
    hdr = _raw_header("././@PaxHeader", b"x", len(rec))
    w.write(hdr + rec + bytes(-len(rec) % 512) + _raw_header("f", b"0", 0) + bytes(1024))
    (e,) = entries(w.getvalue())
    assert e[8] == {"user.a b": b"val"}


def _raw_header(name: str, typ: bytes, size: int) -> bytes:
    h = bytearray(512)
    h[0 : len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = typ
    h[257:265] = b"ustar\x0000"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def test_bad_checksum_and_not_a_tar():
    data = bytearray(_raw_header("f", b"0", 0) + bytes(1024))
    data[10] = 1
    with pytest.raises(InvalidArgument, match="checksum"):
        entries(bytes(data))
    with pytest.raises(InvalidArgument, match="not a tar"):
        entries(os.urandom(2048))


def test_malformed_pax_refused():
    for bad in (b"5 a=b\n", b"x a=b\n", b"8 ab\n\n\n\n", b"99 a=b\n"):
        with pytest.raises(InvalidArgument, match="PAX"):
            parse_pax(bad)


def test_gnu_sparse_file_refused(tmp_path):
    s = tmp_path / "src"
    s.mkdir()
    with open(s / "sparse", "wb") as f:
        f.truncate(10 << 20)
        f.write(b"x")
    data = gnu_tar(tmp_path, "gnu", "--sparse")
    with pytest.raises(Unsupported, match="sparse"):
        entries(data)
    data = gnu_tar(tmp_path, "posix", "--sparse")
    with pytest.raises(Unsupported, match="sparse"):
        entries(data)


def test_limits_each_raise_naming_the_limit():
    w = io.BytesIO()
    t = TarWriter(w)
    for i in range(5):
        t.add_file(f"f{i}", b"x" * 1000)
    t.add_file("n" * 300, b"")
    t.close()
    data = w.getvalue()
    for limits, name in (
        (Limits(max_entries=4), "max_entries"),
        (Limits(max_total_size=3000), "max_total_size"),
        (Limits(max_name_length=200), "max_name_length"),
        (Limits(max_header_size=100), "max_header_size"),
    ):
        with pytest.raises(LimitExceeded, match=name):
            entries(data, limits)
    assert len(entries(data)) == 6


def test_limits_are_frozen_with_generous_defaults():
    lim = Limits()
    assert lim.max_total_size >= 1 << 34 and lim.max_entries >= 1_000_000
    with pytest.raises(dataclasses.FrozenInstanceError):
        lim.max_entries = 1  # type: ignore[misc]


def test_clean_eof_without_end_marker_and_drain():
    w = io.BytesIO()
    t = TarWriter(w)
    t.add_file("a", b"data")
    t.close()
    raw = w.getvalue()
    assert [e[0] for e in entries(raw[:1024])] == ["a"]
    r = TarReader(io.BytesIO(raw + b"trailing junk"))
    list(r)
    assert r.drain() == len(raw) + len(b"trailing junk")


class _Pipe(io.RawIOBase):
    """A pipe-like input giving at most `step` bytes per read."""

    def __init__(self, data: bytes, step: int):
        self._f = io.BytesIO(data)
        self._step = step

    def readable(self):
        return True

    def readinto(self, b):
        data = self._f.read(min(len(b), self._step))
        b[: len(data)] = data
        return len(data)


def test_read_chunks_streams_big_entries_in_bounded_immutable_chunks():
    big = os.urandom(3 << 20)
    w = io.BytesIO()
    t = TarWriter(w)
    t.add_file("small", b"s" * 700)
    t.add_file("big", big)
    t.add_file("after", b"tail")
    t.close()
    data = w.getvalue()
    for src in (io.BytesIO(data), _Pipe(data, 100_000), _Pipe(data, 7)):
        r = TarReader(src)
        got = {}
        for e in r:
            chunks = list(r.read_chunks())
            assert all(type(c) is bytes and 0 < len(c) <= 1 << 20 for c in chunks)
            got[e.name] = b"".join(chunks)
        assert got == {"small": b"s" * 700, "big": big, "after": b"tail"}


def test_read_chunks_partly_read_then_skipped_and_truncated():
    w = io.BytesIO()
    t = TarWriter(w)
    t.add_file("a", b"a" * (5 << 20))
    t.add_file("b", b"b")
    t.close()
    data = w.getvalue()
    r = TarReader(io.BytesIO(data))
    r.next()
    next(r.read_chunks())  # the caller stops early: next() skips the rest
    e = r.next()
    assert e.name == "b" and r.read_data() == b"b"
    r = TarReader(io.BytesIO(data[: 3 << 20]))
    r.next()
    with pytest.raises(InvalidArgument, match="truncated"):
        list(r.read_chunks())


# -- writer ----------------------------------------------------------------------------------


def _sample(w: TarWriter) -> None:
    w.add_dir("d", mode=0o1777, uid=1, gid=2, mtime=5)
    w.add_file(
        "d/f",
        b"abc",
        mode=0o4755,
        uid=1000,
        gid=1000,
        mtime=6,
        xattrs={"user.k": b"v", "security.capability": b"\x01\x00"},
    )
    w.add_file("x" * 99 + "/" + "y" * 99, b"ustar prefix")
    w.add_file("z" * 300, b"pax path")
    w.add_symlink("s", "t" * 200)
    w.add_hardlink("h", "d/f")
    w.add_device("c", "char", 1, 3, mode=0o666)
    w.add_device("b", "block", 8, 0)
    w.add_fifo("p")
    w.add_file("bigid", b"", uid=2**31, gid=2**22)


def test_writer_output_is_read_back_by_tarfile():
    buf = io.BytesIO()
    w = TarWriter(buf)
    _sample(w)
    w.close()
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as t:
        m = {i.name: i for i in t.getmembers()}
        assert m["d"].isdir() and m["d"].mode == 0o1777
        assert t.extractfile("d/f").read() == b"abc"
        assert m["d/f"].mode == 0o4755 and m["d/f"].uid == 1000
        assert m["d/f"].pax_headers["SCHILY.xattr.user.k"] == "v"
        assert t.extractfile("x" * 99 + "/" + "y" * 99).read() == b"ustar prefix"
        assert t.extractfile("z" * 300).read() == b"pax path"
        assert m["s"].linkname == "t" * 200
        assert m["h"].islnk() and m["h"].linkname == "d/f"
        assert m["c"].ischr() and (m["c"].devmajor, m["c"].devminor) == (1, 3)
        assert m["b"].isblk() and m["p"].isfifo()
        assert m["bigid"].uid == 2**31
        assert m["bigid"].uname == "" and m["d/f"].gname == ""
        # PAX only where needed
        assert m["d"].pax_headers == {} and m["s"].pax_headers.keys() == {"linkpath"}


def test_writer_output_is_listed_by_gnu_tar(tmp_path):
    buf = io.BytesIO()
    w = TarWriter(buf)
    _sample(w)
    w.close()
    (tmp_path / "t.tar").write_bytes(buf.getvalue())
    out = subprocess.run(
        ["tar", "-tvf", str(tmp_path / "t.tar")], check=True, capture_output=True, text=True
    ).stdout
    assert "z" * 300 in out and "d/f" in out


def test_writer_is_deterministic_and_reader_round_trips():
    def make() -> bytes:
        buf = io.BytesIO()
        w = TarWriter(buf)
        _sample(w)
        w.close()
        return buf.getvalue()

    a, b = make(), make()
    assert a == b
    got = {e[0]: e for e in entries(a)}
    assert got["d/f"][7] == b"abc" and got["d/f"][2] == 0o4755
    assert got["d/f"][8] == {"security.capability": b"\x01\x00", "user.k": b"v"}
    assert got["z" * 300][7] == b"pax path"
    assert got["bigid"][3] == 2**31


def test_writer_to_a_real_file_uses_the_fd(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(os.urandom(3 << 20))
    with open(tmp_path / "out.tar", "wb") as out:
        w = TarWriter(out)
        w.add_file("small", b"s")
        fd = os.open(big, os.O_RDONLY)
        try:
            w.add_file("big", fd, 3 << 20)
        finally:
            os.close(fd)
        w.add_file("after", b"a")
        w.close()
    with tarfile.open(tmp_path / "out.tar") as t:
        assert t.extractfile("big").read() == big.read_bytes()
        assert t.extractfile("after").read() == b"a"
