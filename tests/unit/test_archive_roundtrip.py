"""write_tree -> apply_layer gives back the same tree; whiteouts and replacement rules in
"delete" mode. No root needed: owners are not applied (same_owner=False) and no devices."""

import hashlib
import io
import os
import stat
import threading
from pathlib import Path

import pytest

from dockyard.archive.apply import ApplyResult, apply_layer
from dockyard.archive.compression import open_reader, open_writer
from dockyard.archive.tarwriter import TarWriter, write_tree
from dockyard.errors import NotFound


def tree_state(top: str) -> dict[str, tuple]:
    """What a user sees of a tree: types, modes, sizes, contents, links, whole-second mtimes,
    user xattrs, and which names are hard links of each other."""
    out: dict[str, tuple] = {}
    inodes: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, top)
            st = os.lstat(p)
            extra: object = None
            if stat.S_ISLNK(st.st_mode):
                extra = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    extra = hashlib.sha256(f.read()).hexdigest()
                if st.st_nlink > 1:
                    extra = (extra, inodes.setdefault(st.st_ino, rel))
            xattrs = {}
            if not stat.S_ISLNK(st.st_mode):
                xattrs = {k: os.getxattr(p, k) for k in os.listxattr(p) if k.startswith("user.")}
            mtime = int(st.st_mtime) if not stat.S_ISLNK(st.st_mode) else None
            out[rel] = (
                stat.filemode(st.st_mode),
                st.st_size if not stat.S_ISDIR(st.st_mode) else 0,
                mtime,
                extra,
                xattrs,
            )
    return out


@pytest.fixture
def sample(tmp_path) -> str:
    s = tmp_path / "src"
    (s / "etc" / "ssl").mkdir(parents=True)
    (s / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (s / "etc" / "ssl" / "key").write_bytes(os.urandom(5000))
    os.chmod(s / "etc" / "ssl" / "key", 0o600)
    (s / "bin").mkdir()
    (s / "bin" / "busybox").write_bytes(os.urandom(3 << 20))
    os.chmod(s / "bin" / "busybox", 0o4755)
    os.link(s / "bin" / "busybox", s / "bin" / "sh")
    os.symlink("busybox", s / "bin" / "ls")
    os.symlink("/etc/passwd", s / "abs-link")
    os.symlink("dangling/target", s / "dangling")
    (s / "tmp").mkdir(mode=0o777)
    os.chmod(s / "tmp", 0o1777)
    (s / "ro").mkdir()
    (s / "ro" / "inside").write_text("x")
    os.chmod(s / "ro", 0o555)
    (s / "sgid").mkdir()
    os.chmod(s / "sgid", 0o2775)
    long_dir = s / ("a" * 100) / ("b" * 100) / ("c" * 100)
    long_dir.mkdir(parents=True)
    (long_dir / ("n" * 250)).write_text("long")
    (s / "empty").mkdir()
    (s / "zero").write_bytes(b"")
    (s / "unicode-é-名前").write_text("u")
    os.setxattr(s / "etc" / "passwd", "user.mime_type", b"text/plain")
    os.setxattr(s / "etc", "user.dir", b"\x00\x01")
    os.mkfifo(s / "fifo")
    for dirpath, dirnames, filenames in os.walk(s, topdown=False):
        for n in dirnames + filenames:
            os.utime(
                os.path.join(dirpath, n), (1_500_000_000, 1_500_000_000), follow_symlinks=False
            )
    return str(s)


def _tar(root: str, **kw) -> bytes:
    buf = io.BytesIO()
    write_tree(root, buf, **kw)
    return buf.getvalue()


def test_round_trip_gives_an_identical_tree(sample, tmp_path):
    data = _tar(sample)
    dst = tmp_path / "dst"
    dst.mkdir()
    result = apply_layer(io.BytesIO(data), str(dst), same_owner=False)
    assert isinstance(result, ApplyResult)
    assert result.entries == len(tree_state(sample))
    assert result.size == sum(
        os.lstat(os.path.join(d, f)).st_size
        for d, _, fs in os.walk(sample)
        for f in fs
        if os.path.isfile(os.path.join(d, f)) and not os.path.islink(os.path.join(d, f))
    ) - (3 << 20)
    assert tree_state(str(dst)) == tree_state(sample)
    # and writing the copy gives the very same bytes
    assert _tar(str(dst)) == data


def test_write_tree_is_deterministic_and_sorted(sample):
    a = _tar(sample)
    assert a == _tar(sample)
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(a)) as t:
        names = t.getnames()
        assert t.getmember("bin/sh").islnk()
    assert names.index("bin") < names.index("bin/busybox") < names.index("bin/ls")
    assert names.index("bin/sh") > names.index("bin/busybox")  # hard link after its target


def test_mtime_normalization(sample):
    import tarfile

    a = _tar(sample, mtime=0)
    with tarfile.open(fileobj=io.BytesIO(a)) as t:
        assert {m.mtime for m in t.getmembers()} == {0}
    os.utime(os.path.join(sample, "zero"), (1, 1))
    assert _tar(sample, mtime=0) == a
    assert _tar(sample) != a


def test_compressed_layer_through_a_pipe(sample, tmp_path):
    blob = io.BytesIO()
    w = open_writer(blob, "gzip")
    write_tree(sample, w)
    w.close()
    r, wfd = os.pipe()

    def feed():
        with os.fdopen(wfd, "wb") as f:
            f.write(blob.getvalue())

    t = threading.Thread(target=feed)
    t.start()
    dst = tmp_path / "dst"
    dst.mkdir()
    with os.fdopen(r, "rb", buffering=0) as raw:
        apply_layer(open_reader(raw), str(dst), same_owner=False)
    t.join()
    assert tree_state(str(dst)) == tree_state(sample)


def _layer(*adds) -> bytes:
    buf = io.BytesIO()
    w = TarWriter(buf)
    for kind, name, *rest in adds:
        if kind == "f":
            w.add_file(name, rest[0] if rest else b"", mtime=100)
        elif kind == "d":
            w.add_dir(name, mode=rest[0] if rest else 0o755, mtime=100)
        elif kind == "l":
            w.add_symlink(name, rest[0])
    w.close()
    return buf.getvalue()


def test_whiteouts_delete_files_and_dirs(tmp_path):
    t = str(tmp_path)
    apply_layer(
        io.BytesIO(
            _layer(
                ("d", "a"),
                ("f", "a/x", b"1"),
                ("f", "a/y"),
                ("d", "a/sub"),
                ("f", "a/sub/z"),
                ("f", "top"),
            )
        ),
        t,
        same_owner=False,
    )
    apply_layer(
        io.BytesIO(
            _layer(
                ("f", "a/.wh.x"),
                ("f", "a/.wh.sub"),
                ("f", ".wh.top"),
                ("f", ".wh.missing"),
                ("f", "a/.wh..wh.plnk"),
            )
        ),
        t,
        same_owner=False,
    )
    assert sorted(os.listdir(t)) == ["a"]
    assert sorted(os.listdir(t + "/a")) == ["y"]


def test_opaque_dir_keeps_only_this_layers_entries(tmp_path):
    t = str(tmp_path)
    apply_layer(
        io.BytesIO(
            _layer(
                ("d", "a"), ("f", "a/old1"), ("d", "a/olddir"), ("f", "a/olddir/f"), ("f", "keep")
            )
        ),
        t,
        same_owner=False,
    )
    # the marker may come before or after this layer's own entries
    apply_layer(
        io.BytesIO(
            _layer(("d", "a"), ("f", "a/new1", b"n"), ("f", "a/.wh..wh..opq"), ("f", "a/new2"))
        ),
        t,
        same_owner=False,
    )
    assert sorted(os.listdir(t + "/a")) == ["new1", "new2"]
    assert sorted(os.listdir(t)) == ["a", "keep"]


def test_replacement_rules(tmp_path):
    t = str(tmp_path)
    apply_layer(
        io.BytesIO(
            _layer(
                ("d", "dir", 0o700),
                ("f", "dir/child"),
                ("f", "file", b"1"),
                ("d", "becomes-file"),
                ("f", "becomes-file/x"),
                ("f", "becomes-dir"),
                ("l", "link", "file"),
            )
        ),
        t,
        same_owner=False,
    )
    apply_layer(
        io.BytesIO(
            _layer(
                ("d", "dir", 0o750),
                ("f", "file", b"2"),
                ("f", "becomes-file", b"f"),
                ("d", "becomes-dir"),
                ("f", "link", b"plain"),
            )
        ),
        t,
        same_owner=False,
    )
    assert os.listdir(t + "/dir") == ["child"]  # an existing dir stays, with the new mode
    assert stat.S_IMODE(os.stat(t + "/dir").st_mode) == 0o750
    assert Path(t + "/file").read_bytes() == b"2"
    assert Path(t + "/becomes-file").read_bytes() == b"f"
    assert os.path.isdir(t + "/becomes-dir")
    assert not os.path.islink(t + "/link") and Path(t + "/file").read_bytes() == b"2"


def test_missing_parents_are_created_and_dir_mtimes_kept(tmp_path):
    t = str(tmp_path)
    apply_layer(io.BytesIO(_layer(("d", "a"), ("f", "a/b/c/file", b"x"))), t, same_owner=False)
    assert Path(t + "/a/b/c/file").read_bytes() == b"x"
    assert os.stat(t + "/a").st_mtime == 100  # set after its children were created


def test_target_must_exist(tmp_path):
    with pytest.raises(NotFound):
        apply_layer(io.BytesIO(_layer(("f", "x"))), str(tmp_path / "nope"))


def test_overlay_upper_char_devices_are_not_touched_without_the_flag(tmp_path):
    # a plain tree without whiteouts gives the same tar either way
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "f").write_text("x")
    assert _tar(str(tmp_path / "s"), overlay_upper=True) == _tar(str(tmp_path / "s"))


def test_write_tree_reports_the_same_size_as_tree_size(sample, tmp_path):
    from dockyard.treesize import tree_size

    root = Path(sample)
    (root / "to-dir").symlink_to(".")  # a link to a dir counts as a dir, as os.walk has it
    (root / "to-file").symlink_to("somewhere/else")
    (root / "deep" / "er").mkdir(parents=True)
    (root / "deep" / "er" / "f").write_bytes(b"x" * 5000)
    os.link(root / "deep" / "er" / "f", root / "deep" / "again")
    assert write_tree(sample, io.BytesIO()) == tree_size(sample) > 10000
