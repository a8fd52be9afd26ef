"""Unpacked layers on disk: `<root>/<n>/fs`, keyed by chain id in the metadata store.

A snapshot becomes visible only complete: it is filled in `<root>/<n>.tmp-<random>/fs`, synced,
renamed to `<root>/<n>` and only then recorded. `create(..., durable=False)` leaves out the
sync (a process crash loses nothing the page cache holds); the caller then flushes once with
`sync()` before anything durable refers to the snapshot (see content/durable.py). A directory
without a record (a crash between rename and record, or after the record of a removed snapshot
is gone) is garbage that GC removes.
Directory names are small numbers, not chain ids, so that an overlay mount option listing many
lower dirs stays under the page-size limit.

This module never mounts anything; callers get paths (`lowerdirs`) to mount themselves.
"""

from __future__ import annotations

import os
import time

from dockyard.errors import (
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from dockyard.metadata.lease import GcLock, gc_lock_path
from dockyard.metadata.records import SnapshotRecord
from dockyard.syncfs import syncfs
from dockyard.topdir import make_top_dir

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc costs ~1 ms of start-up; annotations are never evaluated
    from collections.abc import Callable

DIR_MODE = 0o700
FS_MODE = 0o755
_PUBLISH_TRIES = 5


class SnapshotStore:
    def __init__(self, root: str, meta) -> None:
        self.root = os.path.abspath(root)
        self.meta = meta

    @property
    def gc_lock_path(self) -> str:
        return gc_lock_path(os.path.dirname(self.root))

    def get(self, key: str) -> SnapshotRecord | None:
        return self.meta.get_snapshot(key)

    def create(
        self, key: str, parent: str, fill: Callable[[str], int], durable: bool = True
    ) -> SnapshotRecord:
        """Fill a fresh dir with `fill(dir) -> size` and record it under `key`.

        `durable=False`: no syncfs before the record; call `sync()` before an image names it.

        If `key` exists already (before or, from a concurrent creator, after filling), the
        existing record is returned and our copy removed. If `fill` raises, nothing is left.
        """
        return self._create(key, parent, fill, durable, True)

    def adopt(
        self, key: str, parent: str, src: str, size: int, durable: bool = True
    ) -> SnapshotRecord:
        """`create` for a layer already laid out in the directory `src` (on this store's
        filesystem), which becomes the snapshot's fs dir by a rename: no copy, and no empty
        dir made only to be replaced (a deletion costs a discard on this machine's disk).

        If `key` exists already, its record is returned and `src` is left where it is;
        OSError (EXDEV) if `src` is on another filesystem, also leaving it in place.
        """

        def move(fs: str) -> int:
            os.rename(src, fs)
            return size

        return self._create(key, parent, move, durable, False)

    def _create(self, key: str, parent: str, fill, durable: bool, make_fs: bool):
        if not key:
            raise InvalidArgument("a snapshot key must not be empty")
        existing = self.meta.get_snapshot(key)
        if existing is not None:
            return existing
        if parent and self.meta.get_snapshot(parent) is None:
            raise NotFound(f"No such snapshot: {parent}")
        # Shared: any number of creators at once, but never while a GC sweeps.
        with GcLock(self.gc_lock_path, exclusive=False):
            self._ensure_root()
            tmp = self._make_tmp(self.meta.next_snapshot_number(), make_fs)
            try:
                size = fill(os.path.join(tmp, "fs"))
                if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                    raise InvalidArgument(f"snapshot {key}: fill returned {size!r}, not a size")
                if durable:
                    syncfs(tmp)
                final = self._publish(tmp, durable)
            except BaseException:
                _remove_tree(tmp)
                raise
            try:
                return self._record(key, parent, final, size)
            except BaseException:
                _remove_tree(final)
                raise

    def sync(self) -> None:
        """Flush snapshots created with `durable=False` (one syncfs of the store's filesystem)."""
        if os.path.isdir(self.root):
            syncfs(self.root)

    def lowerdirs(self, key: str) -> list[str]:
        """The fs dirs of the snapshot and its ancestors, top-most first (overlay's order)."""
        return [rec.dir for rec in self.meta.snapshot_chain(key)]

    def remove(self, key: str) -> None:
        """Remove the record, then the directory. Conflict while another snapshot builds on it."""
        with self.meta.transaction():
            rec = self.meta.get_snapshot(key)
            if rec is None:
                raise NotFound(f"No such snapshot: {key}")
            children = self.meta.snapshot_children(key)
            if children:
                raise Conflict(f"snapshot {key} has {len(children)} child snapshot(s)")
            top = self._own_dir(rec.dir)
            if top:
                _refuse_mounted(top)  # before the record goes: a busy snapshot stays whole
            self.meta.delete_snapshot(key)
        if top:
            _remove_tree(top)

    def refill(self, key: str, fill: Callable[[str], int]) -> None:
        """Replace the files of snapshot `key` with `fill(dir)`'s, at the same path (the
        lower dirs of containers stay valid); flushed before the old files go. A crash in
        between leaves the fs dir missing or old, never mixed: refill it again."""
        rec = self.meta.get_snapshot(key)
        top = self._own_dir(rec.dir) if rec is not None else ""
        if not top:
            raise NotFound(f"No such snapshot: {key}")
        tmp = self._make_tmp(int(os.path.basename(top)))
        try:
            fill(os.path.join(tmp, "fs"))
            syncfs(tmp)
            try:
                os.rename(rec.dir, os.path.join(tmp, "old"))
            except FileNotFoundError:
                pass  # an earlier refill stopped between its two renames
            if not os.path.isdir(top):
                os.mkdir(top, DIR_MODE)
            os.rename(os.path.join(tmp, "fs"), rec.dir)
            _fsync_dir(top)
        finally:
            _remove_tree(tmp)

    # -- for the garbage collector -------------------------------------------------------

    def unreferenced_dirs(self, older_than: float) -> list[str]:
        """Our directories under root that no record names, last changed before `older_than`
        seconds ago (a younger one may belong to a creator between rename and record)."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        recorded = {self._own_dir(rec.dir) for rec in self.meta.list_snapshots()}
        cutoff = time.time() - older_than
        out = []
        for name in sorted(names):
            path = os.path.join(self.root, name)
            if not _is_our_name(name) or path in recorded:
                continue
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            if _is_dir(st.st_mode) and st.st_mtime < cutoff:
                out.append(path)
        return out

    def remove_dir(self, path: str) -> None:
        """Remove one of our unrecorded directories (as listed by `unreferenced_dirs`)."""
        if os.path.dirname(path) != self.root or not _is_our_name(os.path.basename(path)):
            raise InvalidArgument(f"{path} is not a snapshot directory of {self.root}")
        _remove_tree(path)

    # -- steps -------------------------------------------------------------------------

    def _ensure_root(self) -> None:
        if not os.path.isdir(self.root):
            make_top_dir(self.root, DIR_MODE)

    def _make_tmp(self, number: int, make_fs: bool = True) -> str:
        tmp = os.path.join(self.root, f"{number}.tmp-{os.urandom(6).hex()}")
        os.mkdir(tmp, DIR_MODE)
        os.chmod(tmp, DIR_MODE)  # mkdir's mode is filtered by the umask
        if not make_fs:
            return tmp
        fs = os.path.join(tmp, "fs")
        os.mkdir(fs, FS_MODE)
        os.chmod(fs, FS_MODE)
        return tmp

    def _publish(self, tmp: str, durable: bool = True) -> str:
        """Rename tmp to `<root>/<n>`; a leftover dir holding a number (from a lost database)
        makes us take the next number rather than fail."""
        number = int(os.path.basename(tmp).partition(".")[0])
        for _ in range(_PUBLISH_TRIES):
            final = os.path.join(self.root, str(number))
            try:
                os.rename(tmp, final)
            except OSError as e:
                import errno

                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR):
                    raise
                number = self.meta.next_snapshot_number()
                continue
            if durable:
                _fsync_dir(self.root)
            return final
        raise FailedPrecondition(f"cannot find a free snapshot directory under {self.root}")

    def _record(self, key: str, parent: str, final: str, size: int) -> SnapshotRecord:
        rec = SnapshotRecord(key, parent, os.path.join(final, "fs"), size, time.time())
        with self.meta.transaction():
            theirs = self.meta.get_snapshot(key)
            if theirs is None:
                if parent and self.meta.get_snapshot(parent) is None:
                    raise NotFound(f"No such snapshot: {parent}")
                self.meta.put_snapshot(rec)
        if theirs is not None:
            # Another process made the same snapshot first; theirs is as good as ours.
            _remove_tree(final)
            return theirs
        return rec

    def _own_dir(self, fs_dir: str) -> str:
        """`<root>/<n>` for a recorded `<root>/<n>/fs`, or "" if the record points elsewhere
        (a database edited by hand must not make us delete outside our root)."""
        top = os.path.dirname(fs_dir)
        if os.path.basename(fs_dir) == "fs" and os.path.dirname(top) == self.root:
            return top
        return ""


def _is_our_name(name: str) -> bool:
    number, dot, rest = name.partition(".")
    if not number.isdigit() or not number.isascii():
        return False
    return not dot or rest.startswith("tmp-")


def _is_dir(mode: int) -> bool:
    import stat

    return stat.S_ISDIR(mode)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mounts() -> list[tuple[str, str]]:
    """(mount point, super options) of every mount this process can see."""
    with open("/proc/self/mountinfo", "rb") as f:
        data = f.read().decode("utf-8", "surrogateescape")
    out = []
    for line in data.splitlines():
        fields = line.split(" ", 5)
        if len(fields) < 6:
            continue
        # mountinfo escapes space, tab, newline and backslash as \ooo, so " - " is the
        # separator; after it come the fs type, the source and the super options.
        point = _unescape_octal(fields[4]) if "\\" in fields[4] else fields[4]
        tail = fields[5].partition(" - ")[2].split(" ")
        out.append((point, tail[2] if len(tail) > 2 else ""))
    return out


def _unescape_octal(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        digits = s[i + 1 : i + 4]
        if s[i] == "\\" and len(digits) == 3 and all(c in "01234567" for c in digits):
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def _refuse_mounted(path: str) -> None:
    """Deleting a tree with a mount inside would delete through the mount, and deleting a
    layer an overlay stacks would pull it from under a running container."""
    real = os.path.realpath(path)
    inside = real + "/"
    for point, options in _mounts():
        if point == real or point.startswith(inside):
            raise FailedPrecondition(f"{path} is in use: {point} is mounted there")
        if inside in options:
            raise FailedPrecondition(f"{path} is in use by the mount at {point}")


def _remove_tree(path: str) -> None:
    from dockyard.rmtree import remove_tree

    _refuse_mounted(path)
    remove_tree(path)  # on directory fds, never following a symlink inside the tree
