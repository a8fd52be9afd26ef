"""ContentWriter: one resumable write of a blob, from the first byte to its atomic appearance.

The bytes go to `ingest/<ref-hash>/data` and are hashed as they are written. `commit`
makes them durable, checks size and digest, and only then renames them into
`blobs/<alg>/<hex>`. `commit(durable=False)` skips the flush (the caller flushes a batch
at once, see durable.py): the rename is still the last step of a complete write, so a
process killed at any point never leaves a short blob under its digest. A new writer for the same ref continues where the last one stopped,
after rehashing what is already on disk (the file, not any memory, is the truth).
"""

from __future__ import annotations

import os

from dockyard import digest as _digest
from dockyard.content import ingest as _ingest
from dockyard.content.layout import (
    BLOB_MODE,
    BUF_SIZE,
    DATA,
    FILE_MODE,
    blob_path,
    fsync_dir,
    ingest_dir,
    make_dirs,
)
from dockyard.content.verify import hash_fd
from dockyard.errors import FailedPrecondition, InvalidArgument

# Streams longer than this hash on a second thread; shorter ones are not worth a thread.
_PIPE_AFTER = 4 * BUF_SIZE
# On long streams, queue this much at a time for writeback so commit's fsync is short.
_SYNC_EVERY = 8 * BUF_SIZE

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are never evaluated
    from typing import BinaryIO


def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class ContentWriter:
    """Writes one blob under `ref`; use ContentStore.writer to make one.

    `offset` is how many bytes are stored so far. `commit` is explicit: leaving the context
    manager without it (normally or on an exception) keeps the partial data for a later
    writer of the same ref.
    """

    def __init__(self, root: str, ref: str, expected: str | None = None, size: int | None = None,
                 resume: bool = True):  # fmt: skip
        if not isinstance(ref, str) or not ref:
            raise InvalidArgument("an ingest ref must be a non-empty string")
        algorithm = _digest.split(expected)[0] if expected is not None else _digest.SHA256
        if size is not None and (not isinstance(size, int) or size < 0):
            raise InvalidArgument(f"invalid blob size {size!r}")
        self.ref = ref
        self.expected = expected
        self.size = size
        self.offset = 0
        self._root = root
        self._alg = algorithm
        self._dir = ingest_dir(root, ref)
        self._data_fd = -1
        self._broken = False
        self._lock_fd = _ingest.lock(self._dir, ref)
        try:
            if resume:
                self._open_data()
            else:
                self._open_new()
        except BaseException:
            self._release()
            raise

    def _open_data(self) -> None:
        data = os.path.join(self._dir, DATA)
        rec = _ingest.read_record(self._dir)
        same = rec is not None and (rec.get("ref"), rec.get("expected"), rec.get("size")) == (
            self.ref,
            self.expected,
            self.size,
        )
        if same:
            try:
                fd = os.open(data, os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                fd = -1
            if fd >= 0:
                self._data_fd = fd
                self._hasher, self.offset = hash_fd(fd, self._alg)
                if self.size is None or self.offset <= self.size:
                    return
                os.close(fd)
                self._data_fd = -1
        # Nothing to resume, or the earlier writer declared something else: start over.
        self._data_fd = os.open(data, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
        self._hasher = _digest.new_hasher(self._alg)
        self.offset = 0
        _ingest.write_record(self._dir, self.ref, self.expected, self.size)

    def _open_new(self) -> None:
        # a one-shot ref (a random name nobody else writes under): nothing to resume, so no
        # record saying what a resumed write must match
        data = os.path.join(self._dir, DATA)
        self._data_fd = os.open(data, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
        self._hasher = _digest.new_hasher(self._alg)
        self.offset = 0

    # -- writing

    def _check_open(self) -> None:
        if self._lock_fd < 0:
            raise FailedPrecondition(f"the writer of ref {self.ref} is closed")
        if self._broken:
            # A failed write may have left part of its bytes in the file, out of step with
            # the hash; only abort or close make sense now (a new writer rehashes the file).
            raise FailedPrecondition(f"the writer of ref {self.ref} failed: abort or close it")

    def _check_room(self, n: int) -> None:
        if self.size is not None and self.offset + n > self.size:
            raise InvalidArgument(
                f"ref {self.ref}: more data than the expected size of {self.size} bytes"
            )

    def write(self, data: bytes) -> None:
        self._check_open()
        self._check_room(len(data))
        try:
            _write_all(self._data_fd, data)
        except BaseException:
            self._broken = True
            raise
        self._hasher.update(data)
        self.offset += len(data)

    def copy_from(self, src: BinaryIO) -> int:
        """Copy `src` to its end in 1 MiB reads into reused buffers; return bytes copied.

        After the first few MiB the hash moves to a worker thread (see hashpipe.py) and
        writeback of every few MiB starts at once (see writeback.py), so that commit's fsync
        has little left to do.
        """
        self._check_open()
        readinto = getattr(src, "readinto", None)
        if readinto is None:
            return self._copy_by_read(src)
        fd, hasher, start = self._data_fd, self._hasher, self.offset
        buf = bytearray(BUF_SIZE)
        pipe = None
        synced = start
        try:
            while True:
                if pipe is None and self.offset - start >= _PIPE_AFTER:
                    from dockyard.content.hashpipe import HashPipe
                    from dockyard.content.writeback import Writeback

                    pipe, writeback = HashPipe(hasher), Writeback()
                if pipe is not None:
                    buf = pipe.buffer()
                n = readinto(buf)
                if not n:
                    return self.offset - start
                self._check_room(n)
                chunk = memoryview(buf)[:n]
                try:
                    _write_all(fd, chunk)
                except BaseException:
                    self._broken = True
                    raise
                if pipe is None:
                    hasher.update(chunk)
                else:
                    pipe.feed(buf, n)
                self.offset += n
                if pipe is not None and self.offset - synced >= _SYNC_EVERY:
                    writeback.start(fd, synced, self.offset - synced)
                    synced = self.offset
        finally:
            if pipe is not None:
                pipe.close()

    def _copy_by_read(self, src: BinaryIO) -> int:
        start = self.offset
        while True:
            chunk = src.read(BUF_SIZE)
            if not chunk:
                return self.offset - start
            self.write(chunk)

    # -- finishing

    def commit(self, durable: bool = True) -> str:
        """Make the blob visible under its digest and return the digest.

        With `durable=False` the blob is not flushed to disk: call `durable.sync_paths` on
        the store's root before anything durable names it.

        InvalidArgument if fewer bytes than the declared size were written (the writer stays
        open: write the rest and commit again) or if the digest differs from the expected one
        (the data is discarded). Committing a blob that already exists discards this copy.
        """
        self._check_open()
        if self.size is not None and self.offset != self.size:
            raise InvalidArgument(
                f"ref {self.ref}: size mismatch: expected {self.size} bytes, have {self.offset}"
            )
        actual = f"{self._alg}:{self._hasher.hexdigest()}"
        if self.expected is not None and actual != self.expected:
            self.abort()
            raise InvalidArgument(
                f"ref {self.ref}: digest mismatch: expected {self.expected}, got {actual}"
            )
        self._publish(actual, durable)
        self._discard()
        return actual

    def _publish(self, digest: str, durable: bool) -> None:
        final = blob_path(self._root, digest)
        if os.path.exists(final):
            return
        os.fchmod(self._data_fd, BLOB_MODE)
        if durable:
            os.fsync(self._data_fd)
        parent = os.path.dirname(final)
        make_dirs(parent, durable=durable)
        os.rename(os.path.join(self._dir, DATA), final)
        if durable:
            fsync_dir(parent)

    def abort(self) -> None:
        """Throw the partial data away and release the ref."""
        if self._lock_fd < 0:
            raise FailedPrecondition(f"the writer of ref {self.ref} is closed")
        self._discard()

    def _discard(self) -> None:
        try:
            _ingest.remove(self._dir)
        finally:
            self._release()

    def close(self) -> None:
        """Release the ref and keep the partial data (a later writer resumes it)."""
        self._release()

    def _release(self) -> None:
        for name in ("_data_fd", "_lock_fd"):
            fd = getattr(self, name, -1)
            if fd >= 0:
                setattr(self, name, -1)
                os.close(fd)

    @property
    def closed(self) -> bool:
        return self._lock_fd < 0

    def __enter__(self) -> ContentWriter:
        return self

    def __exit__(self, *exc) -> None:
        self._release()

    def __del__(self) -> None:
        self._release()
