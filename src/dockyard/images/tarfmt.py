"""A small streaming tar reader and writer for image archives (save/load).

The reader walks a (possibly non-seekable, possibly hostile) tar stream member by member
without buffering whole members, so a 1 GiB layer flows straight into the content store.
The writer emits deterministic ustar entries (fixed owner, mode, mtime) and copies file
bodies with `os.sendfile` when the output is a real file.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from dockyard.errors import InvalidArgument, LimitExceeded

BLOCK = 512
CHUNK = 1 << 20
MAX_META = 1 << 20  # PAX / GNU long-name records larger than this are refused

REGULAR = "0"
HARDLINK = "1"
SYMLINK = "2"
DIRECTORY = "5"


@dataclass
class Member:
    name: str
    type: str  # "0" regular, "1" hardlink, "2" symlink, "5" directory, other: ignored kinds
    size: int
    linkname: str = ""


def _octal(field: bytes, what: str) -> int:
    if field and field[0] & 0x80:
        # GNU base-256 for sizes beyond 8 GiB
        value = int.from_bytes(field[1:], "big")
        return value
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise InvalidArgument(f"archive: bad {what} field in tar header")


def _cstr(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _parse_pax(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        sp = data.find(b" ", pos)
        if sp < 0:
            raise InvalidArgument("archive: bad PAX header")
        try:
            length = int(data[pos:sp])
        except ValueError:
            raise InvalidArgument("archive: bad PAX header")
        if length <= 0 or pos + length > len(data):
            raise InvalidArgument("archive: bad PAX header")
        record = data[sp + 1 : pos + length - 1]
        key, eq, value = record.partition(b"=")
        if eq:
            out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


class TarReader:
    """Iterate members of a tar stream; call `read_into`/`skip` for each regular member."""

    def __init__(self, src: BinaryIO, max_members: int = 1_000_000):
        self._src = src
        self._remaining = 0  # body bytes of the current member not consumed yet
        self._padding = 0
        self._max_members = max_members

    def _read_exact(self, n: int) -> bytes:
        buf = self._src.read(n)
        if buf is None:
            buf = b""
        if len(buf) == n:
            return buf
        parts = [buf]
        got = len(buf)
        while got < n:
            more = self._src.read(n - got)
            if not more:
                raise InvalidArgument("archive: unexpected end of tar stream")
            parts.append(more)
            got += len(more)
        return b"".join(parts)

    def _skip_bytes(self, n: int) -> None:
        while n > 0:
            got = self._src.read(min(n, CHUNK))
            if not got:
                raise InvalidArgument("archive: unexpected end of tar stream")
            n -= len(got)

    def _finish_member(self) -> None:
        self._skip_bytes(self._remaining + self._padding)
        self._remaining = self._padding = 0

    def read_chunks(self) -> Iterator[bytes]:
        """The body of the current member in chunks of up to 1 MiB."""
        while self._remaining > 0:
            chunk = self._src.read(min(self._remaining, CHUNK))
            if not chunk:
                raise InvalidArgument("archive: unexpected end of tar stream")
            self._remaining -= len(chunk)
            yield chunk

    def read_all(self, limit: int) -> bytes:
        if self._remaining > limit:
            raise LimitExceeded(f"archive: member larger than {limit} bytes")
        return b"".join(self.read_chunks())

    def _meta_body(self, size: int) -> bytes:
        if size > MAX_META:
            raise LimitExceeded("archive: tar extended header too large")
        data = self._read_exact(size)
        self._skip_bytes(-size % BLOCK)
        return data

    def __iter__(self) -> Iterator[Member]:
        count = 0
        pax: dict[str, str] = {}
        long_name = long_link = None
        while True:
            self._finish_member()
            header = self._src.read(BLOCK)
            if header is not None and 0 < len(header) < BLOCK:
                header += self._read_exact(BLOCK - len(header))
            if not header or header == b"\0" * BLOCK:
                return  # end-of-archive marker (or a truncated-but-clean end)
            stored = _octal(header[148:156], "checksum")
            computed = sum(header[:148]) + 256 + sum(header[156:])
            if stored != computed:
                raise InvalidArgument("archive: tar header checksum mismatch (not a tar stream?)")
            typ = chr(header[156]) if header[156] else REGULAR
            size = _octal(header[124:136], "size")
            if typ in ("x", "g"):
                body = self._meta_body(size)
                if typ == "x":
                    pax.update(_parse_pax(body))
                continue
            if typ in ("L", "K"):
                body = self._meta_body(size).rstrip(b"\0").decode("utf-8", "surrogateescape")
                if typ == "L":
                    long_name = body
                else:
                    long_link = body
                continue
            count += 1
            if count > self._max_members:
                raise LimitExceeded("archive: too many entries")
            name = _cstr(header[0:100])
            if header[257:262] == b"ustar":
                prefix = _cstr(header[345:500])
                if prefix:
                    name = prefix + "/" + name
            linkname = _cstr(header[157:257])
            name = pax.get("path", long_name or name)
            linkname = pax.get("linkpath", long_link or linkname)
            if "size" in pax:
                try:
                    size = int(pax["size"])
                except ValueError:
                    raise InvalidArgument("archive: bad PAX size")
            pax, long_name, long_link = {}, None, None
            if typ == "7":
                typ = REGULAR
            body = size if typ == REGULAR else 0
            if typ not in (REGULAR, DIRECTORY) and typ not in (HARDLINK, SYMLINK):
                body = size  # unknown kinds: skip their body
            self._remaining = body
            self._padding = -body % BLOCK
            yield Member(name=name, type=typ, size=size if typ == REGULAR else 0, linkname=linkname)


def clean_name(name: str) -> str:
    """A member name normalized for lookup ("./a//b/" -> "a/b"); refuses `..` and absolute names."""
    parts = []
    for p in name.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            raise InvalidArgument(f"archive: refusing member name with '..': {name!r}")
        parts.append(p)
    if name.startswith("/"):
        raise InvalidArgument(f"archive: refusing absolute member name: {name!r}")
    return "/".join(parts)


def _header(name: str, size: int, typ: str, mode: int, mtime: int, linkname: str = "") -> bytes:
    raw = name.encode()
    if len(raw) > 100:
        prefix, _, base = name.rpartition("/")
        if not prefix or len(base.encode()) > 100 or len(prefix.encode()) > 155:
            raise InvalidArgument(f"archive: member name too long: {name!r}")
        raw, pre = base.encode(), prefix.encode()
    else:
        pre = b""
    h = bytearray(BLOCK)
    h[0 : len(raw)] = raw
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"%07o\0" % 0
    h[116:124] = b"%07o\0" % 0
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % mtime
    h[148:156] = b" " * 8
    h[156] = ord(typ)
    lk = linkname.encode()
    h[157 : 157 + len(lk)] = lk
    h[257:265] = b"ustar\x0000"
    h[345 : 345 + len(pre)] = pre
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


class ArchiveWriter:
    """Deterministic tar output: directories, in-memory files, and files copied from paths."""

    def __init__(self, out: BinaryIO, mtime: int = 0):
        self._out = out
        self._mtime = mtime
        try:
            fd = out.fileno()
            import stat

            self._fd = fd if stat.S_ISREG(os.fstat(fd).st_mode) else -1
        except (AttributeError, OSError, ValueError):
            self._fd = -1

    def add_dir(self, name: str) -> None:
        self._out.write(_header(name.rstrip("/") + "/", 0, DIRECTORY, 0o755, self._mtime))

    def add_bytes(self, name: str, data: bytes) -> None:
        self._out.write(_header(name, len(data), REGULAR, 0o644, self._mtime))
        self._out.write(data)
        self._pad(len(data))

    def add_file(self, name: str, path: str) -> None:
        """Copy a file into the archive; the size is the file's size when opened."""
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            self._out.write(_header(name, size, REGULAR, 0o644, self._mtime))
            if self._fd >= 0:
                self._out.flush()
                offset = 0
                while offset < size:
                    sent = os.sendfile(self._fd, f.fileno(), offset, min(size - offset, 1 << 30))
                    if sent == 0:
                        raise InvalidArgument(f"archive: {path} shrank while being saved")
                    offset += sent
            else:
                left = size
                while left > 0:
                    chunk = f.read(min(left, CHUNK))
                    if not chunk:
                        raise InvalidArgument(f"archive: {path} shrank while being saved")
                    self._out.write(chunk)
                    left -= len(chunk)
        self._pad(size)

    def _pad(self, size: int) -> None:
        pad = -size % BLOCK
        if pad:
            self._out.write(b"\0" * pad)

    def close(self) -> None:
        self._out.write(b"\0" * (BLOCK * 2))
        self._out.flush()
