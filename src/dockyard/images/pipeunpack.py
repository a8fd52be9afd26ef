"""Unpacking a layer while it is still being read, before its diff id (the snapshot key) is known.

`import` learns the diff id only at the end of its input. Instead of a second pass over the
stored blob, a worker thread applies the uncompressed chunks as they are read into a private
directory under `<root>/tmp`; once the diff id is known the entries are moved (renamed, same
filesystem) into the snapshot's fresh directory inside `SnapshotStore.create`. Compression and
hashing release the GIL, so the two overlap on two cores. The private directory is flocked
while its import lives; the next import removes those whose owner died (kill -9).
"""

import os
from collections.abc import Callable

from dockyard.errors import DockyardError, InvalidArgument
from dockyard.topdir import make_top_dir

_DEPTH = 8  # chunks in flight between the reader and the applier
_PREFIX = "import-"
_GRACE = 60.0  # an unlocked private dir younger than this may be one being set up


class ChunkPipe:
    """A bounded in-memory pipe of byte chunks with a file-like reading side."""

    def __init__(self) -> None:
        import queue

        self._q: queue.Queue = queue.Queue(_DEPTH)
        self._buf = memoryview(b"")
        self._eof = False
        self._closed = False

    # writer side
    def put(self, chunk: bytes) -> None:
        self._q.put(chunk)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._q.put(None)

    # reader side
    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        while not self._buf:
            if self._eof:
                return False
            item = self._q.get()
            if item is None:
                self._eof = True
                return False
            self._buf = memoryview(item)
        return True

    def read(self, n: int = -1) -> bytes:
        if not self._fill():
            return b""
        if n is None or n < 0:
            n = len(self._buf)
        out, self._buf = self._buf[:n], self._buf[n:]
        return bytes(out)

    def readinto(self, b) -> int:
        if not self._fill():
            return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def drain(self) -> None:
        while self._fill():
            self._buf = memoryview(b"")


class BackgroundApply:
    """Applies a tar stream fed through `put` into a private directory on a worker thread."""

    def __init__(self, tmp_root: str, raw: bool = False):
        """raw=True: the chunks are a layer blob as stored (maybe compressed); the worker
        decompresses and hashes them too, so `diff_id` is known after finish()."""
        import threading

        sweep_stale(tmp_root)
        make_top_dir(tmp_root)
        self.dir = os.path.join(tmp_root, _PREFIX + os.urandom(8).hex())
        os.mkdir(self.dir, 0o700)
        self._lock_fd = _lock(self.dir, blocking=True)  # held while we live: sweepers skip us
        self.target = os.path.join(self.dir, "fs")
        os.mkdir(self.target, 0o755)
        self.pipe = ChunkPipe()
        self.size = 0
        self.diff_id = ""
        self._raw = raw
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="import-apply", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from dockyard.archive.apply import apply_layer

        try:
            if self._raw:
                from dockyard.archive.compression import open_reader
                from dockyard.images.unpack import HashingReader

                hr = HashingReader(open_reader(self.pipe))
                self.size = apply_layer(hr, self.target, whiteouts="overlay").size
                hr.drain()
                self.diff_id = hr.digest()
            else:
                self.size = apply_layer(self.pipe, self.target, whiteouts="overlay").size
        except BaseException as e:  # reported by finish(); keep draining so the reader never blocks
            self._error = e
        self.pipe.drain()

    @property
    def failed(self) -> bool:
        return self._error is not None

    def put(self, chunk: bytes) -> None:
        if self._error is not None:
            self.finish()  # the layer is bad: stop reading the input now
        self.pipe.put(chunk)

    def finish(self) -> None:
        """End the stream, wait for the worker, raise its error if it had one."""
        self.pipe.close()
        self._thread.join()
        if self._error is not None:
            err = self._error
            if isinstance(err, DockyardError):
                raise err
            raise InvalidArgument(f"cannot unpack the layer: {err}") from err

    def fill(self) -> Callable[[str], int]:
        """A `SnapshotStore.create` fill function moving the unpacked tree into its dir."""

        def move(dest: str) -> int:
            _move_tree(self.target, dest)
            return self.size

        return move

    def discard(self) -> None:
        from dockyard.rmtree import quietly

        self.pipe.close()
        self._thread.join()
        quietly(self.dir)
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _move_tree(src: str, dest: str) -> None:
    """Rename every entry of src into dest and give dest src's owner, mode, xattrs and mtime."""
    import stat

    for name in os.listdir(src):
        os.rename(os.path.join(src, name), os.path.join(dest, name))
    st = os.lstat(src)
    os.chown(dest, st.st_uid, st.st_gid)
    os.chmod(dest, stat.S_IMODE(st.st_mode))
    for attr in os.listxattr(src, follow_symlinks=False):
        os.setxattr(dest, attr, os.getxattr(src, attr, follow_symlinks=False))
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))


def _lock(path: str, blocking: bool) -> int:
    """An exclusive flock on a directory; -1 if another process holds it (non-blocking)."""
    import fcntl

    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return -1
    except BaseException:
        os.close(fd)
        raise
    return fd


def sweep_stale(tmp_root: str, now: float | None = None) -> None:
    """Remove private dirs of imports that died (nobody holds their lock any more)."""
    import time

    from dockyard.rmtree import quietly

    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(tmp_root))
    except FileNotFoundError:
        return
    for entry in entries:
        if not entry.name.startswith(_PREFIX):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < _GRACE:
                continue
            fd = _lock(entry.path, blocking=False)
        except OSError:
            continue
        if fd < 0:
            continue  # a live import
        try:
            quietly(entry.path)
        finally:
            os.close(fd)
