"""A strict streaming reader for untrusted tar archives (ustar, GNU long names, PAX).

Written instead of using `tarfile` so that every size is checked against `Limits` before it is
read, nothing is ever seeked, and unknown or sparse entries are refused rather than guessed at.
"""

import os
from collections.abc import Iterator
from typing import BinaryIO

from dockyard.errors import InvalidArgument, Unsupported

from . import tarformat as tf
from .limits import Limits

BUFFER_SIZE = 1 << 20
_ZERO_BLOCK = bytes(tf.BLOCK)
_REGULAR = (tf.REG, tf.AREG, tf.CONTIG)
_KNOWN = frozenset((tf.REG, tf.LNK, tf.SYM, tf.CHR, tf.BLK, tf.DIR, tf.FIFO))
_NS = 1_000_000_000


_HEADER_ONLY = frozenset({tf.LNK, tf.SYM, tf.CHR, tf.BLK, tf.DIR, tf.FIFO})


def _pad(size: int) -> int:
    return -size % tf.BLOCK


def parse_pax(data: bytes) -> dict[str, bytes]:
    """Parse PAX extended header records ("LEN key=value\\n"); InvalidArgument if malformed."""
    out: dict[str, bytes] = {}
    pos, end = 0, len(data)
    while pos < end:
        if data[pos] == 0:  # some writers pad the record block with NULs
            break
        sp = data.find(b" ", pos, pos + 21)
        if sp < 0 or not data[pos:sp].isdigit():
            raise InvalidArgument("invalid PAX header: bad record length")
        length = int(data[pos:sp])
        rec_end = pos + length
        if length <= sp - pos + 1 or rec_end > end or data[rec_end - 1] != 0x0A:
            raise InvalidArgument("invalid PAX header: bad record")
        key, eq, value = data[sp + 1 : rec_end - 1].partition(b"=")
        if not eq or not key:
            raise InvalidArgument("invalid PAX header: record without key=value")
        out[key.decode("utf-8", "surrogateescape")] = value
        pos = rec_end
    return out


def _pax_mtime_ns(value: bytes) -> int:
    text = value.decode("ascii")
    whole, _, frac = text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    ns = int(whole) * _NS
    if frac:
        if not frac.isdigit():
            raise ValueError(text)
        ns += sign * int((frac + "000000000")[:9])
    return ns


def _xattrs_from_pax(pax: dict[str, bytes]) -> dict[str, bytes] | None:
    xattrs: dict[str, bytes] | None = None
    for key, value in pax.items():
        if key.startswith("SCHILY.xattr."):
            name = key[len("SCHILY.xattr.") :]
        elif key.startswith("LIBARCHIVE.xattr."):
            import base64
            from urllib.parse import unquote

            name = unquote(key[len("LIBARCHIVE.xattr.") :], errors="surrogateescape")
            value = base64.b64decode(value + b"=" * (-len(value) % 4))
        else:
            continue
        if xattrs is None:
            xattrs = {}
        xattrs[name] = value
    return xattrs


class TarReader:
    """Iterates the entries of an uncompressed tar stream; the data of each is read or skipped.

    `offset` is the number of bytes consumed so far. Every limit of `limits` is enforced before
    the bytes it guards are consumed.
    """

    def __init__(self, f: BinaryIO, limits: Limits | None = None):
        self._f = f
        self._readinto = getattr(f, "readinto", None) or self._read_fallback
        self._limits = limits or Limits()
        self._buf = bytearray(BUFFER_SIZE)
        self._view = memoryview(self._buf)
        self._pos = 0
        self._end = 0
        self._pulled = 0  # bytes read from f
        self._unread = 0  # data bytes of the current entry not yet consumed
        self._unread_pad = 0
        self._globals: dict[str, bytes] = {}
        self._done = False
        self.entries = 0

    @property
    def offset(self) -> int:
        return self._pulled - (self._end - self._pos)

    def _read_fallback(self, view: memoryview) -> int:
        data = self._f.read(len(view))
        view[: len(data)] = data
        return len(data)

    # -- buffer ---------------------------------------------------------------------------

    def _pull(self) -> int:
        """Read more input after the buffered bytes; returns how many (0 at EOF)."""
        if self._pos == self._end:
            self._pos = self._end = 0
        elif self._end == len(self._buf):
            rest = self._end - self._pos
            self._buf[:rest] = self._view[self._pos : self._end]
            self._pos, self._end = 0, rest
        n = self._readinto(self._view[self._end :]) or 0
        if n:
            self._end += n
            self._pulled += n
            self._limits.check("max_total_size", self._pulled)
        return n

    def _fill(self, need: int) -> bool:
        """Make `need` bytes available at _pos (need <= buffer size); False at EOF."""
        while self._end - self._pos < need:
            if self._pos and len(self._buf) - self._pos < need:
                rest = self._end - self._pos
                self._buf[:rest] = self._view[self._pos : self._end]
                self._pos, self._end = 0, rest
            if not self._pull():
                return False
        return True

    def _consume(self, n: int) -> None:
        """Drop `n` bytes of input (data being skipped)."""
        while n:
            if self._pos == self._end and not self._pull():
                raise InvalidArgument(f"truncated tar stream at offset {self.offset}")
            step = min(n, self._end - self._pos)
            self._pos += step
            n -= step

    def _read_exact(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            if self._pos == self._end and not self._pull():
                raise InvalidArgument(f"truncated tar stream at offset {self.offset}")
            step = min(n - len(out), self._end - self._pos)
            out += self._view[self._pos : self._pos + step]
            self._pos += step
        return bytes(out)

    # -- entry data -----------------------------------------------------------------------

    def copy_to_fd(self, fd: int) -> int:
        """Write the current entry's data to `fd`; returns the number of bytes written."""
        total = 0
        write = os.write
        while self._unread:
            if self._pos == self._end and not self._pull():
                raise InvalidArgument(f"truncated tar stream at offset {self.offset}")
            step = min(self._unread, self._end - self._pos)
            chunk = self._view[self._pos : self._pos + step]
            while chunk:
                chunk = chunk[write(fd, chunk) :]
            self._pos += step
            self._unread -= step
            total += step
        self._consume(self._unread_pad)
        self._unread_pad = 0
        return total

    def read_chunks(self) -> Iterator[bytes]:
        """The current entry's data as immutable chunks of at most 1 MiB, for callers that
        keep or hand on each chunk (a content writer, a queue to another thread)."""
        while self._unread:
            if self._pos < self._end:
                step = min(self._unread, self._end - self._pos)
                chunk = bytes(self._view[self._pos : self._pos + step])
                self._pos += step
            else:
                # nothing buffered: a fresh read is already an immutable chunk, no copy needed
                chunk = self._f.read(min(self._unread, BUFFER_SIZE))
                if not chunk:
                    raise InvalidArgument(f"truncated tar stream at offset {self.offset}")
                step = len(chunk)
                self._pulled += step
                self._limits.check("max_total_size", self._pulled)
            self._unread -= step
            yield chunk
        self._consume(self._unread_pad)
        self._unread_pad = 0

    def read_data(self) -> bytes:
        """The current entry's data as bytes (for small entries)."""
        data = self._read_exact(self._unread)
        self._unread = 0
        self._consume(self._unread_pad)
        self._unread_pad = 0
        return data

    def skip_data(self) -> None:
        self._consume(self._unread + self._unread_pad)
        self._unread = self._unread_pad = 0

    def drain(self) -> int:
        """Consume the input to EOF (so a caller hashing the stream sees all of it)."""
        self.skip_data()
        self._pos = self._end
        while self._pull():
            self._pos = self._end
        return self._pulled

    # -- headers --------------------------------------------------------------------------

    def _error(self, what: str, offset: int) -> InvalidArgument:
        return InvalidArgument(f"invalid tar stream at offset {offset}: {what}")

    def _header(self) -> bytes | None:
        """The next 512-byte header block, None at the end-of-archive marker or a clean EOF."""
        start = self.offset
        if not self._fill(tf.BLOCK):
            if self._end == self._pos:
                return None
            raise self._error("truncated header", start)
        block = bytes(self._view[self._pos : self._pos + tf.BLOCK])
        self._pos += tf.BLOCK
        if block[0] == 0 and block == _ZERO_BLOCK:
            return None
        try:
            stored = tf.parse_number(block[148:156])
        except ValueError:
            stored = -1
        if not tf.checksum_ok(block, stored):
            raise self._error("header checksum mismatch (not a tar archive?)", start)
        return block

    def _number(self, block: bytes, field: tuple[int, int], what: str, start: int) -> int:
        try:
            return tf.parse_number(block[field[0] : field[1]])
        except ValueError:
            raise self._error(f"bad {what} field", start)

    def _ext_header(self, size: int, start: int) -> bytes:
        self._limits.check("max_header_size", size)
        data = self._read_exact(size)
        self._consume(_pad(size))
        return data

    def next(self) -> tf.Entry | None:
        """Advance to the next entry (skipping unread data); None at the end of the archive."""
        if self._done:
            return None
        self.skip_data()
        pax: dict[str, bytes] = {}
        longname = longlink = None
        while True:
            start = self.offset
            block = self._header()
            if block is None:
                self._done = True
                if pax or longname is not None or longlink is not None:
                    raise self._error("extended header without an entry", start)
                return None
            typ = block[tf.TYPE : tf.TYPE + 1]
            size = self._number(block, tf.SIZE, "size", start)
            if size < 0:
                raise self._error("negative size", start)
            if typ == tf.PAX:
                pax.update(parse_pax(self._ext_header(size, start)))
            elif typ == tf.PAX_GLOBAL:
                for k, v in parse_pax(self._ext_header(size, start)).items():
                    if v:
                        self._globals[k] = v
                    else:
                        self._globals.pop(k, None)
            elif typ == tf.GNU_LONGNAME:
                longname = tf.cstring(self._ext_header(size, start))
            elif typ == tf.GNU_LONGLINK:
                longlink = tf.cstring(self._ext_header(size, start))
            else:
                return self._entry(block, typ, size, start, pax, longname, longlink)

    def _entry(
        self,
        block: bytes,
        typ: bytes,
        size: int,
        start: int,
        pax: dict[str, bytes],
        longname: bytes | None,
        longlink: bytes | None,
    ) -> tf.Entry:
        if self._globals:
            pax = {**self._globals, **pax}
        raw = block
        if longname is not None:
            name = longname
        else:
            name = tf.cstring(raw[0:100])
            if raw[257:263] == b"ustar\x00" and raw[345] != 0:
                name = tf.cstring(raw[345:500]) + b"/" + name
        linkname = longlink if longlink is not None else tf.cstring(raw[157:257])
        if typ in _REGULAR:
            typ = tf.DIR if name.endswith(b"/") and typ == tf.AREG else tf.REG
        if typ == tf.GNU_SPARSE or any(k.startswith("GNU.sparse.") for k in pax):
            raise Unsupported(f"tar entry {os.fsdecode(name)!r}: sparse files are not supported")
        if typ not in _KNOWN:
            raise Unsupported(f"tar entry {os.fsdecode(name)!r}: unsupported type {typ!r}")
        e = tf.Entry(
            os.fsdecode(name),
            typ,
            mode=self._number(block, tf.MODE, "mode", start) & 0o7777,
            uid=self._number(block, tf.UID, "uid", start),
            gid=self._number(block, tf.GID, "gid", start),
            size=size,
            mtime_ns=self._number(block, tf.MTIME, "mtime", start) * _NS,
            linkname=os.fsdecode(linkname),
        )
        if typ in (tf.CHR, tf.BLK):
            e.devmajor = self._number(block, tf.DEVMAJOR, "devmajor", start)
            e.devminor = self._number(block, tf.DEVMINOR, "devminor", start)
        if pax:
            self._apply_pax(e, pax, start)
        if not (0 <= e.uid < 1 << 32 and 0 <= e.gid < 1 << 32) or e.size < 0:
            raise self._error("uid, gid or size out of range", start)
        if typ in _HEADER_ONLY:
            # As Go's archive/tar (and so Docker) reads them: these types carry no data, whatever
            # their size field says. Reading one differently would let a tar mean two things.
            e.size = 0
        if not -(1 << 63) < e.mtime_ns < 1 << 63:
            raise self._error("mtime out of range", start)
        if "\0" in e.name or "\0" in e.linkname:
            raise self._error("NUL byte in a name", start)
        self._limits.check("max_name_length", len(e.name.encode("utf-8", "surrogateescape")))
        self._limits.check("max_name_length", len(e.linkname.encode("utf-8", "surrogateescape")))
        self.entries += 1
        self._limits.check("max_entries", self.entries)
        # fail before writing anything of an entry that cannot fit
        self._limits.check("max_total_size", self.offset + e.size)
        self._unread = e.size
        self._unread_pad = _pad(e.size)
        return e

    def _apply_pax(self, e: tf.Entry, pax: dict[str, bytes], start: int) -> None:
        try:
            if "path" in pax:
                e.name = pax["path"].decode("utf-8", "surrogateescape")
            if "linkpath" in pax:
                e.linkname = pax["linkpath"].decode("utf-8", "surrogateescape")
            if "size" in pax:
                e.size = int(pax["size"])
            if "uid" in pax:
                e.uid = int(pax["uid"])
            if "gid" in pax:
                e.gid = int(pax["gid"])
            if "mtime" in pax:
                e.mtime_ns = _pax_mtime_ns(pax["mtime"])
            if "SCHILY.devmajor" in pax:
                e.devmajor = int(pax["SCHILY.devmajor"])
            if "SCHILY.devminor" in pax:
                e.devminor = int(pax["SCHILY.devminor"])
            e.xattrs = _xattrs_from_pax(pax)
        except (ValueError, UnicodeDecodeError):
            raise self._error("bad PAX header value", start)

    def __iter__(self):
        while True:
            e = self.next()
            if e is None:
                return
            yield e
