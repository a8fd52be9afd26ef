"""Blob upload sessions: resumable across requests and across restarts of the server.

    <root>/uploads/<id>/info    {"repo": ..., "started": ...}   written once, atomically
    <root>/uploads/<id>/data    the bytes received so far (its size is the session's offset)

The file is the truth: a session not in memory (after a restart) is reopened by rehashing
its data. On completion the data is fsynced, checked against the client's digest and only
then renamed into the content store, so a blob is never visible before it is verified.
"""

import os

from dockyard import digest as _digest
from dockyard.content.layout import BLOB_MODE, fsync_dir, make_dirs
from dockyard.errors import FailedPrecondition, InvalidArgument, NotFound
from dockyard.registry import fsutil

_HEX = frozenset("0123456789abcdef")
# Keep at most this many sessions' files open; the rest are reopened (rehashed) on use.
_MAX_OPEN = 256
# Start writeback every this many bytes so the final fsync has little left to do.
_WRITEBACK_EVERY = 8 << 20


class Upload:
    """One open session: its data file, the running sha256 and the offset."""

    def __init__(self, uid: str, repo: str, path: str, fd: int, hasher, offset: int):
        self.id = uid
        self.repo = repo
        self.path = path
        self.fd = fd
        self.hasher = hasher
        self.offset = offset
        self.synced = offset
        self.lock = None  # an asyncio.Lock, set by the server

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class UploadStore:
    def __init__(self, root: str, blob_path):
        self.dir = os.path.join(root, "uploads")
        self._blob_path = blob_path  # digest -> final path in the content store
        self._open: dict[str, Upload] = {}
        self._writeback = None

    def _session_dir(self, uid: str) -> str:
        if len(uid) != 32 or not _HEX.issuperset(uid):
            raise NotFound(f"upload {uid[:64]!r} not found")
        return os.path.join(self.dir, uid)

    def create(self, repo: str) -> Upload:
        import json
        import time

        uid = os.urandom(16).hex()
        d = self._session_dir(uid)
        make_dirs(self.dir)
        os.mkdir(d, 0o700)
        fd = os.open(os.path.join(d, "data"), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fsutil.write_atomic(
            os.path.join(d, "info"), json.dumps({"repo": repo, "started": time.time()}).encode()
        )
        up = Upload(uid, repo, d, fd, _digest.new_hasher("sha256"), 0)
        self._remember(up)
        return up

    def get(self, repo: str, uid: str) -> Upload:
        """The session `uid` of repository `repo`; NotFound for any other repository."""
        up = self._open.get(uid)
        if up is not None:
            if up.repo != repo:
                raise NotFound(f"upload {uid} not found")
            self._open[uid] = self._open.pop(uid)  # most recently used last
            return up
        return self._reopen(repo, uid)

    def _reopen(self, repo: str, uid: str) -> Upload:
        import json

        from dockyard.content.verify import hash_fd

        d = self._session_dir(uid)
        raw = fsutil.read_small(os.path.join(d, "info"))
        try:
            info = json.loads(raw) if raw is not None else None
        except ValueError:
            info = None
        if not isinstance(info, dict) or info.get("repo") != repo:
            raise NotFound(f"upload {uid} not found")
        try:
            fd = os.open(os.path.join(d, "data"), os.O_RDWR)
        except FileNotFoundError:
            raise NotFound(f"upload {uid} not found")
        hasher, offset = hash_fd(fd, "sha256")
        up = Upload(uid, repo, d, fd, hasher, offset)
        self._remember(up)
        return up

    def _remember(self, up: Upload) -> None:
        self._open[up.id] = up
        while len(self._open) > _MAX_OPEN:
            oldest = next(iter(self._open))
            victim = self._open[oldest]
            if victim.lock is not None and victim.lock.locked():
                break
            self._open.pop(oldest).close()

    def append(self, up: Upload, data) -> None:
        if up.fd < 0:
            raise FailedPrecondition(f"upload {up.id} is closed")
        view = memoryview(data)
        # pwrite at the offset: a failed earlier write can never shift later data.
        pos = up.offset
        while view:
            n = os.pwrite(up.fd, view, pos)
            pos += n
            view = view[n:]
        up.hasher.update(data)
        up.offset = pos
        if up.offset - up.synced >= _WRITEBACK_EVERY:
            if self._writeback is None:
                from dockyard.content.writeback import Writeback

                self._writeback = Writeback()
            self._writeback.start(up.fd, up.synced, up.offset - up.synced)
            up.synced = up.offset

    def commit(self, up: Upload, expected: str) -> str:
        """Verify the data against `expected` and publish it as a blob; the session ends.

        InvalidArgument (and the session is discarded) if the bytes hash to something else.
        """
        from dockyard.content.verify import hash_fd

        alg, _ = _digest.split(expected)
        if alg == "sha256":
            actual = "sha256:" + up.hasher.hexdigest()
        else:
            os.lseek(up.fd, 0, os.SEEK_SET)
            h, _ = hash_fd(up.fd, alg)
            actual = f"{alg}:{h.hexdigest()}"
        if actual != expected:
            self.cancel(up)
            raise InvalidArgument(f"digest mismatch: the upload hashes to {actual}")
        final = self._blob_path(expected)
        if not os.path.exists(final):
            os.fchmod(up.fd, BLOB_MODE)
            os.fsync(up.fd)
            parent = os.path.dirname(final)
            make_dirs(parent)
            os.rename(os.path.join(up.path, "data"), final)
            fsync_dir(parent)
        self.cancel(up)
        return expected

    def cancel(self, up: Upload) -> None:
        self._open.pop(up.id, None)
        up.close()
        _remove_tree(up.path)

    def purge(self, older_than: float, now: float) -> list[str]:
        """Remove sessions idle for `older_than` seconds (not open in this process)."""
        removed = []
        for uid in fsutil.listdir(self.dir):
            d = os.path.join(self.dir, uid)
            live = self._open.get(uid)
            if live is not None and live.lock is not None and live.lock.locked():
                continue
            try:
                last = max(os.stat(os.path.join(d, n)).st_mtime for n in ("info", "data"))
            except (FileNotFoundError, NotADirectoryError):
                last = _mtime(d)
            if now - last >= older_than:
                if live is not None:
                    self._open.pop(uid).close()
                _remove_tree(d)
                removed.append(uid)
        return removed

    def close(self) -> None:
        for up in self._open.values():
            up.close()
        self._open.clear()


def _mtime(path: str) -> float:
    try:
        return os.lstat(path).st_mtime
    except FileNotFoundError:
        return 0.0


def _remove_tree(path: str) -> None:
    from dockyard.rmtree import quietly

    quietly(path)
