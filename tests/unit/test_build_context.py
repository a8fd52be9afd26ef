"""The build context: source resolution inside the root, globs, .dockerignore, and the
checksum cache keyed by (path, size, mtime_ns, inode)."""

import os
from pathlib import Path

import pytest

from dockyard.build import context as CX
from dockyard.build.context import BuildContext
from dockyard.errors import InvalidArgument, NotFound


class FakeDB:
    """The two checksum methods of BuildCacheDB, in memory."""

    def __init__(self):
        self.rows = {}

    def checksums(self, prefix):
        return {p: v for p, v in self.rows.items() if p.startswith(prefix)}

    def put_checksums(self, rows):
        for path, size, mtime, ino, digest in rows:
            self.rows[path] = (size, mtime, ino, digest)


@pytest.fixture
def ctx(tmp_path):
    root = tmp_path / "ctx"
    for name, data in {"a.txt": "a", "b.txt": "b", "src/x.py": "x", "src/y.py": "y",
                       "src/sub/z.py": "z", "logs/1.log": "1", "c.md": "c"}.items():  # fmt: skip
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(data)
    return root


def test_globs_and_plain_sources(ctx):
    c = BuildContext(str(ctx), [])
    assert c.resolve("*.txt", 2) == ["a.txt", "b.txt"]
    assert c.resolve("src/*.py", 2) == ["src/x.py", "src/y.py"]
    assert c.resolve("./src/", 2) == ["src"]
    assert c.resolve(".", 2) == [""]
    with pytest.raises(NotFound, match="Dockerfile:2: no source files"):
        c.resolve("*.none", 2)
    with pytest.raises(NotFound, match=r'Dockerfile:5: .*"/missing": not found'):
        c.resolve("missing", 5)


def test_parent_paths_are_refused(ctx):
    c = BuildContext(str(ctx), [])
    with pytest.raises(InvalidArgument, match="outside the build context"):
        c.resolve("../etc/passwd", 3)


def test_dockerignore_hides_paths_and_keeps_exceptions(ctx):
    c = BuildContext(str(ctx), ["logs", "src/**/*.py", "!src/x.py"])
    rels = [e.rel for e in c.walk("")]
    assert "logs" not in rels and "logs/1.log" not in rels
    assert "src/x.py" in rels and "src/y.py" not in rels and "src/sub/z.py" not in rels
    with pytest.raises(NotFound):
        c.resolve("logs/1.log", 4)
    assert c.resolve("*.txt", 4) == ["a.txt", "b.txt"]


def test_walk_does_not_follow_links_below_the_source(ctx, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("s")
    os.symlink(str(tmp_path / "outside"), ctx / "src" / "out")
    kinds = {e.rel: e.kind for e in BuildContext(str(ctx), []).walk("src")}
    assert kinds["src/out"] == "link" and "src/out/secret" not in kinds
    # the top is resolved inside the root: an absolute link names the context's own path
    os.symlink(str(tmp_path / "outside"), ctx / "top")
    assert BuildContext(str(ctx), []).host("top") == os.path.join(
        os.path.realpath(ctx), str(tmp_path / "outside").lstrip("/")
    )


def test_checksums_are_cached_by_identity(ctx, monkeypatch):
    db = FakeDB()
    c = BuildContext(str(ctx), [], db)
    fp = c.fingerprint(c.walk("src"))
    c.save()
    assert fp["src/x.py"].startswith("f644:sha256:") and fp["src"].startswith("d")
    hashed = []
    real = CX._hash_file
    monkeypatch.setattr(CX, "_hash_file", lambda p: hashed.append(p) or real(p))
    c2 = BuildContext(str(ctx), [], db)
    assert c2.fingerprint(c2.walk("src")) == fp
    assert hashed == []  # nothing was read again
    (ctx / "src" / "x.py").write_text("changed!")
    c3 = BuildContext(str(ctx), [], db)
    fp3 = c3.fingerprint(c3.walk("src"))
    assert [os.path.basename(p) for p in hashed] == ["x.py"]
    assert fp3["src/x.py"] != fp["src/x.py"] and fp3["src/y.py"] == fp["src/y.py"]


def _big(path, n=CX.STASH_MIN + 12345):
    data = os.urandom(n)
    path.write_bytes(data)
    return data


def test_a_large_file_hashed_for_a_copy_is_stashed_with_the_same_bytes(ctx, tmp_path):
    import hashlib

    data = _big(ctx / "big.bin")
    stash_root = tmp_path / "tmp"
    stash_root.mkdir()
    c = BuildContext(str(ctx), [], FakeDB(), str(stash_root))
    (e,) = c.walk("big.bin")
    fp = c.fingerprint([e], stash=True)
    assert fp["big.bin"] == "f644:sha256:" + hashlib.sha256(data).hexdigest()
    copy = c.take(e)
    with open(copy, "rb") as f:
        assert f.read() == data
    assert c.take(e) == ""  # taken once
    c.drop_stash()
    assert os.listdir(stash_root) == []


def test_a_context_on_another_filesystem_is_stashed_whole(tmp_path):
    """A context on tmpfs, the stash on the data root's disk: the same bytes."""
    import hashlib
    import shutil
    import tempfile

    other = tempfile.mkdtemp(dir="/dev/shm")
    try:
        data = _big(Path(other) / "big.bin")
        stash_root = tmp_path / "tmp"
        stash_root.mkdir()
        c = BuildContext(other, [], FakeDB(), str(stash_root))
        (e,) = c.walk("big.bin")
        fp = c.fingerprint([e], stash=True)
        assert fp["big.bin"] == "f644:sha256:" + hashlib.sha256(data).hexdigest()
        with open(c.take(e), "rb") as f:
            assert f.read() == data
        c.drop_stash()
    finally:
        shutil.rmtree(other)


def test_a_file_that_changes_while_hashed_is_not_stashed(ctx, tmp_path):
    data = _big(ctx / "big.bin")
    stash_root = tmp_path / "tmp"
    stash_root.mkdir()
    c = BuildContext(str(ctx), [], FakeDB(), str(stash_root))
    (e,) = c.walk("big.bin")
    with open(ctx / "big.bin", "ab") as f:  # grows after it was looked at
        f.write(b"more")
    c.fingerprint([e], stash=True)
    assert c.take(e) == ""  # hashed, but no copy kept of bytes that are not `e`'s
    c.drop_stash()
    assert len(data) > 0


def test_nothing_is_stashed_without_a_copy_small_files_or_a_stash_root(ctx, tmp_path):
    _big(ctx / "big.bin")
    stash_root = tmp_path / "tmp"
    stash_root.mkdir()
    c = BuildContext(str(ctx), [], FakeDB(), str(stash_root))
    c.fingerprint(c.walk("big.bin"))  # hashed for a RUN mount, say: not copied
    c.fingerprint(c.walk("a.txt"), stash=True)  # too small to be worth a thread
    assert c.take(c.walk("big.bin")[0]) == "" and c.take(c.walk("a.txt")[0]) == ""
    assert os.listdir(stash_root) == []
    c2 = BuildContext(str(ctx), [], FakeDB())
    c2.fingerprint(c2.walk("big.bin"), stash=True)
    assert c2.take(c2.walk("big.bin")[0]) == ""


def test_a_stashed_copy_of_a_file_changed_since_is_not_used(ctx, tmp_path):
    _big(ctx / "big.bin")
    stash_root = tmp_path / "tmp"
    stash_root.mkdir()
    c = BuildContext(str(ctx), [], FakeDB(), str(stash_root))
    c.fingerprint(c.walk("big.bin"), stash=True)
    _big(ctx / "big.bin", CX.STASH_MIN + 99)  # rewritten before the COPY ran
    assert c.take(c.walk("big.bin")[0]) == ""
    c.drop_stash()
    assert os.listdir(stash_root) == []


def test_unused_stashed_copies_go_with_the_stash(ctx, tmp_path):
    _big(ctx / "big.bin")
    stash_root = tmp_path / "tmp"
    stash_root.mkdir()
    c = BuildContext(str(ctx), [], FakeDB(), str(stash_root))
    c.fingerprint(c.walk("big.bin"), stash=True)  # the COPY then came from the cache
    assert os.listdir(stash_root) != []
    c.drop_stash()
    assert os.listdir(stash_root) == []


def test_a_file_above_the_stash_limit_is_only_hashed(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(CX, "STASH_MAX", CX.STASH_MIN + 100)  # instead of a 64 MiB file
    _big(ctx / "big.bin")
    stash_root = tmp_path / "tmp"
    stash_root.mkdir()
    c = BuildContext(str(ctx), [], FakeDB(), str(stash_root))
    fp = c.fingerprint(c.walk("big.bin"), stash=True)
    assert fp["big.bin"].startswith("f644:sha256:")
    assert c.take(c.walk("big.bin")[0]) == "" and os.listdir(stash_root) == []


def test_hash_and_write_copies_every_block_in_order(tmp_path):
    import hashlib

    data = os.urandom(CX.PIPE_CHUNK * CX.PIPE_BUFFERS * 2 + 12345)  # the ring goes round
    (tmp_path / "src").write_bytes(data)
    h = hashlib.sha256()
    fin = os.open(tmp_path / "src", os.O_RDONLY)
    fout = os.open(tmp_path / "dst", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        CX._hash_and_write(fin, fout, h)
    finally:
        os.close(fin)
        os.close(fout)
    assert (tmp_path / "dst").read_bytes() == data
    assert h.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_failed_write_of_the_stash_is_raised_not_hung(tmp_path):
    import hashlib

    (tmp_path / "src").write_bytes(os.urandom(CX.PIPE_CHUNK * 3))
    fin = os.open(tmp_path / "src", os.O_RDONLY)
    fout = os.open(tmp_path / "src", os.O_RDONLY)  # writes fail: EBADF
    try:
        with pytest.raises(OSError):
            CX._hash_and_write(fin, fout, hashlib.sha256())
    finally:
        os.close(fin)
        os.close(fout)
