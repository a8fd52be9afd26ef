"""Ingest directories: the lock, the record and the removal of one partial write, and the sweep.

An ingest directory `<root>/ingest/<sha256(ref)>/` holds `data` (the bytes so far), `record`
(what the writer declared: ref, expected digest and size, start time) and `lock`, on which a
live writer holds an exclusive flock. The kernel drops the lock when its holder dies, so a
directory whose lock can be taken has no live writer.
"""

import os

from dockyard.content.layout import DATA, FILE_MODE, LOCK, RECORD, make_dirs
from dockyard.errors import Unavailable

_LOCK_ATTEMPTS = 50
# Waits between tries of a held lock: a live writer holds it for long, a sweep for an instant.
_LOCK_PAUSES = (0.001, 0.004, 0.015, None)


def lock(path: str, ref: str) -> int:
    """Create the ingest dir `path` if needed and lock it; return the lock fd.

    Unavailable when another writer holds it. A previous holder may remove the directory
    between our open and our flock; we then hold a lock on an unlinked file and start over.
    """
    lock_path = os.path.join(path, LOCK)
    top = os.path.dirname(path)
    if not os.path.isdir(top):
        from dockyard.topdir import make_top_dir

        # each ingest dir (and the blob file made in it) lands away from freed inodes
        make_dirs(os.path.dirname(top))
        make_top_dir(top, 0o700)
    for _ in range(_LOCK_ATTEMPTS):
        try:
            make_dirs(path)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        except FileNotFoundError:
            continue  # a sweep removed the directory as we made it
        if not _flock_briefly(fd):
            os.close(fd)
            raise Unavailable(f"ref {ref} is locked by another writer")
        if _is_current(fd, lock_path):
            return fd
        os.close(fd)
    raise Unavailable(f"ref {ref} is locked: its ingest directory keeps being replaced")


def _flock_briefly(fd: int) -> bool:
    """Take the lock, allowing a few ms for a sweep that holds it only while removing."""
    import fcntl
    import time

    for pause in _LOCK_PAUSES:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if pause is None:
                return False
            time.sleep(pause)
    return False


def _is_current(fd: int, lock_path: str) -> bool:
    try:
        st = os.stat(lock_path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (held.st_dev, held.st_ino)


def try_lock_existing(path: str) -> int | None:
    """Lock an existing ingest dir (never recreating it); None if a live writer holds it.

    The lock file is created if missing, by the same protocol as writers use, so a writer
    that is just setting the directory up cannot have its lock file removed under it.
    """
    import fcntl

    lock_path = os.path.join(path, LOCK)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if not _is_current(fd, lock_path):
        os.close(fd)
        return None
    return fd


def read_record(path: str) -> dict | None:
    """The writer's declaration, or None when missing or unreadable (then the ingest restarts)."""
    from dockyard import fastjson  # the `json` package costs ~4 ms (re, enum) per write

    try:
        with open(os.path.join(path, RECORD), "rb") as f:
            rec = fastjson.loads(f.read(64 * 1024))
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) else None


def write_record(path: str, ref: str, expected: str | None, size: int | None) -> None:
    import time

    from dockyard import fastjson

    body = fastjson.dumps({"ref": ref, "expected": expected, "size": size, "started": time.time()})
    tmp = os.path.join(path, RECORD + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        os.write(fd, body.encode())
    finally:
        os.close(fd)
    os.rename(tmp, os.path.join(path, RECORD))


def remove(path: str) -> None:
    """Remove an ingest dir whose lock the caller holds; the lock file goes last.

    Removing the lock last means anyone who opens it before then finds it held or unlinked.
    A new writer may already have recreated entries by the time we rmdir: that is its dir now.
    """
    for name in (DATA, RECORD, RECORD + ".tmp", LOCK):
        try:
            os.unlink(os.path.join(path, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _last_activity(path: str) -> float:
    latest = os.stat(path).st_mtime
    for name in (DATA, RECORD):
        try:
            latest = max(latest, os.stat(os.path.join(path, name)).st_mtime)
        except FileNotFoundError:
            pass
    return latest


def sweep(ingest_root: str, older_than: float, now: float) -> int:
    """Remove ingests idle for at least `older_than` seconds and not held by a live writer."""
    try:
        entries = list(os.scandir(ingest_root))
    except FileNotFoundError:
        return 0
    removed = 0
    for entry in entries:
        if len(entry.name) != 64 or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if now - _last_activity(entry.path) < older_than:
                continue
        except FileNotFoundError:
            continue
        fd = try_lock_existing(entry.path)
        if fd is None:
            continue
        try:
            remove(entry.path)
            removed += 1
        finally:
            os.close(fd)
    return removed
