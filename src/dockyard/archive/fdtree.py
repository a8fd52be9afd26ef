"""Archiving a tree reached through directory descriptors, safe against a tree that changes.

A container's files are under the control of whoever runs in it, and may change while they
are read (a directory swapped for a symlink to `/`). So nothing here hands the kernel a path
of more than one component: every directory is opened with O_NOFOLLOW relative to its
parent's descriptor, every file is opened the same way (O_NONBLOCK, so a FIFO swapped in
cannot block), and a name that changed type between the listing and the open is skipped.
Used by `cp` (out of a container), `export` and `commit`.
"""

import errno
import os
import stat

from . import whiteouts as wh
from .tarformat import xattr_allowed
from .tarwriter import TarWriter

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.ENXIO)
OPAQUE_XATTRS = (wh.OVERLAY_OPAQUE_XATTR, "user.overlay.opaque")


class TreeWriter:
    """Writes entries to a TarWriter. `overlay_upper`: the tree is an overlayfs upper dir
    (0/0 char devices become `.wh.` files, opaque dirs get `.wh..wh..opq`). `skip`: relative
    paths ("etc/hosts") left out, with everything below them."""

    def __init__(self, w: TarWriter, overlay_upper: bool = False, skip=frozenset()):
        self.w = w
        self.overlay_upper = overlay_upper
        self.skip = skip
        self._links: dict[tuple[int, int], str] = {}

    def add(self, dir_fd: int, name: str, arcname: str, rel: str = "") -> None:
        """The entry `name` in `dir_fd` as `arcname`, with its whole subtree."""
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as e:
            if e.errno in _GONE:
                return
            raise
        self._entry(dir_fd, name, arcname, st, rel or name)

    def add_root(self, fd: int, arcname: str = "") -> None:
        """The directory `fd` itself as `arcname` (left out when ""), then its contents."""
        if arcname:
            st = os.fstat(fd)
            xattrs, _ = self._xattrs(fd)
            self.w.add_dir(arcname, **self._meta(st), xattrs=xattrs)
        self.contents(fd, arcname + "/" if arcname else "", "")

    def contents(self, fd: int, prefix: str, rel: str) -> None:
        for name in sorted(os.listdir(fd)):
            child_rel = f"{rel}/{name}" if rel else name
            if child_rel in self.skip:
                continue
            self.add(fd, name, prefix + name, child_rel)

    @staticmethod
    def _meta(st: os.stat_result) -> dict:
        return {
            "mode": stat.S_IMODE(st.st_mode),
            "uid": st.st_uid,
            "gid": st.st_gid,
            "mtime": int(st.st_mtime),
        }

    def _xattrs(self, fd: int) -> tuple[dict[str, bytes] | None, bool]:
        try:
            names = os.listxattr(fd)
        except OSError:
            return None, False
        out: dict[str, bytes] = {}
        opaque = False
        for n in sorted(names):
            try:
                value = os.getxattr(fd, n)
            except OSError:
                continue
            if n in OPAQUE_XATTRS and self.overlay_upper:
                opaque = value == b"y"
            elif xattr_allowed(n):
                out[n] = value
        return out or None, opaque

    def _entry(self, dir_fd: int, name: str, arcname: str, st: os.stat_result, rel: str) -> None:
        mode = st.st_mode
        meta = self._meta(st)
        if stat.S_ISDIR(mode):
            try:
                fd = os.open(name, _DIR, dir_fd=dir_fd)
            except OSError as e:
                if e.errno in _GONE:
                    return
                raise
            try:
                xattrs, opaque = self._xattrs(fd)
                meta = self._meta(os.fstat(fd))
                self.w.add_dir(arcname, **meta, xattrs=xattrs)
                if opaque:
                    self.w.add_file(f"{arcname}/{wh.OPAQUE}", b"", **meta)
                self.contents(fd, arcname + "/", rel)
            finally:
                os.close(fd)
            return
        if self.overlay_upper and stat.S_ISCHR(mode) and st.st_rdev == 0:
            head, _, base = arcname.rpartition("/")
            self.w.add_file(f"{head}/{wh.PREFIX}{base}" if head else wh.PREFIX + base, b"", **meta)
            return
        if st.st_nlink > 1 and not stat.S_ISDIR(mode):
            key = (st.st_dev, st.st_ino)
            first = self._links.get(key)
            if first is not None:
                self.w.add_hardlink(arcname, first, **meta)
                return
            self._links[key] = arcname
        if stat.S_ISREG(mode):
            self._file(dir_fd, name, arcname)
        elif stat.S_ISLNK(mode):
            try:
                target = os.readlink(name, dir_fd=dir_fd)
            except OSError as e:
                if e.errno in (*_GONE, errno.EINVAL):
                    return
                raise
            self.w.add_symlink(arcname, target, uid=st.st_uid, gid=st.st_gid, mtime=meta["mtime"])
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            kind = "char" if stat.S_ISCHR(mode) else "block"
            major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
            self.w.add_device(arcname, kind, major, minor, **meta)
        elif stat.S_ISFIFO(mode):
            self.w.add_fifo(arcname, **meta)
        # sockets: tar cannot hold them

    def _file(self, dir_fd: int, name: str, arcname: str) -> None:
        try:
            fd = os.open(name, _FILE, dir_fd=dir_fd)
        except OSError as e:
            if e.errno in _GONE:
                return
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return  # swapped for something else since the listing
            xattrs, _ = self._xattrs(fd)
            self.w.add_file(arcname, fd, st.st_size, **self._meta(st), xattrs=xattrs)
        finally:
            os.close(fd)
