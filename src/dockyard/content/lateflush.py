"""Late flush: records may name objects that are not on disk yet, while a mark says so.

A build (and a pull, load or import) writes its blobs and snapshots without flushing them
(see durable.py). Flushing them before its records are committed costs one syncfs of
everything it wrote — ~15 ms for a 10 MB layer here, ~60 ms for a 60 MB import, on the
path of the answer. Instead the operation marks the data root first, commits, answers,
and leaves the flush to another process (`Flusher`) that clears the mark once its syncfs
covered every write made under it.

The mark is `<root>/unflushed`: empty when clear, else "<boot id> <since ns> <seq>". It is
written durably (fdatasync) before the first unflushed write of the operation that sets
it, so on disk it precedes every object that could be torn by a power cut and every
record naming one. `since` is the wall-clock time from which writes may be torn; `seq`
counts operations marking the root (changing only `seq` needs no flush: boot id and
`since` stay the same).

A flusher may clear the mark only when every write made under it is older than its syncfs.
So an operation holds a shared lock on `<root>/unflushed.lock` from its mark until it is
done writing (`Marked`); a flusher takes that lock exclusively for a moment — failing, it
leaves the mark to the flusher of the operation still writing — and reads `seq` under it;
then syncfs; then it clears the mark only if `seq` did not move (no one marked since).

After a power cut, a mark from another boot is left: `crashed` returns its `since`, and
the store is checked (images.recovery) before anything reads it.
"""

import os

MARK = "unflushed"
WRITERS = "unflushed.lock"  # shared by the operations writing under the mark


def _boot_id() -> str:
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def _parse(text: str) -> tuple[str, int, int] | None:
    parts = text.split()
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], int(parts[1]), int(parts[2])


class _Locked:
    """The mark file, open and flock'ed (exclusive) for one read-modify-write."""

    def __init__(self, root: str):
        import fcntl

        path = os.path.join(root, MARK)
        self.created = False
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self.created = True
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def read(self) -> tuple[str, int, int] | None:
        data = os.pread(self.fd, 256, 0)
        return _parse(data.decode(errors="replace")) if data.strip() else None

    def write(self, boot: str, since: int, seq: int, durable: bool) -> None:
        data = f"{boot} {since} {seq}\n".encode()
        os.pwrite(self.fd, data, 0)
        os.ftruncate(self.fd, len(data))
        if durable:
            os.fdatasync(self.fd)

    def clear(self) -> None:
        os.ftruncate(self.fd, 0)
        os.fdatasync(self.fd)  # else a power cut soon after has the store checked again

    def close(self) -> None:
        os.close(self.fd)  # releases the lock


def mark(root: str, since: int) -> None:
    """Say that writes under `root` from wall-clock time `since` (ns) on may not be on disk;
    durable when this returns. Call it before the first write it covers."""
    m = _Locked(root)
    try:
        boot = _boot_id()
        cur = m.read()
        if cur is not None and cur[0] == boot and cur[1] <= since:
            m.write(boot, cur[1], cur[2] + 1, durable=False)
        else:
            if cur is not None and cur[0] == boot:
                since = min(since, cur[1])
            m.write(boot, since, cur[2] + 1 if cur is not None else 1, durable=True)
            if m.created:
                from dockyard.content.layout import fsync_dir

                fsync_dir(root)  # the new file's name must be on disk too
    finally:
        m.close()


def flush(root: str, paths: tuple[str, ...] = ()) -> bool:
    """Flush the filesystems of `root` and `paths`, then clear the mark unless an operation
    was still writing or marked again meanwhile (its own flusher clears it then). True
    when the mark was cleared (or already clear)."""
    import fcntl

    from dockyard.content.durable import sync_paths

    fd = os.open(os.path.join(root, WRITERS), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # someone is writing under the mark: their flusher comes later
        m = _Locked(root)
        try:
            cur = m.read()
        finally:
            m.close()
    finally:
        os.close(fd)
    if cur is None:
        return True
    sync_paths(root, *paths)
    m = _Locked(root)
    try:
        now = m.read()
        if now is None:
            return True
        if now[2] != cur[2]:
            return False  # marked again: its own flusher clears it
        m.clear()
        return True
    finally:
        m.close()


class Marked:
    """One operation's unflushed writes under `root`: the root is marked (durably) and
    the operation counted as writing until `release`, which lets its `Flusher` go.
    Create it before the first write it covers."""

    def __init__(self, root: str, paths: tuple[str, ...] = (), since: int | None = None):
        import fcntl
        import time

        self._fd = os.open(os.path.join(root, WRITERS),
                           os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)  # fmt: skip
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH)
            mark(root, time.time_ns() if since is None else since)
            self._flusher = Flusher(root, paths)
        except BaseException:
            os.close(self._fd)
            raise

    def __enter__(self) -> "Marked":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        """Done writing: the flush may begin (nobody waits for it)."""
        if self._fd >= 0:
            os.close(self._fd)  # first: the flusher must find no writer of ours
            self._fd = -1
            self._flusher.release()


class Flusher:
    """A process that runs `flush` once this one calls `release` (or ends), started ahead.

    Started when the data root is marked, it has loaded Python while the work went on, so
    its syncfs starts as soon as it is released; one started afterwards would start it ~10 ms
    later, in the middle of whatever the caller does next (a syncfs slows every file
    creation on the filesystem while it runs). Not a fork: forking a build costs it ~3 ms in
    page-table copies and copy-on-write faults. The child holds none of our descriptors
    but the read end of a pipe; it outlives us in a session of its own."""

    def __init__(self, root: str, paths: tuple[str, ...] = ()):
        import sys

        here = os.path.abspath(__file__)  # <top>/dockyard/content/lateflush.py
        top = os.path.dirname(os.path.dirname(os.path.dirname(here)))
        code = f"import sys; sys.path[:0] = [{top!r}]; from dockyard.content import lateflush; lateflush.main()"
        r, self._w = os.pipe2(os.O_CLOEXEC)
        try:
            null = os.devnull
            os.posix_spawn(
                sys.executable,
                [sys.executable, "-S", "-I", "-c", code, root, *paths],
                {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, r, 0),
                    (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0),
                ],
                setsid=True,
            )
        except BaseException:
            os.close(self._w)
            raise
        finally:
            os.close(r)

    def release(self) -> None:
        """Let it flush (it does not wait for it)."""
        if self._w >= 0:
            os.close(self._w)
            self._w = -1


def main() -> None:
    """The flusher: waits for the end of its stdin, then `flush(argv[1], argv[2:])`. A
    failure leaves the mark for the next flush (or the check after a power cut)."""
    import sys

    while os.read(0, 4096):
        pass
    try:
        flush(sys.argv[1], tuple(sys.argv[2:]))
    except Exception:
        sys.exit(1)


def crashed(root: str) -> int | None:
    """`since` of a mark left by an earlier boot (writes from then on may be torn), or None
    (no mark, or one of this boot: its flush is still under way)."""
    path = os.path.join(root, MARK)
    try:
        if os.stat(path).st_size == 0:
            return None
        with open(path) as f:
            cur = _parse(f.read(256))
    except FileNotFoundError:
        return None
    if cur is None:
        return 0  # unreadable: assume the worst, everything may be torn
    return None if cur[0] == _boot_id() else cur[1]


def clear(root: str) -> None:
    """Clear the mark (after a check of the store made it true: see images.recovery)."""
    m = _Locked(root)
    try:
        m.clear()
    finally:
        m.close()
