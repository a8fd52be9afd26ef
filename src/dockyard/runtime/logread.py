"""Reading a json-file log for `logs`: the rotated files oldest first (plain `<log>.N`, or
compressed `<log>.N.gz` with `--log-opt compress=true`), then the live file, and with
`follow` what is appended next, across rotations.

The files are opened as one consistent set: while it opens them a reader holds the rotation
lock (an flock on `log-config`, see `runtime.jsonlog`) shared, as Docker's readers hold its
fsopMu, so a rotation never shifts the names under it. A rotated file is read plain when
`.N` is there, else from `.N.gz`: the compressor removes `.N` only after `.N.gz` is whole,
so a compression in progress is never seen half done (`.gz.tmp` is never read). `--tail`
reads from the newest file back only as far as it needs; `--since` skips a compressed file
whose header says its last entry is older.
"""

import os
import time

_CHUNK = 1 << 20


class Entry:
    __slots__ = ("data", "stream", "time_ns")

    def __init__(self, stream: str, data: bytes, time_ns: int):
        self.stream = stream
        self.data = data
        self.time_ns = time_ns


def parse_line(line: bytes) -> "Entry | None":
    import json

    from dockyard.runtime.jsonlog import parse_rfc3339

    try:
        doc = json.loads(line)
        return Entry(doc["stream"], doc["log"].encode(), parse_rfc3339(doc["time"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # a torn last line while the writer is mid-append


def _parse(data: bytes) -> list[Entry]:
    return [e for e in map(parse_line, data.splitlines()) if e is not None]


def read(path: str, offset: int = 0) -> tuple[list[Entry], int]:
    """Whole lines of a plain file from `offset` on, and the offset after the last one."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return _parse(data[:end]), offset + end


def rotated(path: str) -> list[str]:
    """The rotated files of a log that exist, oldest first (`.N` ... `.1`, each plain or
    `.gz`)."""
    out = []
    i = 1
    while True:
        name = f"{path}.{i}"
        if not os.path.exists(name):
            name += ".gz"
            if not os.path.exists(name):
                break
        out.append(name)
        i += 1
    return out[::-1]


class Part:
    """One rotated file, open: plain, or compressed (`gz`). `ino` names the plain file it
    is or replaced; `last_ns`: its last entry's time when the gzip header says so."""

    __slots__ = ("fd", "gz", "ino", "last_ns")

    def __init__(self, fd: int, gz: bool, ino, last_ns=None):
        self.fd = fd
        self.gz = gz
        self.ino = ino
        self.last_ns = last_ns

    @classmethod
    def open(cls, name: str) -> "Part | None":
        try:
            fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC)
            return cls(fd, False, os.fstat(fd).st_ino)
        except FileNotFoundError:
            pass
        try:
            fd = os.open(name + ".gz", os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        from dockyard.runtime.logcompress import header_meta

        last, ino = header_meta(fd)
        return cls(fd, True, ino, last)

    def entries(self) -> list[Entry]:
        data = _inflate(self.fd) if self.gz else _read_all(self.fd)
        return _parse(data[: data.rfind(b"\n") + 1])

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _read_all(fd: int) -> bytes:
    chunks = []
    off = 0
    while True:
        b = os.pread(fd, _CHUNK, off)
        if not b:
            return b"".join(chunks)
        chunks.append(b)
        off += len(b)


def _inflate(fd: int) -> bytes:
    """A compressed rotated file's bytes (what a damaged one holds before the damage)."""
    import zlib

    z = zlib.decompressobj(31)
    out = []
    off = 0
    try:
        while not z.eof:
            b = os.pread(fd, _CHUNK, off)
            if not b:
                break
            off += len(b)
            out.append(z.decompress(b))
    except zlib.error:
        pass
    return b"".join(out)


def _locked_shared(path: str) -> int:
    """The rotation lock held shared (-1: the log has none: it never rotates to files)."""
    import fcntl

    try:
        fd = os.open(os.path.join(os.path.dirname(path), "log-config"), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return -1
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def open_set(path: str) -> "tuple[list[Part], int]":
    """The rotated files (oldest first) and the live file (fd, -1 when there is none yet),
    opened while no rotation can run."""
    lock = _locked_shared(path)
    try:
        parts = []
        i = 1
        while (p := Part.open(f"{path}.{i}")) is not None:
            parts.append(p)
            i += 1
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = -1
        return parts[::-1], fd
    finally:
        if lock >= 0:
            os.close(lock)


class Follower:
    """Reads a json-file log and its rotated files in order, then the lines appended since,
    across rotations (the file it holds open is renamed away, maybe compressed: it reads
    that to its end, then the files written after it, then the new live one)."""

    def __init__(self, path: str):
        self.path = path
        self.fd = -1
        self.ino = None
        self.rest = b""

    def initial(self, tail: "int | None" = None, since_ns: "int | None" = None) -> list[Entry]:
        """Everything there is, or the last `tail` entries; compressed files older than
        `since_ns` are skipped unread."""
        parts, fd = open_set(self.path)
        try:
            self._hold(fd)
            current = self._drain()
            if tail is not None and tail >= 0:
                return _last(parts, current, tail)
            entries: list[Entry] = []
            for p in parts:
                if not (since_ns and p.last_ns is not None and p.last_ns < since_ns):
                    entries.extend(p.entries())
            entries.extend(current)
            return entries
        finally:
            for p in parts:
                p.close()

    def _hold(self, fd: int) -> None:
        self.fd = fd
        self.ino = os.fstat(fd).st_ino if fd >= 0 else None
        self.rest = b""

    def _drain(self) -> list[Entry]:
        if self.fd < 0:
            return []
        chunks = [self.rest]
        while True:
            b = os.read(self.fd, _CHUNK)
            if not b:
                break
            chunks.append(b)
        data = b"".join(chunks)
        end = data.rfind(b"\n") + 1
        self.rest = data[end:]
        return _parse(data[:end])

    def more(self) -> list[Entry]:
        """What was appended since the last call."""
        entries = self._drain()
        try:
            ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            return entries  # mid-rotation: the next look finds the new file
        if ino != self.ino:  # rotated: on to the files written after ours, then the new one
            parts, fd = open_set(self.path)  # (after the rotation: ours is complete now)
            try:
                entries.extend(self._drain())  # what came between our last read and it
                if self.fd >= 0:
                    os.close(self.fd)
                for p in self._newer(parts):
                    entries.extend(p.entries())
            finally:
                for p in parts:
                    p.close()
            self._hold(fd)
            entries.extend(self._drain())
        elif self.fd >= 0 and os.fstat(self.fd).st_size < os.lseek(self.fd, 0, os.SEEK_CUR):
            os.lseek(self.fd, 0, os.SEEK_SET)  # max-file=1: truncated in place
            self.rest = b""
            entries.extend(self._drain())
        return entries

    def _newer(self, parts: list[Part]) -> list[Part]:
        """The rotated files written after the one we held (it rotated more than once since
        the last look), oldest first; all of them when ours was rotated away (what went with
        it is lost, as with Docker). Newest first: an older compressed file may name a
        plain file long gone whose inode number ours reuses, but none newer can, as we
        hold ours open."""
        for i in range(len(parts) - 1, -1, -1):
            if parts[i].ino == self.ino and self.ino is not None:
                return parts[i + 1 :]
        return parts

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _last(parts: list[Part], current: list[Entry], n: int) -> list[Entry]:
    """The last `n` entries, reading files from the newest back only as far as needed."""
    if n == 0:
        return []
    chunks = [current]
    have = len(current)
    for p in reversed(parts):
        if have >= n:
            break
        es = p.entries()
        chunks.append(es)
        have += len(es)
    out = [e for es in reversed(chunks) for e in es]
    return out[len(out) - n :] if len(out) > n else out


def stream(path: str, is_live, follow: bool = False, tail: "int | None" = None,
           since: "float | None" = None, until: "float | None" = None,
           timestamps: bool = False):  # fmt: skip
    """Yield (stream, bytes) for `logs`: the rotated files and the log, `tail` last entries,
    between `since` and `until` (unix seconds); with `follow`, what comes next until
    `is_live()` turns False."""
    from dockyard.runtime.jsonlog import rfc3339nano

    lo = int(since * 1e9) if since else None
    hi = int(until * 1e9) if until else None

    def emit(es):
        for e in es:
            if lo is not None and e.time_ns < lo:
                continue
            if hi is not None and e.time_ns > hi:
                continue
            data = e.data
            if timestamps:
                data = rfc3339nano(e.time_ns).encode() + b" " + data
            yield e.stream, data

    f = Follower(path)
    try:
        yield from emit(f.initial(tail, lo))
        while follow:
            live = is_live()
            yield from emit(f.more())
            if not live:
                yield from emit(f.more())
                return
            time.sleep(0.05)
    finally:
        f.close()
