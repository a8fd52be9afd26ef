"""Compressing the json-file log's rotated files (`--log-opt compress=true`), off the pump.

As Docker's loggerutils: after a rotation the file that became `<log>.1` is gzipped to
`<log>.1.gz` in the background and the next rotation waits until that is done; the current
file stays plain. The gzip header carries Docker's extra field, the JSON
`{"lastTime":"<RFC 3339>"}` (the time of the file's last entry, so `logs --since` can skip an
older file unread), with one more key, `"ino"`: the inode of the plain file it replaces, so
a `logs -f` that held that file finds where its lines went (Docker's reader ignores it).

The supervisor stays single-threaded and small, so the work runs in a fresh interpreter
started with posix_spawn (no copy of the supervisor), which inherits the rotation lock
(`runtime.jsonlog`: an flock on `log-config`) held shared: readers are not held up, the
next rotation (exclusive) waits for it, even when a dead supervisor left it running. Each
plain rotated file is written to `.N.gz.tmp`, fsynced, renamed to `.N.gz`, and only then is
`.N` removed, so a reader that looks for `.N` first and `.N.gz` next always finds one whole
copy and never reads a `.tmp`.

    python -S -m dockyard.runtime.logcompress LOG_PATH MAX_FILES LOCK_FD
"""

import os
import sys

_CHUNK = 1 << 20
_TAIL = 256 * 1024  # the last entry is in there: a log line is at most ~100 KiB escaped
FEXTRA = 4


def spawn(path: str, max_files: int, lock_fd: int) -> int:
    """Start the compressor for the rotated files of `path`; its pid. `lock_fd` (or -1) is
    inherited: it holds the rotation lock until it exits."""
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": src}
    null = [(os.POSIX_SPAWN_OPEN, fd, "/dev/null", os.O_RDWR, 0) for fd in (0, 1, 2)]
    if lock_fd >= 0:
        os.set_inheritable(lock_fd, True)
    try:
        return os.posix_spawn(
            sys.executable,
            [sys.executable, "-S", "-m", "dockyard.runtime.logcompress", path,
             str(max_files), str(lock_fd)],
            env, file_actions=null,
        )  # fmt: skip
    finally:
        if lock_fd >= 0:
            os.set_inheritable(lock_fd, False)


def compress_rotated(path: str, max_files: int) -> None:
    """Gzip every plain rotated file of the log (`.1` after a rotation; more when an earlier
    compressor was killed), and drop the partial `.gz.tmp` files such a one left."""
    for i in range(1, max(max_files, 2)):
        name = f"{path}.{i}"
        if os.path.exists(name):
            compress_file(name)
        else:
            _unlink(name + ".gz.tmp")


def compress_file(name: str) -> None:
    """`name` -> `name.gz` (through `name.gz.tmp`), then `name` removed."""
    try:
        src = os.open(name, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    tmp = name + ".gz.tmp"
    try:
        st = os.fstat(src)
        extra = _extra(_last_time(src, st.st_size), st.st_ino)
        dst = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640)
        try:
            write_gzip(src, dst, extra)
            os.fsync(dst)
        except BaseException:
            os.close(dst)
            _unlink(tmp)
            raise
        os.close(dst)
        os.rename(tmp, name + ".gz")
        _unlink(name)
    finally:
        os.close(src)


def write_gzip(src: int, dst: int, extra: bytes) -> None:
    """One gzip member of `src`'s bytes with `extra` as its FEXTRA field, laid out as Go's
    gzip writer does (no mtime, XFL 0, OS 255), deflated at Go's default level (6)."""
    import zlib

    head = b"\x1f\x8b\x08" + bytes([FEXTRA]) + b"\0\0\0\0\0\xff"
    head += len(extra).to_bytes(2, "little") + extra
    _write_all(dst, head)
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    crc = 0
    size = 0
    while True:
        chunk = os.read(src, _CHUNK)
        if not chunk:
            break
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        out = z.compress(chunk)
        if out:
            _write_all(dst, out)
    trailer = crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    _write_all(dst, z.flush() + trailer)


def header_meta(fd: int) -> "tuple[int | None, int | None]":
    """(last entry time in unix ns, inode of the plain file it replaced) from a compressed
    file's header; None for what it does not say. Reads from offset 0 with pread."""
    head = os.pread(fd, 12, 0)
    if len(head) < 12 or head[:3] != b"\x1f\x8b\x08" or not head[3] & FEXTRA:
        return None, None
    n = int.from_bytes(head[10:12], "little")
    try:
        import json

        doc = json.loads(os.pread(fd, n, 12))
    except ValueError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    last = None
    if isinstance(doc.get("lastTime"), str):
        from dockyard.runtime.jsonlog import parse_rfc3339

        try:
            last = parse_rfc3339(doc["lastTime"])
        except ValueError:
            last = None
    ino = doc.get("ino")
    return last, ino if isinstance(ino, int) else None


def _extra(last_ns: "int | None", ino: int) -> bytes:
    parts = []
    if last_ns is not None:
        from dockyard.runtime.jsonlog import rfc3339nano

        parts.append(f'"lastTime":"{rfc3339nano(last_ns)}"')
    parts.append(f'"ino":{ino}')
    return ("{" + ",".join(parts) + "}").encode()


def _last_time(fd: int, size: int) -> "int | None":
    """The time of the file's last whole entry."""
    start = max(0, size - _TAIL)
    data = os.pread(fd, size - start, start)
    end = data.rfind(b"\n")
    if end < 0:
        return None
    line = data[data.rfind(b"\n", 0, end) + 1 : end]
    from dockyard.runtime.logread import parse_line

    e = parse_line(line)
    return e.time_ns if e is not None else None


def _unlink(name: str) -> None:
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def main(argv: list[str]) -> int:
    path, max_files, lock = argv[0], int(argv[1]), int(argv[2])
    # hold nothing of the supervisor's but the lock (a client's pipe would wait on us)
    if lock >= 0:
        os.closerange(3, lock)
        os.closerange(lock + 1, 65536)
    else:
        os.closerange(3, 65536)
    try:
        compress_rotated(path, max_files)
    except OSError:
        return 1  # the plain file stays: readers use it, the next rotation tries again
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
