"""A deterministic tar writer (ustar, PAX only when needed) and `write_tree` for layer diffs.

The same entries always give the same bytes: no user/group names, no atime/ctime, PAX records
sorted and emitted only for long names, big numbers and xattrs. `write_tree` walks a directory
in sorted order, detects hard links inside it and can turn an overlayfs upper dir into `.wh.`
whiteout entries.
"""

from __future__ import annotations

import io
import os
import stat

from dockyard.errors import FailedPrecondition

from . import tarformat as tf
from . import whiteouts as wh

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are never evaluated
    from typing import BinaryIO

BUFFER_SIZE = 1 << 20
_MAX_OCT8 = 0o7777777
_MAX_OCT12 = 0o77777777777
_END = bytes(2 * tf.BLOCK)
_PAX_NAME = b"././@PaxHeader"


def _oct8(v: int) -> bytes:
    return b"%07o\x00" % v


def _oct12(v: int) -> bytes:
    return b"%011o\x00" % v


def _b256(v: int, width: int) -> bytes:
    return b"\x80" + v.to_bytes(width - 1, "big")


def _pax_record(key: bytes, value: bytes) -> bytes:
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + len(str(len(body)))
    if len(str(n)) != len(str(n - len(body))):
        n = len(body) + len(str(n))
    return str(n).encode() + body


def _split_ustar(name: bytes) -> tuple[bytes, bytes] | None:
    """(prefix, name) fitting the ustar fields, or None if the name needs PAX."""
    if len(name) <= 100:
        return b"", name
    # the first slash that leaves at most 100 bytes after it gives the shortest prefix
    i = name.find(b"/", len(name) - 101)
    if 0 < i <= 155 and i < len(name) - 1:
        return name[:i], name[i + 1 :]
    return None


def _block(
    name: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    typ: bytes,
    link: bytes,
    major: int,
    minor: int,
    prefix: bytes,
) -> bytes:
    hdr = b"".join(
        (
            name.ljust(100, b"\0"),
            _oct8(mode),
            _oct8(uid),
            _oct8(gid),
            _oct12(size),
            _oct12(mtime),
            b"        ",
            typ,
            link.ljust(100, b"\0"),
            tf.USTAR_MAGIC,
            bytes(64),  # uname, gname: left empty on purpose (numeric ids are the truth)
            _oct8(major) if major <= _MAX_OCT8 else _b256(major, 8),
            _oct8(minor) if minor <= _MAX_OCT8 else _b256(minor, 8),
            prefix.ljust(155, b"\0"),
            bytes(12),
        )
    )
    return hdr[:148] + b"%06o\x00 " % sum(hdr) + hdr[156:]


def _fd_of(out: BinaryIO) -> int:
    """The fd of a plain file/pipe writer we may write to directly, or -1."""
    if not isinstance(out, (io.BufferedWriter, io.FileIO, io.BufferedRandom)):
        return -1
    try:
        fd = out.fileno()
    except (OSError, ValueError):
        return -1
    out.flush()
    return fd


class TarWriter:
    """Writes tar entries to `out`; close() writes the end marker and flushes (out stays open).

    Names are relative paths ("etc/passwd"); directories get a trailing "/". When `out` is a
    plain file or pipe, bytes go straight to its fd (file data with sendfile).
    """

    def __init__(self, out: BinaryIO):
        self._out = out
        self._fd = _fd_of(out)
        self._buf = bytearray()

    # -- output ---------------------------------------------------------------------------

    def _flush(self) -> None:
        if not self._buf:
            return
        if self._fd >= 0:
            view = memoryview(self._buf)
            while view:
                view = view[os.write(self._fd, view) :]
        else:
            self._out.write(self._buf)
        self._buf = bytearray()

    def _header(
        self,
        name: str,
        typ: bytes,
        mode: int,
        uid: int,
        gid: int,
        size: int,
        mtime: int,
        link: str = "",
        major: int = 0,
        minor: int = 0,
        xattrs: dict[str, bytes] | None = None,
    ) -> None:
        bname = os.fsencode(name)
        blink = os.fsencode(link)
        pax: dict[bytes, bytes] = {}
        split = _split_ustar(bname)
        if split is None:
            pax[b"path"] = bname
            split = b"", bname[:100]
        if len(blink) > 100:
            pax[b"linkpath"] = blink
            blink = blink[:100]
        if not 0 <= uid <= _MAX_OCT8:
            pax[b"uid"] = b"%d" % uid
            uid = 0
        if not 0 <= gid <= _MAX_OCT8:
            pax[b"gid"] = b"%d" % gid
            gid = 0
        if size > _MAX_OCT12:
            pax[b"size"] = b"%d" % size
        if not 0 <= mtime <= _MAX_OCT12:
            pax[b"mtime"] = b"%d" % mtime
            mtime = 0
        if xattrs:
            for k, v in xattrs.items():
                pax[b"SCHILY.xattr." + os.fsencode(k)] = v
        if pax:
            data = b"".join(_pax_record(k, pax[k]) for k in sorted(pax))
            self._buf += _block(_PAX_NAME, 0o644, 0, 0, len(data), mtime, tf.PAX, b"", 0, 0, b"")
            self._buf += data
            self._buf += bytes(-len(data) % tf.BLOCK)
        hsize = size if size <= _MAX_OCT12 else 0
        self._buf += _block(
            split[1], mode & 0o7777, uid, gid, hsize, mtime, typ, blink, major, minor, split[0]
        )
        if len(self._buf) >= BUFFER_SIZE:
            self._flush()

    # -- entries --------------------------------------------------------------------------

    def add_dir(
        self,
        name: str,
        *,
        mode: int = 0o755,
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
        xattrs: dict[str, bytes] | None = None,
    ) -> None:
        if not name.endswith("/"):
            name += "/"
        self._header(name, tf.DIR, mode, uid, gid, 0, mtime, xattrs=xattrs)

    def add_file(
        self,
        name: str,
        data: bytes | int,
        size: int | None = None,
        *,
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
        xattrs: dict[str, bytes] | None = None,
    ) -> None:
        """A regular file from bytes, or from an open fd holding exactly `size` bytes."""
        if isinstance(data, int):
            if size is None:
                size = os.fstat(data).st_size
        else:
            size = len(data)
        self._header(name, tf.REG, mode, uid, gid, size, mtime, xattrs=xattrs)
        if isinstance(data, int):
            self._copy_fd(name, data, size)
        else:
            self._buf += data
        pad = -size % tf.BLOCK
        if pad:
            self._buf += bytes(pad)
        if len(self._buf) >= BUFFER_SIZE:
            self._flush()

    def add_symlink(
        self,
        name: str,
        target: str,
        *,
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
        xattrs: dict[str, bytes] | None = None,
    ) -> None:
        self._header(name, tf.SYM, 0o777, uid, gid, 0, mtime, target, xattrs=xattrs)

    def add_hardlink(
        self,
        name: str,
        target: str,
        *,
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
    ) -> None:
        self._header(name, tf.LNK, mode, uid, gid, 0, mtime, target)

    def add_device(
        self,
        name: str,
        kind: str,
        major: int,
        minor: int,
        *,
        mode: int = 0o600,
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
        xattrs: dict[str, bytes] | None = None,
    ) -> None:
        """A device node; kind is "char" or "block"."""
        typ = tf.CHR if kind == "char" else tf.BLK
        self._header(name, typ, mode, uid, gid, 0, mtime, "", major, minor, xattrs)

    def add_fifo(
        self, name: str, *, mode: int = 0o600, uid: int = 0, gid: int = 0, mtime: int = 0
    ) -> None:
        self._header(name, tf.FIFO, mode, uid, gid, 0, mtime)

    def close(self) -> None:
        self._buf += _END
        self._flush()
        if self._fd < 0:
            self._out.flush()

    def _copy_fd(self, name: str, src: int, size: int) -> None:
        left = size
        if size <= BUFFER_SIZE:
            data = os.read(src, size)
            while data and len(data) < size:
                more = os.read(src, size - len(data))
                if not more:
                    break
                data += more
            self._buf += data
            left -= len(data)
        elif self._fd >= 0:
            self._flush()
            while left:
                n = os.sendfile(self._fd, src, None, min(left, 1 << 30))
                if not n:
                    break
                left -= n
        else:
            self._flush()
            chunk = bytearray(BUFFER_SIZE)
            view = memoryview(chunk)
            while left:
                n = os.readv(src, [view[: min(left, BUFFER_SIZE)]])
                if not n:
                    break
                self._out.write(view[:n])
                left -= n
        if left:
            raise FailedPrecondition(f"{name}: file shrank while being archived")


def _xattrs_of(path: str, overlay_upper: bool) -> tuple[dict[str, bytes] | None, bool]:
    """(xattrs worth archiving, whether the dir is an overlayfs opaque dir)."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return None, False
    if not names:
        return None, False
    out: dict[str, bytes] = {}
    opaque = False
    for n in sorted(names):
        if overlay_upper and n in (wh.OVERLAY_OPAQUE_XATTR, "user.overlay.opaque"):
            try:
                opaque = os.getxattr(path, n, follow_symlinks=False) == b"y"
            except OSError:
                pass
            continue
        if not tf.xattr_allowed(n):
            continue
        try:
            out[n] = os.getxattr(path, n, follow_symlinks=False)
        except OSError:
            continue
    return out or None, opaque


def write_tree(
    root: str, out: BinaryIO, *, overlay_upper: bool = False, mtime: int | None = None
) -> int:
    """Write the tree under `root` (not root itself) as a tar to `out`, in sorted order.

    Owners, modes and mtimes come from the files (all mtimes = `mtime` when given). With
    `overlay_upper`, char devices 0/0 become `.wh.NAME` and opaque dirs get `.wh..wh..opq`.
    Sockets are skipped (tar cannot hold them).

    Returns what `treesize.tree_size(root)` would, from the stats taken on the way: the
    sizes of everything below but directories (and symlinks to them).
    """
    w = TarWriter(out)
    links: dict[tuple[int, int], str] = {}
    total = 0
    # depth first, children sorted by name: the order `find | sort`-style tools expect
    stack = [("", iter(_sorted_dir(root)))]
    while stack:
        rel, it = stack[-1]
        d = next(it, None)
        if d is None:
            stack.pop()
            continue
        name = rel + d.name
        st = d.stat(follow_symlinks=False)
        if _write_entry(w, d.path, name, st, links, overlay_upper, mtime):
            stack.append((name + "/", iter(_sorted_dir(d.path))))
        elif not stat.S_ISLNK(st.st_mode) or not os.path.isdir(d.path):
            total += st.st_size  # os.walk (tree_size) counts a link to a dir as a dir
    w.close()
    return total


def _sorted_dir(path: str) -> list[os.DirEntry]:
    with os.scandir(path) as it:
        return sorted(it, key=lambda d: d.name)


def _write_entry(
    w: TarWriter,
    path: str,
    name: str,
    st: os.stat_result,
    links: dict[tuple[int, int], str],
    overlay_upper: bool,
    mtime: int | None,
) -> bool:
    """Write one entry; True when it is a directory to descend into."""
    mode = st.st_mode
    mt = int(st.st_mtime) if mtime is None else mtime
    uid, gid, perm = st.st_uid, st.st_gid, stat.S_IMODE(mode)
    if overlay_upper and stat.S_ISCHR(mode) and st.st_rdev == 0:
        head, _, base = name.rpartition("/")
        wname = f"{head}/{wh.PREFIX}{base}" if head else f"{wh.PREFIX}{base}"
        w.add_file(wname, b"", mode=perm, uid=uid, gid=gid, mtime=mt)
        return False
    xattrs, opaque = _xattrs_of(path, overlay_upper)
    if stat.S_ISDIR(mode):
        w.add_dir(name, mode=perm, uid=uid, gid=gid, mtime=mt, xattrs=xattrs)
        if opaque:
            w.add_file(f"{name}/{wh.OPAQUE}", b"", mode=perm, uid=uid, gid=gid, mtime=mt)
        return True
    if st.st_nlink > 1:
        key = (st.st_dev, st.st_ino)
        first = links.get(key)
        if first is not None:
            w.add_hardlink(name, first, mode=perm, uid=uid, gid=gid, mtime=mt)
            return False
        links[key] = name
    if stat.S_ISREG(mode):
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            w.add_file(name, fd, st.st_size, mode=perm, uid=uid, gid=gid, mtime=mt, xattrs=xattrs)
        finally:
            os.close(fd)
    elif stat.S_ISLNK(mode):
        w.add_symlink(name, os.readlink(path), uid=uid, gid=gid, mtime=mt, xattrs=xattrs)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "char" if stat.S_ISCHR(mode) else "block"
        w.add_device(
            name,
            kind,
            os.major(st.st_rdev),
            os.minor(st.st_rdev),
            mode=perm,
            uid=uid,
            gid=gid,
            mtime=mt,
            xattrs=xattrs,
        )
    elif stat.S_ISFIFO(mode):
        w.add_fifo(name, mode=perm, uid=uid, gid=gid, mtime=mt)
    return False
