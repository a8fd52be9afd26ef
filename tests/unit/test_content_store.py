"""The content store: the contract every ContentStore meets, then the on-disk store's own promises
(layout, permissions, corruption detection, hostile digests, resumable and concurrent ingests)."""

import hashlib
import io
import os
import stat
import time

import pytest

from dockyard import errors
from dockyard.content import ContentStore, VerifyingReader


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


HOSTILE_DIGESTS = [
    "",
    "sha256:",
    "sha256",
    "sha256:" + "0" * 63,
    "sha256:" + "0" * 65,
    "sha256:" + "A" * 64,
    "SHA256:" + "0" * 64,
    "md5:" + "0" * 32,
    "sha256:../../../../etc/passwd",
    "sha256:" + "0" * 61 + "/..",
    "../sha256/" + "0" * 64,
    "sha256:" + "0" * 63 + "\n",
    "sha256:" + "0" * 63 + "\x00",
    "sha256/" + "0" * 64,
    "sha256:sha256:" + "0" * 57,
]


# --------------------------------------------------------------------------------------------
# The contract: behaviour every ContentStore implementation (this one, any future fake) has.
# --------------------------------------------------------------------------------------------


def run_content_store_contract(make_store) -> None:
    """Check a ContentStore implementation; `make_store()` returns a fresh, empty store."""
    for check in _CONTRACT:
        check(make_store())


def _empty_store(store) -> None:
    d = sha(b"absent")
    assert not store.has(d)
    assert list(store.digests()) == []
    for call in (store.size, store.read, store.open, store.delete, store.verify):
        with pytest.raises(errors.NotFound, match="not found"):
            call(d)
    assert store.sweep_ingest(0) == 0


def _put_read_delete(store) -> None:
    data = b'{"schemaVersion": 2}'
    d = store.put(data)
    assert d == sha(data)
    assert store.has(d)
    assert store.size(d) == len(data)
    assert store.read(d) == data
    with store.open(d) as f:
        assert f.read() == data
    store.verify(d)
    assert list(store.digests()) == [d]
    assert store.put(data, d) == d  # storing it again is a no-op
    assert list(store.digests()) == [d]
    store.delete(d)
    assert not store.has(d)
    with pytest.raises(errors.NotFound):
        store.delete(d)
    with pytest.raises(errors.NotFound):
        store.read(d)


def _empty_blob(store) -> None:
    d, n = store.ingest(io.BytesIO(b""), sha(b""), 0)
    assert (d, n) == (sha(b""), 0)
    assert store.read(d) == b""
    assert store.put(b"") == d


def _put_mismatch(store) -> None:
    wrong = sha(b"something else")
    with pytest.raises(errors.InvalidArgument) as e:
        store.put(b"payload", wrong)
    assert wrong in str(e.value) and sha(b"payload") in str(e.value)
    assert not store.has(sha(b"payload"))
    assert not store.has(wrong)
    assert list(store.digests()) == []


def _read_limit(store) -> None:
    d = store.put(b"x" * 100)
    assert store.read(d, max_size=100) == b"x" * 100
    with pytest.raises(errors.LimitExceeded):
        store.read(d, max_size=99)


def _ingest(store) -> None:
    data = os.urandom(300_000)
    assert store.ingest(io.BytesIO(data)) == (sha(data), len(data))
    assert store.ingest(io.BytesIO(data), sha(data), len(data)) == (sha(data), len(data))
    assert store.read(sha(data)) == data


def _ingest_mismatches(store) -> None:
    data = os.urandom(50_000)
    wrong = sha(b"not it")
    with pytest.raises(errors.InvalidArgument) as e:
        store.ingest(io.BytesIO(data), wrong, len(data))
    assert wrong in str(e.value) and sha(data) in str(e.value)
    with pytest.raises(errors.InvalidArgument, match="size"):
        store.ingest(io.BytesIO(data[:-1]), sha(data), len(data))
    with pytest.raises(errors.InvalidArgument, match="size"):
        store.ingest(io.BytesIO(data + b"!"), sha(data), len(data))
    assert list(store.digests()) == []
    assert store.sweep_ingest(0) == 0  # failed ingests leave nothing behind


def _writer_in_parts(store) -> None:
    data = os.urandom(10_000)
    with store.writer("parts", sha(data), len(data)) as w:
        assert w.offset == 0
        for i in range(0, len(data), 999):
            w.write(data[i : i + 999])
        assert w.offset == len(data)
        assert w.commit() == sha(data)
    assert store.read(sha(data)) == data
    with pytest.raises(errors.FailedPrecondition):
        w.write(b"more")


def _writer_resumes(store) -> None:
    data = os.urandom(70_000)
    w = store.writer("layer-1", sha(data), len(data))
    w.write(data[:30_000])
    w.close()
    assert not store.has(sha(data))
    with store.writer("layer-1", sha(data), len(data)) as w2:
        assert w2.offset == 30_000
        w2.write(data[30_000:])
        assert w2.commit() == sha(data)
    assert store.read(sha(data)) == data
    # Done: the ref starts from nothing again.
    with store.writer("layer-1", sha(data), len(data)) as w3:
        assert w3.offset == 0


def _writer_exception_keeps_partial(store) -> None:
    data = os.urandom(5000)
    with pytest.raises(RuntimeError), store.writer("r", sha(data), len(data)) as w:
        w.write(data[:1234])
        raise RuntimeError("connection reset")
    with store.writer("r", sha(data), len(data)) as w:
        assert w.offset == 1234


def _writer_other_declaration_restarts(store) -> None:
    a, b = b"a" * 1000, b"b" * 2000
    with store.writer("r", sha(a), len(a)) as w:
        w.write(a[:500])
    with store.writer("r", sha(b), len(b)) as w:
        assert w.offset == 0
        w.write(b)
        assert w.commit() == sha(b)


def _writer_abort(store) -> None:
    with store.writer("r") as w:
        w.write(b"partial")
        w.abort()
    with store.writer("r") as w:
        assert w.offset == 0
    assert list(store.digests()) == []


def _commit_short_keeps_writer(store) -> None:
    data = b"0123456789"
    w = store.writer("r", sha(data), len(data))
    w.write(data[:4])
    with pytest.raises(errors.InvalidArgument, match="size mismatch"):
        w.commit()
    assert not store.has(sha(data))
    w.write(data[4:])
    assert w.commit() == sha(data)


def _write_past_size_refused(store) -> None:
    with store.writer("r", sha(b"abc"), 3) as w:
        w.write(b"ab")
        with pytest.raises(errors.InvalidArgument, match="expected size"):
            w.write(b"cd")
        assert w.offset == 2
        w.write(b"c")
        assert w.commit() == sha(b"abc")


def _commit_digest_mismatch_discards(store) -> None:
    wrong = sha(b"else")
    with store.writer("r", wrong) as w:
        w.write(b"data")
        with pytest.raises(errors.InvalidArgument) as e:
            w.commit()
        assert w.closed
    assert wrong in str(e.value) and sha(b"data") in str(e.value)
    assert list(store.digests()) == []
    with store.writer("r", wrong) as w:
        assert w.offset == 0


def _one_writer_per_ref(store) -> None:
    w1 = store.writer("busy-ref")
    with pytest.raises(errors.Unavailable, match="ref busy-ref is locked"):
        store.writer("busy-ref")
    with pytest.raises(errors.Unavailable):
        store.writer("busy-ref", sha(b"x"), 1)
    w1.write(b"x")
    assert w1.commit() == sha(b"x")
    with store.writer("busy-ref") as w2:  # free again once the first is done
        assert w2.offset == 0


def _same_digest_two_refs(store) -> None:
    data = os.urandom(4096)
    w1 = store.writer("ref-a", sha(data), len(data))
    w2 = store.writer("ref-b", sha(data), len(data))
    w1.write(data)
    w2.write(data)
    assert w1.commit() == sha(data)
    assert w2.commit() == sha(data)
    assert store.read(sha(data)) == data
    assert list(store.digests()) == [sha(data)]
    assert store.sweep_ingest(0) == 0


def _sweep(store) -> None:
    with store.writer("abandoned") as w:
        w.write(b"half")
    assert store.sweep_ingest(3600) == 0  # not idle long enough
    live = store.writer("live")
    live.write(b"still going")
    assert store.sweep_ingest(0) == 1  # the abandoned one; the live writer is held
    with store.writer("abandoned") as w:
        assert w.offset == 0
    assert live.commit() == sha(b"still going")


def _verifying_reader(store) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    d = store.put(data)
    with VerifyingReader(store.open(d), d, len(data)) as r:
        assert r.read() == data
    with VerifyingReader(store.open(d), d, len(data)) as r:
        got = bytearray()
        while chunk := r.read(100_000):
            got += chunk
        assert got == data


def _hostile_digests(store) -> None:
    ok = store.put(b"ok")
    for bad in HOSTILE_DIGESTS:
        for call in (
            store.has,
            store.size,
            store.read,
            store.open,
            store.delete,
            store.verify,
            lambda d: store.put(b"ok", d),
            lambda d: store.writer("r", d),
            lambda d: store.ingest(io.BytesIO(b"ok"), d),
        ):
            with pytest.raises(errors.InvalidArgument):
                call(bad)
    assert list(store.digests()) == [ok]


_CONTRACT = [
    _empty_store,
    _put_read_delete,
    _empty_blob,
    _put_mismatch,
    _read_limit,
    _ingest,
    _ingest_mismatches,
    _writer_in_parts,
    _writer_resumes,
    _writer_exception_keeps_partial,
    _writer_other_declaration_restarts,
    _writer_abort,
    _commit_short_keeps_writer,
    _write_past_size_refused,
    _commit_digest_mismatch_discards,
    _one_writer_per_ref,
    _same_digest_two_refs,
    _sweep,
    _verifying_reader,
    _hostile_digests,
]


def test_contract_on_disk(tmp_path):
    roots = iter(range(1000))
    run_content_store_contract(lambda: ContentStore(str(tmp_path / f"s{next(roots)}" / "content")))


@pytest.mark.parametrize("check", _CONTRACT, ids=lambda c: c.__name__.strip("_"))
def test_contract_case(tmp_path, check):
    # The same checks one by one, so a failure names the behaviour.
    check(ContentStore(str(tmp_path / "content")))


# --------------------------------------------------------------------------------------------
# The on-disk store.
# --------------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path) -> ContentStore:
    return ContentStore(str(tmp_path / "content"))


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_reading_an_empty_store_creates_nothing(store):
    assert not store.has(sha(b"x"))
    assert list(store.digests()) == []
    assert store.sweep_ingest(0) == 0
    assert not os.path.exists(store.root)


def test_layout_and_permissions(store):
    old = os.umask(0)  # even a permissive umask does not open the store up
    try:
        d = store.put(b"layer bytes")
        w = store.writer("pending")
        w.write(b"part")
    finally:
        os.umask(old)
    path = os.path.join(store.root, "blobs", "sha256", d.split(":")[1])
    assert store.path(d) == path
    assert os.path.isfile(path)
    assert mode(path) == 0o444
    for sub in ("", "blobs", "blobs/sha256", "ingest"):
        assert mode(os.path.join(store.root, sub)) == 0o700, sub
    (ingest_dir,) = os.listdir(os.path.join(store.root, "ingest"))
    full = os.path.join(store.root, "ingest", ingest_dir)
    assert len(ingest_dir) == 64 and mode(full) == 0o700
    assert "data" in os.listdir(full)
    for name in os.listdir(full):
        assert mode(os.path.join(full, name)) == 0o600, name
    w.close()
    assert os.listdir(os.path.join(store.root, "blobs")) == ["sha256"]


def test_corrupt_blob_is_reported_never_used(store):
    data = os.urandom(200_000)
    d = store.put(data)
    path = store.path(d)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01")
    with pytest.raises(errors.DataLoss, match=f"blob {d} is corrupt"):
        store.read(d)
    with pytest.raises(errors.DataLoss, match=f"blob {d} is corrupt"):
        store.verify(d)
    with (
        pytest.raises(errors.DataLoss, match=f"blob {d} is corrupt"),
        VerifyingReader(store.open(d), d, len(data)) as r,
    ):
        r.read()
    # The raw stream is raw: it is the caller's job to wrap it.
    with store.open(d) as f:
        assert f.read() != data


def test_truncated_blob_is_reported(store):
    data = os.urandom(10_000)
    d = store.put(data)
    os.truncate(store.path(d), 5000)
    with pytest.raises(errors.DataLoss):
        store.read(d)
    with pytest.raises(errors.DataLoss, match="5000 bytes, expected 10000"):
        VerifyingReader(store.open(d), d, len(data)).read()


def test_verifying_reader_stops_at_overflow():
    data = b"z" * 5000

    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            b[: len(b)] = b"z" * len(b)
            return len(b)

    r = VerifyingReader(Endless(), sha(data), len(data))
    with pytest.raises(errors.DataLoss, match="more than the expected 5000 bytes"):
        while r.read(1024):
            pass


def test_verifying_reader_readinto_and_close():
    data = os.urandom(100_000)
    src = io.BytesIO(data)
    r = VerifyingReader(src, sha(data), len(data))
    buf = bytearray(4096)
    got = bytearray()
    while n := r.readinto(buf):
        got += buf[:n]
    assert got == data
    r.close()
    assert src.closed
    bad = VerifyingReader(io.BytesIO(data[::-1]), sha(data))
    buf = bytearray(1 << 20)
    assert bad.readinto(buf) == len(data)
    for _ in range(2):  # and again: a swallowed DataLoss does not turn into a clean EOF
        with pytest.raises(errors.DataLoss, match=f"blob {sha(data)} is corrupt"):
            bad.readinto(buf)
    with pytest.raises(errors.InvalidArgument):
        VerifyingReader(io.BytesIO(b""), "sha256:../x")


def test_hostile_digest_never_becomes_a_path(tmp_path):
    store = ContentStore(str(tmp_path / "a" / "content"))
    victim = tmp_path / "etc" / "passwd"
    victim.parent.mkdir()
    victim.write_bytes(b"root:x:0:0")
    for bad in HOSTILE_DIGESTS:
        with pytest.raises(errors.InvalidArgument):
            store.path(bad)
        with pytest.raises(errors.InvalidArgument):
            store.delete(bad)
    assert victim.read_bytes() == b"root:x:0:0"
    assert not os.path.exists(store.root)


def test_hostile_ref_stays_inside_ingest(store, tmp_path):
    for ref in ("../../../../outside", "/etc/passwd", "a/b/../../c", "\x00nul", "x" * 10000):
        with store.writer(ref) as w:
            w.write(b"data")
    names = os.listdir(os.path.join(store.root, "ingest"))
    assert len(names) == 5 and all(len(n) == 64 for n in names)
    assert sorted(os.listdir(tmp_path)) == ["content"]
    with pytest.raises(errors.InvalidArgument):
        store.writer("")


def test_digests_ignores_foreign_entries(store):
    d = store.put(b"real")
    shadir = os.path.dirname(store.path(d))
    open(os.path.join(shadir, "not-a-digest"), "w").close()
    os.mkdir(os.path.join(shadir, "0" * 64))
    assert list(store.digests()) == [d]


def test_resume_rehashes_what_is_on_disk(store):
    data = os.urandom(20_000)
    with store.writer("r", sha(data), len(data)) as w:
        w.write(data[:8000])
    (h,) = os.listdir(os.path.join(store.root, "ingest"))
    partial = os.path.join(store.root, "ingest", h, "data")
    with open(partial, "r+b") as f:  # the disk changed under us (bit rot, a stray write)
        f.write(b"\xff" * 10)
    with store.writer("r", sha(data), len(data)) as w:
        assert w.offset == 8000
        w.write(data[8000:])
        with pytest.raises(errors.InvalidArgument, match="digest mismatch"):
            w.commit()
    assert not store.has(sha(data))


def test_resume_with_more_on_disk_than_declared_restarts(store):
    with store.writer("r") as w:
        w.write(b"x" * 100)
    with store.writer("r") as w:
        assert w.offset == 100
    # A different declaration (a size now) means the old partial is not this blob.
    with store.writer("r", sha(b"y" * 10), 10) as w:
        assert w.offset == 0


class ShortReads(io.RawIOBase):
    """A stream that returns uneven, short reads, like a socket."""

    def __init__(self, data: bytes):
        self._data = memoryview(data)
        self._pos = 0
        self._step = 0

    def readable(self):
        return True

    def readinto(self, b):
        self._step += 1
        n = min(len(b), (self._step * 7919) % 300_000 + 1, len(self._data) - self._pos)
        b[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


class ReadOnly:
    """A stream with read() only."""

    def __init__(self, data: bytes):
        self._f = io.BytesIO(data)

    def read(self, n=-1):
        return self._f.read(min(n, 65536))


@pytest.mark.parametrize("wrap", [io.BytesIO, ShortReads, ReadOnly])
def test_ingest_large_streams(store, wrap):
    data = os.urandom(13 * 1024 * 1024 + 4321)  # long enough to hash on the side thread
    assert store.ingest(wrap(data), sha(data), len(data)) == (sha(data), len(data))
    store.verify(sha(data))
    assert store.read(sha(data)) == data
    assert not os.listdir(os.path.join(store.root, "ingest"))


def test_ingest_source_failure_leaves_nothing(store):
    class Broken(io.RawIOBase):
        def __init__(self):
            self.n = 0

        def readable(self):
            return True

        def readinto(self, b):
            self.n += 1
            if self.n > 7:
                raise ConnectionResetError("peer went away")
            b[:] = b"q" * len(b)
            return len(b)

    with pytest.raises(ConnectionResetError):
        store.ingest(Broken())
    assert list(store.digests()) == []
    assert os.listdir(os.path.join(store.root, "ingest")) == []


def test_large_overflow_refused_without_reading_on(store):
    data = os.urandom(9 * 1024 * 1024)
    with pytest.raises(errors.InvalidArgument, match="expected size"):
        store.ingest(io.BytesIO(data), sha(data[:-1]), len(data) - 1)
    assert list(store.digests()) == []
    assert os.listdir(os.path.join(store.root, "ingest")) == []


def test_writer_copy_from_resumes(store):
    data = os.urandom(6 * 1024 * 1024)
    with store.writer("pull", sha(data), len(data)) as w:
        w.copy_from(io.BytesIO(data[: 5 * 1024 * 1024]))
    with store.writer("pull", sha(data), len(data)) as w:
        assert w.offset == 5 * 1024 * 1024
        w.copy_from(io.BytesIO(data[w.offset :]))
        assert w.commit() == sha(data)


def test_sweep_uses_idle_time(store):
    with store.writer("old") as w:
        w.write(b"stale")
    with store.writer("new") as w:
        w.write(b"fresh data")
    ingest = os.path.join(store.root, "ingest")
    (old_dir,) = [
        os.path.join(ingest, n)
        for n in os.listdir(ingest)
        if os.path.getsize(os.path.join(ingest, n, "data")) == len(b"stale")
    ]
    past = time.time() - 7200
    for name in [*os.listdir(old_dir), "."]:
        os.utime(os.path.join(old_dir, name), (past, past))
    assert store.sweep_ingest(3600) == 1
    assert not os.path.exists(old_dir)
    with store.writer("new") as w:
        assert w.offset == len(b"fresh data")


def test_second_commit_of_existing_blob_discards_its_copy(store):
    data = b"same bytes"
    d = store.put(data)
    before = os.stat(store.path(d))
    with store.writer("again", d, len(data)) as w:
        w.write(data)
        assert w.commit() == d
    after = os.stat(store.path(d))
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert os.listdir(os.path.join(store.root, "ingest")) == []


def test_delete_of_read_only_blob(store):
    d = store.put(b"bye")
    store.delete(d)
    assert list(store.digests()) == []
    assert store.put(b"bye") == d  # and it can come back


def test_threads_storing_one_digest(store):
    import threading

    data = os.urandom(6 * 1024 * 1024)
    results, failures = [], []

    def worker(k):
        try:
            if k % 2:
                results.append(store.ingest(io.BytesIO(data), sha(data), len(data))[0])
            else:
                results.append(store.put(data))
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert results == [sha(data)] * 6
    assert list(store.digests()) == [sha(data)]
    assert os.listdir(os.path.join(store.root, "ingest")) == []


def test_sweep_never_takes_a_live_writers_data(store):
    import threading

    stop = threading.Event()
    failures = []

    def sweeper():
        while not stop.is_set():
            store.sweep_ingest(0)

    def writer(t):
        try:
            for k in range(25):
                data = f"{t}-{k}".encode() * 1000
                while True:
                    try:
                        w = store.writer(f"ref-{t}-{k}", sha(data), len(data))
                        break
                    except errors.Unavailable:
                        time.sleep(0.001)  # the sweeper held the new dir for a moment
                with w:
                    for i in range(0, len(data), 1000):
                        w.write(data[i : i + 1000])
                    assert w.commit() == sha(data)
                store.verify(sha(data))
        except BaseException as e:
            failures.append(e)

    sweep_thread = threading.Thread(target=sweeper)
    sweep_thread.start()
    writers = [threading.Thread(target=writer, args=(t,)) for t in range(3)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    sweep_thread.join()
    assert failures == []
    assert len(list(store.digests())) == 75


def test_a_commit_without_its_own_flush_is_visible_verified_and_read_only(store):
    data = os.urandom(5 << 20)
    w = store.writer("batched")
    w.write(data)
    digest = w.commit(durable=False)
    assert digest == sha(data) and store.read(digest) == data
    assert stat.S_IMODE(os.stat(store.path(digest)).st_mode) == 0o444
    assert store.put(b"small", durable=False) == sha(b"small")
    assert store.ingest(io.BytesIO(data[:100]), durable=False) == (sha(data[:100]), 100)
    store.sync()  # the one flush of the batch
    store.verify(digest)
    assert not os.listdir(os.path.join(store.root, "ingest"))  # nothing partial left


def test_a_one_shot_writer_commits_and_leaves_nothing_to_resume(store):
    data = os.urandom(70_000)
    with store.writer("once-1", sha(data), len(data), resume=False) as w:
        w.write(data)
        assert w.commit(durable=False) == sha(data)
    assert store.read(sha(data)) == data
    with store.writer("once-2", resume=False) as w:
        w.write(data[:1000])  # left behind: a crash, say
    with store.writer("once-2") as w2:
        assert w2.offset == 0  # no record of what it was: a later writer starts afresh
    assert store.sweep_ingest(0) == 1
    assert os.listdir(os.path.join(store.root, "ingest")) == []
