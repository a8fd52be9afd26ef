"""Compression of layer blobs: sniff the format, open decompressing readers and compressing writers.

gzip goes through isal (much faster than zlib), zstd through zstandard, bzip2 and xz through the
stdlib. Readers work on non-seekable input (pipes, HTTP bodies): the sniffed bytes are replayed.
"""

from typing import BinaryIO

from dockyard.errors import InvalidArgument, Unsupported

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
SNIFF_SIZE = 6
BUFFER_SIZE = 1 << 20


def detect(prefix: bytes) -> str:
    """Return "gzip", "zstd", "bzip2", "xz" or "" (uncompressed) from the first bytes of a stream."""
    for magic, name in _MAGIC:
        if prefix.startswith(magic):
            return name
    return ""


class Replay:
    """A read-only stream that returns `prefix` first, then the rest of `f` (no seeking needed)."""

    def __init__(self, prefix: bytes, f: BinaryIO):
        self._prefix = prefix
        self._f = f

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            if n is None or n < 0:
                data, self._prefix = self._prefix + self._f.read(), b""
                return data
            data, self._prefix = self._prefix[:n], self._prefix[n:]
            if len(data) < n:
                data += self._f.read(n - len(data)) or b""
            return data
        return self._f.read(n)

    def readinto(self, b) -> int:
        if self._prefix:
            n = min(len(b), len(self._prefix))
            b[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        readinto = getattr(self._f, "readinto", None)
        if readinto is not None:
            return readinto(b) or 0
        data = self._f.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        pass

    @property
    def closed(self) -> bool:
        return False


def sniff(f: BinaryIO) -> tuple[bytes, BinaryIO]:
    """(the first SNIFF_SIZE bytes of `f`, a stream that still yields every byte of `f`).

    Fewer bytes only when `f` is shorter. A stream that can `peek` is returned as it is;
    anything else (a pipe) is wrapped in a `Replay` of the bytes read.
    """
    peek = getattr(f, "peek", None)
    if peek is not None:
        head = peek(SNIFF_SIZE)
        if len(head) >= SNIFF_SIZE:
            return bytes(head[:SNIFF_SIZE]), f
    head = b""
    while len(head) < SNIFF_SIZE:
        chunk = f.read(SNIFF_SIZE - len(head))
        if not chunk:
            break
        head += chunk
    return head, Replay(head, f)  # type: ignore[return-value]


class _Decoded:
    """A decompressing stream whose format errors become InvalidArgument (one line, no
    traceback); I/O errors of the underlying file (they carry an errno) pass through."""

    def __init__(self, stream, kind: str, errors: tuple[type[BaseException], ...]):
        self._s = stream
        self._kind = kind
        self._errors = errors

    def _corrupt(self, err: BaseException) -> Exception:
        if isinstance(err, OSError) and err.errno is not None:
            return err
        detail = str(err) or type(err).__name__
        return InvalidArgument(f"corrupt {self._kind} stream: {detail}")

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            return self._s.read(n)
        except self._errors as err:
            raise self._corrupt(err)

    def readinto(self, b) -> int:
        try:
            return self._s.readinto(b)
        except self._errors as err:
            raise self._corrupt(err)

    def close(self) -> None:
        self._s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_reader(f: BinaryIO) -> BinaryIO:
    """Sniff `f` and return a stream of its decompressed bytes (plain input passes through).

    Corrupt or truncated compressed data raises InvalidArgument when it is read.
    """
    head, src = sniff(f)
    kind = detect(head)
    if kind == "gzip":
        from isal import igzip, isal_zlib

        stream = igzip.GzipFile(fileobj=src, mode="rb")
        errors = (OSError, EOFError, isal_zlib.error)
    elif kind == "zstd":
        import zstandard

        dctx = zstandard.ZstdDecompressor()
        stream = dctx.stream_reader(src, read_size=BUFFER_SIZE, read_across_frames=True)
        errors = (zstandard.ZstdError, EOFError)
    elif kind == "bzip2":
        import bz2

        stream = bz2.BZ2File(src, "rb")
        errors = (OSError, EOFError)
    elif kind == "xz":
        import lzma

        stream = lzma.LZMAFile(src, "rb")  # noqa: SIM115 (returned to the caller)
        errors = (lzma.LZMAError, EOFError)
    else:
        return src
    return _Decoded(stream, kind, errors)  # type: ignore[return-value]


class _Passthrough:
    """An uncompressed writer whose close() flushes but leaves the underlying file open."""

    def __init__(self, f: BinaryIO):
        self._f = f
        self.closed = False

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self._f.write(data)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if not self.closed:
            self._f.flush()
            self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_writer(f: BinaryIO, compression: str, level: int | None = None) -> BinaryIO:
    """Return a writer compressing into `f`; its close() ends the stream but does not close `f`.

    `compression` is "gzip" (isal, default level 1), "zstd" (default level 3) or "" (none).
    The gzip header carries no name and mtime 0, so equal input gives equal bytes.
    """
    if compression == "gzip":
        from isal import igzip

        lvl = 1 if level is None else level
        return igzip.GzipFile(filename="", mode="wb", compresslevel=lvl, fileobj=f, mtime=0)  # type: ignore[return-value]
    if compression == "zstd":
        import zstandard

        cctx = zstandard.ZstdCompressor(level=3 if level is None else level, write_checksum=True)
        return cctx.stream_writer(f, closefd=False)  # type: ignore[return-value]
    if compression == "":
        return _Passthrough(f)  # type: ignore[return-value]
    raise Unsupported(f"unsupported compression {compression!r} (want gzip, zstd or none)")
