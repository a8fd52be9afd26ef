"""Hostile layer tars: nothing an archive says may change anything outside the target directory.

Every tar here is crafted by hand (raw 512-byte headers), so the tests do not depend on the
writer under test. Each test has an "outside" sentinel directory next to the target and checks
that it is byte-for-byte unchanged afterwards, and that errors are one clear line. Every attack
aims at the sentinel (never at a real host file such as /etc/passwd), so that a regression
shows up as a failing test instead of damage to the machine running it.
"""

import io
import os
import stat
from pathlib import Path

import pytest
from hostile_support import snapshot
from isal import igzip

from dockyard.archive.apply import apply_layer
from dockyard.archive.limits import Limits
from dockyard.errors import DockyardError, InvalidArgument, LimitExceeded, Unsupported

# -- crafting tars ---------------------------------------------------------------------------


def _oct(v: int, width: int) -> bytes:
    return b"%0*o\x00" % (width - 1, v)


def header(
    name, typ=b"0", size=0, mode=0o644, link="", uid=0, gid=0, major=0, minor=0, mtime=1_600_000_000
) -> bytes:
    name_b = name if isinstance(name, bytes) else name.encode()
    link_b = link if isinstance(link, bytes) else link.encode()
    h = bytearray(512)
    h[0:100] = name_b[:100].ljust(100, b"\0")
    h[100:108] = _oct(mode, 8)
    h[108:116] = _oct(uid, 8)
    h[116:124] = _oct(gid, 8)
    h[124:136] = _oct(size, 12)
    h[136:148] = _oct(mtime, 12)
    h[148:156] = b" " * 8
    h[156:157] = typ
    h[157:257] = link_b[:100].ljust(100, b"\0")
    h[257:265] = b"ustar\x0000"
    h[329:337] = _oct(major, 8)
    h[337:345] = _oct(minor, 8)
    h[148:156] = b"%06o\x00 " % sum(h)
    return bytes(h)


def member(name, typ=b"0", data=b"", **kw) -> bytes:
    return header(name, typ, size=len(data), **kw) + data + bytes(-len(data) % 512)


def pax_member(records: dict[str, bytes]) -> bytes:
    body = b""
    for k, v in records.items():
        rec = b" " + k.encode() + b"=" + v + b"\n"
        n = len(rec) + len(str(len(rec)))
        n = len(rec) + len(str(n))
        body += str(n).encode() + rec
    return member("././@PaxHeader", b"x", body)


def tar(*members: bytes) -> bytes:
    return b"".join(members) + bytes(1024)


# -- the sentinel ----------------------------------------------------------------------------


@pytest.fixture
def box(tmp_path, confined):
    """tmp/{target, outside}: outside holds a secret file and a dir the attacks aim at."""
    target = tmp_path / "target"
    outside = tmp_path / "outside"
    target.mkdir()
    (outside / "dir").mkdir(parents=True)
    (outside / "secret").write_text("secret\n")
    (outside / "dir" / "keep").write_text("keep\n")
    before_out = snapshot(str(outside))
    before_top = sorted(os.listdir(tmp_path))

    class Box:
        t = str(target)
        o = str(outside)

        def apply(self, data: bytes, **kw):
            # in a child that can write only below tmp_path (tests/security/conftest.py)
            return confined(str(tmp_path), apply_layer, io.BytesIO(data), str(target), **kw)

        def fails(self, data: bytes, exc=InvalidArgument, **kw) -> str:
            with pytest.raises(exc) as info:
                self.apply(data, **kw)
            msg = str(info.value)
            assert msg and "\n" not in msg
            assert isinstance(info.value, DockyardError)
            return msg

    yield Box()
    assert snapshot(str(outside)) == before_out, "something outside the target changed"
    assert sorted(os.listdir(tmp_path)) == before_top


# -- names -----------------------------------------------------------------------------------


def test_dotdot_name_refused(box):
    msg = box.fails(tar(member("../outside/secret", data=b"pwned")))
    assert "../outside/secret" in msg and "escapes" in msg


def test_dotdot_in_the_middle_refused(box):
    box.fails(tar(member("a/../../outside/secret", data=b"pwned")))


def test_absolute_name_is_relative_to_root(box):
    name = box.o + "/secret"  # an absolute path naming the real outside file
    box.apply(tar(member(name, data=b"inside"), member(box.o + "/x", data=b"x")))
    assert Path(box.t + name).read_bytes() == b"inside"
    assert Path(box.t + box.o + "/x").read_bytes() == b"x"


def test_dot_entries_and_root_entry(box):
    box.apply(tar(member("./", b"5", mode=0o711), member("./a/./b", data=b"b")))
    assert Path(box.t + "/a/b").read_bytes() == b"b"
    assert stat.S_IMODE(os.stat(box.t).st_mode) == 0o711


# -- symlinks on the way ---------------------------------------------------------------------


def test_symlink_to_root_then_file_through_it_is_clamped(box):
    # aimed at the sentinel, not at a host file, so a regression cannot damage the host
    box.apply(tar(member("l", b"2", link="/"), member("l" + box.o + "/secret", data=b"pwned")))
    assert Path(box.t + box.o + "/secret").read_bytes() == b"pwned"
    assert os.readlink(box.t + "/l") == "/"


def test_symlink_to_outside_absolute_dir_then_entries_through_it(box):
    box.apply(
        tar(
            member("out", b"2", link=box.o + "/dir"),
            member("out/sub/", b"5"),
            member("out/keep", data=b"overwritten?"),
            member("out/sub/file", data=b"f"),
        )
    )
    inside = box.t + box.o + "/dir"
    assert Path(inside + "/keep").read_bytes() == b"overwritten?"
    assert Path(inside + "/sub/file").read_bytes() == b"f"


def test_symlink_relative_escape_is_clamped(box):
    box.apply(tar(member("up", b"2", link="../outside"), member("up/secret", data=b"pwned")))
    assert Path(box.t + "/outside/secret").read_bytes() == b"pwned"


def test_symlink_chain_is_clamped(box):
    box.apply(
        tar(
            member("d/", b"5"),
            member("d/a", b"2", link="b"),
            member("d/b", b"2", link="../.."),
            member("d/a/outside/secret", data=b"pwned"),
        )
    )
    assert Path(box.t + "/outside/secret").read_bytes() == b"pwned"


def test_symlink_loop_is_an_error(box):
    msg = box.fails(
        tar(member("a", b"2", link="b"), member("b", b"2", link="a"), member("a/x", data=b"x"))
    )
    assert "symlink" in msg


def test_final_symlink_is_replaced_not_followed(box):
    box.apply(tar(member("f", b"2", link=box.o + "/secret"), member("f", data=b"new")))
    assert not os.path.islink(box.t + "/f")
    assert Path(box.t + "/f").read_bytes() == b"new"
    # and the same through a relative link that climbs
    box.apply(tar(member("g", b"2", link="../outside/secret"), member("g", data=b"new")))
    assert Path(box.t + "/g").read_bytes() == b"new"


def test_dir_entry_over_symlink_replaces_the_symlink(box):
    box.apply(tar(member("d", b"2", link=box.o + "/dir"), member("d/", b"5", mode=0o700)))
    assert os.path.isdir(box.t + "/d") and not os.path.islink(box.t + "/d")


def test_long_symlink_chain_beyond_path_max_is_clamped(box):
    # The shape of CVE-2025-4517: nested long names and symlinks so that realpath() gives up
    # past PATH_MAX; then a link climbing with many ".." and a write through it.
    comp = "d" * 200
    steps = "abcdefghijklmnopqrstuvwxyz"[:20]
    members = []
    path = ""
    for s in steps:
        members.append(pax_member({"path": (path + comp).encode()}) + header("x", b"5"))
        members.append(
            pax_member({"path": (path + s).encode(), "linkpath": comp.encode()}) + header("x", b"2")
        )
        path += s + "/"
    # exactly enough ".." to reach the sentinel if the links were followed by the kernel
    climb = path + "/".join([".."] * (len(steps) + 1)) + "/outside"
    members.append(pax_member({"path": b"esc", "linkpath": climb.encode()}) + header("x", b"2"))
    members.append(member("esc/secret", data=b"pwned"))
    box.apply(tar(*members))
    assert Path(box.t + "/outside/secret").read_bytes() == b"pwned"


# -- hard links ------------------------------------------------------------------------------


def test_hardlink_to_absolute_host_file_is_refused(box):
    msg = box.fails(tar(member("pw", b"1", link=box.o + "/secret")))
    assert "not found" in msg
    assert not os.path.exists(box.t + "/pw")


def test_hardlink_to_dotdot_outside_refused(box):
    msg = box.fails(tar(member("s", b"1", link="../outside/secret")))
    assert "escapes" in msg


def test_hardlink_through_escaping_symlink_refused(box):
    box.fails(tar(member("l", b"2", link="/"), member("h", b"1", link="l" + box.o + "/secret")))
    box.fails(tar(member("m", b"2", link=box.o), member("h2", b"1", link="m/secret")))
    assert not os.path.exists(box.t + "/h2")


def test_hardlink_to_symlink_links_the_symlink_itself(box):
    box.apply(tar(member("s", b"2", link=box.o + "/secret"), member("h", b"1", link="s")))
    assert os.readlink(box.t + "/h") == box.o + "/secret"
    assert os.lstat(box.t + "/h").st_ino == os.lstat(box.t + "/s").st_ino


def test_hardlink_inside_works_and_rewrite_does_not_write_through(box):
    box.apply(tar(member("f", data=b"one"), member("h", b"1", link="f"), member("h", data=b"two")))
    assert Path(box.t + "/f").read_bytes() == b"one"
    assert Path(box.t + "/h").read_bytes() == b"two"


# -- whiteouts -------------------------------------------------------------------------------


def test_whiteout_through_symlink_to_outside_deletes_nothing_outside(box):
    box.apply(
        tar(member("l", b"2", link=box.o), member("l/.wh.secret"), member("l/dir/.wh..wh..opq"))
    )
    box.apply(
        tar(member("r", b"2", link="../outside"), member("r/.wh.secret"), member("r/.wh.dir"))
    )


def test_whiteout_naming_dotdot_refused(box):
    assert "whiteout" in box.fails(tar(member(".wh...")))
    box.fails(tar(member("a/.wh..")))
    box.fails(tar(member("../.wh.outside")))


def test_whiteout_overlay_mode_through_symlink_stays_inside(box):
    box.apply(tar(member("l", b"2", link=box.o), member("l/.wh.secret")), whiteouts="overlay")
    st = os.lstat(box.t + box.o + "/secret")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def test_opaque_through_symlink_is_clamped_to_target(box):
    # "up" climbs to the directory holding target and outside; clamped, it is the target root
    box.apply(tar(member("keep", data=b"k"), member("up", b"2", link="..")))
    box.apply(tar(member("up/.wh..wh..opq"), member("new", data=b"n")))
    assert sorted(os.listdir(box.t)) == ["new"]


def test_opaque_through_symlink_to_outside_clears_nothing_outside(box):
    box.apply(tar(member("keep", data=b"k"), member("l", b"2", link=box.o)))
    box.apply(tar(member("l/.wh..wh..opq"), member("new", data=b"n")))
    assert sorted(os.listdir(box.t)) == ["keep", "l", "new"]


# -- devices ---------------------------------------------------------------------------------


def test_device_nodes_are_confined_to_target(box):
    box.apply(
        tar(
            member("dev/sda", b"4", major=8, minor=0, mode=0o660),
            member(box.o + "/null2", b"3", major=1, minor=3, mode=0o666),
            member("l", b"2", link=box.o),
            member("l/sdb", b"4", major=8, minor=16),
        )
    )
    assert stat.S_ISBLK(os.lstat(box.t + "/dev/sda").st_mode)
    assert os.lstat(box.t + "/dev/sda").st_rdev == os.makedev(8, 0)
    assert stat.S_ISCHR(os.lstat(box.t + box.o + "/null2").st_mode)
    assert stat.S_ISBLK(os.lstat(box.t + box.o + "/sdb").st_mode)


def test_devices_false_skips_device_nodes(box):
    r = box.apply(
        tar(member("dev/sda", b"4", major=8, minor=0), member("dev/fifo", b"6")), devices=False
    )
    assert not os.path.lexists(box.t + "/dev/sda")
    assert stat.S_ISFIFO(os.lstat(box.t + "/dev/fifo").st_mode)
    assert r.entries == 2


# -- limits ----------------------------------------------------------------------------------


def _du(top: str) -> int:
    return sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(top) for f in fs)


def test_gzip_bomb_one_huge_file_stops_before_writing(box):
    # 1 GiB of zeros as one file, about 1 MiB compressed
    raw = io.BytesIO()
    gz = igzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1)
    gz.write(header("bomb", size=1 << 30))
    zeros = bytes(1 << 20)
    for _ in range(1024):
        gz.write(zeros)
    gz.write(bytes(1024))
    gz.close()
    assert len(raw.getvalue()) < 8 << 20
    from dockyard.archive.compression import open_reader

    limits = Limits(max_total_size=16 << 20)
    with pytest.raises(LimitExceeded) as info:
        apply_layer(open_reader(io.BytesIO(raw.getvalue())), box.t, limits=limits)
    assert "max_total_size" in str(info.value)
    assert _du(box.t) == 0


def test_gzip_bomb_many_files_stops_at_the_limit(box):
    raw = io.BytesIO()
    gz = igzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1)
    data = bytes(1 << 20)
    for i in range(200):
        gz.write(member(f"f{i}", data=data))
    gz.write(bytes(1024))
    gz.close()
    from dockyard.archive.compression import open_reader

    limits = Limits(max_total_size=16 << 20)
    with pytest.raises(LimitExceeded):
        apply_layer(open_reader(io.BytesIO(raw.getvalue())), box.t, limits=limits)
    assert _du(box.t) <= 16 << 20


def test_oversized_pax_header_refused(box):
    big = pax_member({"comment": b"x" * (2 << 20)})
    msg = box.fails(tar(big + header("f")), LimitExceeded)
    assert "max_header_size" in msg
    assert os.listdir(box.t) == []


def test_oversized_gnu_longname_refused(box):
    long = member("././@LongLink", b"L", b"a" * (2 << 20))
    box.fails(tar(long, member("f")), LimitExceeded)


def test_name_too_long_refused(box):
    name = "/".join(["n" * 200] * 30)
    msg = box.fails(tar(pax_member({"path": name.encode()}) + header("x")), LimitExceeded)
    assert "max_name_length" in msg


def test_too_many_entries_refused(box):
    members = [member(f"f{i}") for i in range(101)]
    msg = box.fails(tar(*members), LimitExceeded, limits=Limits(max_entries=100))
    assert "max_entries" in msg


# -- malformed -------------------------------------------------------------------------------


def test_bad_checksum_refused(box):
    bad = bytearray(member("f", data=b"x"))
    bad[0] = ord("g")
    assert "checksum" in box.fails(tar(bytes(bad)))


def test_sparse_and_unknown_types_refused(box):
    assert "sparse" in box.fails(tar(member("s", b"S")), Unsupported)
    assert "unsupported type" in box.fails(tar(member("z", b"Z")), Unsupported)
    assert "sparse" in box.fails(
        tar(pax_member({"GNU.sparse.major": b"1"}) + header("s")), Unsupported
    )


def test_truncated_stream_refused(box):
    data = member("f", data=b"x" * 5000)[:3000]
    assert "truncated" in box.fails(data)


def test_overlay_xattrs_from_the_tar_are_ignored(box):
    box.apply(
        tar(
            pax_member(
                {
                    "SCHILY.xattr.trusted.overlay.opaque": b"y",
                    "SCHILY.xattr.trusted.overlay.redirect": b"/etc",
                }
            )
            + header("d/", b"5")
        )
    )
    assert os.listxattr(box.t + "/d") == []


def test_out_of_range_numbers_and_nul_bytes_are_clear_errors(box):
    for records in (
        {"uid": b"1099511627776"},
        {"mtime": b"1e400"},
        {"mtime": b"99999999999999999999"},
        {"path": b"a\x00b"},
        {"SCHILY.xattr.user.a\x00b": b"v"},
    ):
        msg = box.fails(tar(pax_member(records) + header("f")))
        assert "f" in msg or "NUL" in msg or "PAX" in msg
    box.fails(tar(member("dev", b"3", major=0o7777777, minor=0o7777777)))
    box.fails(tar(pax_member({"mtime": b"99999999999999999999"}) + header("d/", b"5")))


def test_header_only_entries_carry_no_data_as_in_go(tmp_path):
    """A directory whose size field claims data must not swallow the next header (Go reads it so)."""
    import io
    import tarfile

    from dockyard.archive.tarreader import TarReader

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        d = tarfile.TarInfo("d")
        d.type = tarfile.DIRTYPE
        t.addfile(d)
        f = tarfile.TarInfo("d/f")
        f.size = 3
        t.addfile(f, io.BytesIO(b"abc"))
    raw = bytearray(buf.getvalue())
    # claim 512 bytes of data for the directory and fix its checksum
    raw[124:136] = b"%011o\0" % 512
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\0 " % sum(raw[:512])
    names = [e.name.rstrip("/") for e in TarReader(io.BytesIO(bytes(raw)))]
    assert names == ["d", "d/f"]


def test_the_confinement_itself_keeps_writes_inside_the_test_dir(tmp_path, confined):
    # the second wall: even code that tries to write outside the test's directory cannot
    def write(path):
        with open(path, "w") as f:
            f.write("x")

    confined(str(tmp_path), write, str(tmp_path / "inside"))
    assert (tmp_path / "inside").read_text() == "x"
    outside = tmp_path.parent / f"{tmp_path.name}-outside-probe"
    with pytest.raises(OSError) as info:
        confined(str(tmp_path), write, str(outside))
    assert info.value.errno == 30  # EROFS
    assert not outside.exists()
