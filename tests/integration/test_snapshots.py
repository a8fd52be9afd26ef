"""The snapshot store on a real filesystem: atomic create, races, failures, chains, removal."""

import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from dockyard.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound
from dockyard.metadata import MetadataStore, SnapshotRecord
from dockyard.snapshots import SnapshotStore

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / "root")


@pytest.fixture
def meta(root):
    m = MetadataStore(os.path.join(root, "metadata.db"))
    yield m
    m.close()


@pytest.fixture
def store(root, meta):
    return SnapshotStore(os.path.join(root, "snapshots"), meta)


def writer(name: str, content: bytes = b"data"):
    def fill(path: str) -> int:
        with open(os.path.join(path, name), "wb") as f:
            f.write(content)
        return len(content)

    return fill


def entries(store: SnapshotStore) -> list[str]:
    return sorted(os.listdir(store.root)) if os.path.isdir(store.root) else []


def test_create_makes_a_complete_private_snapshot(store):
    rec = store.create("sha256:a", "", writer("hello", b"hi there"))
    assert rec.key == "sha256:a" and rec.parent == "" and rec.size == 8
    assert rec.dir == os.path.join(store.root, "1", "fs")
    with open(os.path.join(rec.dir, "hello"), "rb") as f:
        assert f.read() == b"hi there"
    assert entries(store) == ["1"]  # no temp dir left
    assert stat.S_IMODE(os.stat(store.root).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.dirname(rec.dir)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(rec.dir).st_mode) == 0o755
    assert store.get("sha256:a") == rec


def test_create_of_an_existing_key_returns_it_without_filling(store):
    first = store.create("sha256:a", "", writer("one"))

    def must_not_run(path):
        raise AssertionError("filled twice")

    assert store.create("sha256:a", "", must_not_run) == first
    assert entries(store) == ["1"]


def test_a_failing_fill_leaves_nothing_behind(store):
    def broken(path):
        os.makedirs(os.path.join(path, "usr", "bin"))
        with open(os.path.join(path, "usr", "bin", "half"), "wb") as f:
            f.write(b"x" * 1000)
        raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        store.create("sha256:a", "", broken)
    assert store.get("sha256:a") is None
    assert entries(store) == []
    # The key is free for a later, successful attempt.
    assert store.create("sha256:a", "", writer("ok")).size == 4


def test_a_fill_that_returns_no_size_is_refused(store):
    with pytest.raises(InvalidArgument):
        store.create("sha256:a", "", lambda path: None)
    with pytest.raises(InvalidArgument):
        store.create("sha256:a", "", lambda path: -1)
    assert store.get("sha256:a") is None and entries(store) == []


def test_a_missing_parent_is_refused(store):
    with pytest.raises(NotFound, match="sha256:nope"):
        store.create("sha256:b", "sha256:nope", writer("x"))
    assert entries(store) == []


def test_lowerdirs_lists_the_top_layer_first(store):
    a = store.create("sha256:a", "", writer("a"))
    b = store.create("sha256:b", "sha256:a", writer("b"))
    c = store.create("sha256:c", "sha256:b", writer("c"))
    assert store.lowerdirs("sha256:c") == [c.dir, b.dir, a.dir]
    assert store.lowerdirs("sha256:a") == [a.dir]
    with pytest.raises(NotFound):
        store.lowerdirs("sha256:zz")


def test_remove_deletes_record_and_directory_children_first(store):
    a = store.create("sha256:a", "", writer("a"))
    b = store.create("sha256:b", "sha256:a", writer("b"))
    with pytest.raises(Conflict):
        store.remove("sha256:a")
    assert os.path.isdir(a.dir)
    store.remove("sha256:b")
    assert store.get("sha256:b") is None and not os.path.exists(os.path.dirname(b.dir))
    store.remove("sha256:a")
    assert entries(store) == []
    with pytest.raises(NotFound):
        store.remove("sha256:a")


def test_a_record_pointing_outside_the_root_never_deletes_there(store, meta, tmp_path):
    victim = tmp_path / "victim"
    (victim / "fs").mkdir(parents=True)
    (victim / "fs" / "precious").write_bytes(b"keep me")
    meta.put_snapshot(SnapshotRecord("sha256:evil", "", str(victim / "fs"), 0, 0.0))
    store.remove("sha256:evil")
    assert store.get("sha256:evil") is None
    assert (victim / "fs" / "precious").read_bytes() == b"keep me"


def test_a_mounted_snapshot_is_not_removed(store):
    rec = store.create("sha256:a", "", writer("a"))
    mnt = os.path.join(rec.dir, "mnt")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", mnt], check=True)
    try:
        with open(os.path.join(mnt, "inside"), "wb") as f:
            f.write(b"busy")
        with pytest.raises(FailedPrecondition, match="mounted"):
            store.remove("sha256:a")
        assert store.get("sha256:a") == rec
        assert os.path.exists(os.path.join(mnt, "inside"))
    finally:
        subprocess.run(["umount", mnt], check=True)
    store.remove("sha256:a")
    assert entries(store) == []


def test_a_layer_an_overlay_mount_stacks_is_not_removed(store, tmp_path):
    base = store.create("sha256:a", "", writer("a"))
    top = store.create("sha256:b", "sha256:a", writer("b"))
    work = tmp_path / "ctr"
    for name in ("upper", "work", "merged"):
        (work / name).mkdir(parents=True)
    lower = ":".join(store.lowerdirs("sha256:b"))
    subprocess.run(
        [
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={lower},upperdir={work}/upper,workdir={work}/work",
            str(work / "merged"),
        ],
        check=True,
    )
    try:
        assert sorted(os.listdir(work / "merged")) == ["a", "b"]
        with pytest.raises(FailedPrecondition, match="in use"):
            store.remove("sha256:b")
        assert store.get("sha256:b") == top and os.path.isdir(top.dir)
    finally:
        subprocess.run(["umount", str(work / "merged")], check=True)
    store.remove("sha256:b")
    store.remove("sha256:a")
    assert not os.path.exists(base.dir)


def test_a_leftover_directory_with_the_next_number_is_skipped(store, meta):
    # A directory from a lost database holds the number the counter hands out next.
    os.makedirs(os.path.join(store.root, "1", "fs"))
    rec = store.create("sha256:a", "", writer("a"))
    assert rec.dir == os.path.join(store.root, "2", "fs")
    assert os.path.exists(os.path.join(rec.dir, "a"))


def test_unreferenced_dirs_are_ours_old_and_unrecorded(store):
    live = store.create("sha256:a", "", writer("a"))
    for name in ("7", "8.tmp-abcdef", "9", "notes", "10.bak"):
        os.makedirs(os.path.join(store.root, name))
    old = time.time() - 3600
    for name in ("7", "8.tmp-abcdef", "notes", "10.bak", "1"):
        os.utime(os.path.join(store.root, name), (old, old))
    found = store.unreferenced_dirs(older_than=60)
    assert found == [os.path.join(store.root, n) for n in ("7", "8.tmp-abcdef")]
    for path in found:
        store.remove_dir(path)
    assert entries(store) == ["1", "10.bak", "9", "notes"]
    assert os.path.isdir(live.dir)
    with pytest.raises(InvalidArgument):
        store.remove_dir(os.path.join(store.root, "notes"))
    with pytest.raises(InvalidArgument):
        store.remove_dir(os.path.dirname(store.root))


RACER = textwrap.dedent(
    """
    import os, sys, time
    from dockyard.metadata import MetadataStore
    from dockyard.snapshots import SnapshotStore
    root, who, gate = sys.argv[1], sys.argv[2], sys.argv[3]
    meta = MetadataStore(os.path.join(root, "metadata.db"))
    store = SnapshotStore(os.path.join(root, "snapshots"), meta)

    def fill(path):
        with open(os.path.join(path, "who"), "w") as f:
            f.write(who)
        # Both processes are inside fill before either publishes.
        open(os.path.join(gate, who), "w").close()
        deadline = time.monotonic() + 30
        while len(os.listdir(gate)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        return 3

    rec = store.create("sha256:same", "", fill)
    print(rec.dir)
    """
)


def test_concurrent_creators_of_one_key_agree_on_one_snapshot(root, meta, store, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    env = dict(os.environ, PYTHONPATH=SRC)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, root, who, str(gate)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for who in ("a", "b")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err.decode() for _, err in outs]
    dirs = {out.decode().strip() for out, _ in outs}
    rec = store.get("sha256:same")
    assert dirs == {rec.dir}
    assert entries(store) == [os.path.basename(os.path.dirname(rec.dir))]
    with open(os.path.join(rec.dir, "who")) as f:
        assert f.read() in ("a", "b")


def test_a_snapshot_created_without_its_own_sync_is_complete_and_recorded(store):
    rec = store.create("sha256:a", "", writer("hello", b"hi"), durable=False)
    child = store.create("sha256:b", "sha256:a", writer("more", b"yes"), durable=False)
    store.sync()
    assert store.get("sha256:b") == child
    assert store.lowerdirs("sha256:b") == [child.dir, rec.dir]
    with open(os.path.join(child.dir, "more"), "rb") as f:
        assert f.read() == b"yes"
    assert entries(store) == ["1", "2"]  # no temp dir left


def test_adopt_moves_a_laid_out_dir_in_and_leaves_it_when_the_key_exists(store, tmp_path):
    src = os.path.join(store.root + "-work", "layer")
    os.makedirs(src)
    with open(os.path.join(src, "f"), "wb") as f:
        f.write(b"abc")
    rec = store.adopt("sha256:a", "", src, 3, durable=False)
    assert not os.path.exists(src)  # moved, not copied
    assert rec.size == 3 and store.get("sha256:a") == rec
    with open(os.path.join(rec.dir, "f"), "rb") as f:
        assert f.read() == b"abc"
    os.makedirs(src)
    assert store.adopt("sha256:a", "", src, 3) == rec
    assert os.path.isdir(src)  # the existing snapshot won; ours is the caller's to remove
    assert entries(store) == ["1"]
