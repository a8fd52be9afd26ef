"""Apply an untrusted layer tar to a directory so that nothing lands outside it.

Every entry name is cleaned lexically (`..` above the root is refused), its parent is opened
through `RootDir` (openat walking, symlinks clamped inside the root), and the last component is
replaced, never followed. Hard links must point at a file inside the root reached without leaving
it. Whiteouts delete inside the root ("delete" mode, flat rootfs) or become overlayfs whiteouts
("overlay" mode, a fresh layer dir). Directory modes and mtimes are set at the end so that later
entries can still be created in read-only directories and do not disturb the times.
"""

import errno
import os
import stat
from dataclasses import dataclass
from typing import BinaryIO

from dockyard.errors import (
    DockyardError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)

from . import tarformat as tf
from . import whiteouts as wh
from .limits import Limits
from .rootdir import RootDir, split_clean
from .tarreader import TarReader

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_PATH_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
_SKIP_XATTR_ERRNOS = (errno.ENOTSUP, errno.EOPNOTSUPP)


@dataclass(frozen=True)
class ApplyResult:
    entries: int  # tar entries processed (whiteouts included)
    size: int  # bytes of regular file data written


def apply_layer(
    reader: BinaryIO,
    target: str,
    *,
    whiteouts: str = "delete",
    limits: Limits | None = None,
    devices: bool = True,
    same_owner: bool = True,
    replace_dirs: bool = True,
) -> ApplyResult:
    """Extract the uncompressed tar stream `reader` into the existing directory `target`.

    Raises InvalidArgument (LimitExceeded, Unsupported ...) naming the entry on bad input; the
    target is then partly written and the caller discards it. The stream is read to its end.
    `replace_dirs=False` (cp, Docker's NoOverwriteDirNonDir): an entry whose kind (directory
    or not) differs from what is there is refused instead of replacing it.
    """
    if whiteouts not in ("delete", "overlay", "none"):
        raise InvalidArgument(f"unknown whiteout mode {whiteouts!r}")
    tar = TarReader(reader, limits or Limits())
    try:
        root = RootDir(target)
    except FileNotFoundError:
        raise NotFound(f"cannot apply layer: directory {target} not found")
    except NotADirectoryError:
        raise InvalidArgument(f"cannot apply layer: {target} is not a directory")
    with root:
        ap = _Applier(root, tar, whiteouts == "overlay", devices, same_owner)
        ap.whiteouts = whiteouts != "none"  # "none": `.wh.` names are plain files (cp)
        ap.replace_dirs = replace_dirs
        for e in tar:
            try:
                ap.apply(e)
            except OSError as err:
                raise _os_error(e.name, err)
            except (ValueError, OverflowError) as err:  # NUL bytes, numbers out of range
                raise InvalidArgument(f"cannot apply layer entry {e.name!r}: {err}")
            except DockyardError as err:
                if e.name in str(err):
                    raise
                raise type(err)(f"layer entry {e.name!r}: {err}")
            finally:
                root.release()
        try:
            ap.finish()
        except OSError as err:
            raise _os_error("(directory metadata)", err)
        except (ValueError, OverflowError) as err:
            raise InvalidArgument(f"cannot apply layer directory metadata: {err}")
        tar.drain()
    return ApplyResult(tar.entries, ap.size)


def _os_error(name: str, err: OSError) -> DockyardError:
    msg = f"cannot apply layer entry {name!r}: {err.strerror or err}"
    if err.errno in (errno.EPERM, errno.EACCES):
        return PermissionDenied(msg)
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return Unavailable(msg)
    return InvalidArgument(msg)


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


class _Applier:
    """The state of one apply: the root, the entries made so far, deferred directory metadata."""

    def __init__(
        self, root: RootDir, tar: TarReader, overlay: bool, devices: bool, same_owner: bool
    ):
        self.root = root
        self.tar = tar
        self.overlay = overlay
        self.devices = devices
        self.same_owner = same_owner
        self.whiteouts = True
        self.replace_dirs = True
        self.size = 0
        # resolved paths made by this layer: an opaque marker must not remove them
        self.created: set[str] | None = None if overlay else set()
        # (resolved parent, name) -> (mode, mtime_ns), applied by finish()
        self.dirs: dict[tuple[str, str], tuple[int, int]] = {}

    # -- dispatch -------------------------------------------------------------------------

    def apply(self, e: tf.Entry) -> None:
        parts = split_clean(e.name, "tar entry")
        if not parts:
            self._root_entry(e)
            return
        name = parts[-1]
        if self.whiteouts and wh.is_whiteout(name):
            self._whiteout(parts[:-1], name, e)
            return
        pfd, presolved = self.root.open_dir(parts[:-1], create=True, what="tar entry")
        typ = e.type
        if typ == tf.REG:
            self._file(pfd, name, e)
        elif typ == tf.DIR:
            self._dir(pfd, presolved, name, e)
        elif typ == tf.SYM:
            self._symlink(pfd, name, e)
        elif typ == tf.LNK:
            self._hardlink(pfd, presolved, name, e)
        elif typ in (tf.CHR, tf.BLK):
            if not self.devices:
                return
            self._special(pfd, name, e)
        elif typ == tf.FIFO:
            self._special(pfd, name, e)
        if self.created is not None:
            self.created.add(_join(presolved, name))

    # -- replacing what is there ----------------------------------------------------------

    def _clear(self, pfd: int, name: str, keep_dir: bool = False) -> bool:
        """Remove `name` in pfd unless keep_dir and it is a directory; True if a dir was kept."""
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            if keep_dir:
                return True
            if not self.replace_dirs:
                raise InvalidArgument(f'cannot overwrite directory "{name}" with non-directory')
            self._remove_tree(pfd, name)
        else:
            if keep_dir and not self.replace_dirs:
                raise InvalidArgument(f'cannot overwrite non-directory "{name}" with directory')
            os.unlink(name, dir_fd=pfd)
            if stat.S_ISLNK(st.st_mode):
                self.root.invalidate()
        return False

    def _create(self, pfd: int, name: str, make):
        """Run `make` (which creates `name` without following anything); if the name is
        taken, remove what is there and try once more. Trying first saves a lookup per entry
        when applying to a fresh directory."""
        try:
            return make()
        except FileExistsError:
            self._clear(pfd, name)
            return make()

    def _remove_tree(self, pfd: int, name: str) -> None:
        from dockyard.rmtree import remove_at

        self.root.invalidate()
        remove_at(pfd, name)  # on fds throughout, never following a symlink

    def _remove(self, pfd: int, name: str) -> None:
        try:
            self._clear(pfd, name)
        except FileNotFoundError:
            pass

    # -- entry types ----------------------------------------------------------------------

    def _file(self, pfd: int, name: str, e: tf.Entry) -> None:
        fd = self._create(pfd, name, lambda: os.open(name, _CREATE_FLAGS, 0o600, dir_fd=pfd))
        try:
            self.size += self.tar.copy_to_fd(fd)
            if self.same_owner:
                os.chown(fd, e.uid, e.gid)
            os.chmod(fd, e.mode)  # after chown, which clears setuid/setgid
            if e.xattrs:
                self._xattrs(fd, e, False)
            os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
        finally:
            os.close(fd)

    def _dir(self, pfd: int, presolved: str, name: str, e: tf.Entry) -> None:
        try:
            os.mkdir(name, 0o700, dir_fd=pfd)
        except FileExistsError:
            if not self._clear(pfd, name, keep_dir=True):
                os.mkdir(name, 0o700, dir_fd=pfd)
        if self.same_owner:
            os.chown(name, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
        if e.xattrs:
            self._xattrs(self.root.proc_path(pfd, name), e, False)
        self.dirs[(presolved, name)] = (e.mode, e.mtime_ns)

    def _root_entry(self, e: tf.Entry) -> None:
        if e.type != tf.DIR:
            raise InvalidArgument(f"tar entry {e.name!r}: the root can only be a directory")
        if self.same_owner:
            os.chown(self.root.proc_path(self.root.fd), e.uid, e.gid)
        if e.xattrs:
            self._xattrs(self.root.proc_path(self.root.fd), e, False)
        self.dirs[("", "")] = (e.mode, e.mtime_ns)

    def _symlink(self, pfd: int, name: str, e: tf.Entry) -> None:
        # the target is only text, never resolved here
        self._create(pfd, name, lambda: os.symlink(e.linkname, name, dir_fd=pfd))
        self._meta_at(pfd, name, e, symlink=True)

    def _special(self, pfd: int, name: str, e: tf.Entry) -> None:
        if e.type == tf.FIFO:
            self._create(pfd, name, lambda: os.mkfifo(name, 0o600, dir_fd=pfd))
        else:
            kind = stat.S_IFCHR if e.type == tf.CHR else stat.S_IFBLK
            dev = os.makedev(e.devmajor, e.devminor)
            self._create(pfd, name, lambda: os.mknod(name, kind | 0o600, dev, dir_fd=pfd))
        self._meta_at(pfd, name, e, symlink=False)

    def _hardlink(self, pfd: int, presolved: str, name: str, e: tf.Entry) -> None:
        shown = e.name
        tparts = split_clean(e.linkname, f"hard link {shown!r} ->")
        if not tparts:
            raise InvalidArgument(f"hard link {shown!r} points at the root directory")
        got = self.root.open_dir(tparts[:-1], strict=True, what=f"hard link {shown!r} ->")
        tname = tparts[-1]
        if got is None:
            raise InvalidArgument(f"hard link {shown!r}: target {e.linkname!r} not found")
        tfd, tresolved = got
        if _join(tresolved, tname) == _join(presolved, name):
            return  # a link to itself: already there
        try:
            st = os.stat(tname, dir_fd=tfd, follow_symlinks=False)
        except FileNotFoundError:
            raise InvalidArgument(f"hard link {shown!r}: target {e.linkname!r} not found")
        if stat.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"hard link {shown!r}: target {e.linkname!r} is a directory")
        # keep the target's fd alive even if clearing invalidates the cache
        tfd = os.dup(tfd)
        try:
            self._clear(pfd, name)
            os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
        finally:
            os.close(tfd)

    # -- metadata -------------------------------------------------------------------------

    def _meta_at(self, pfd: int, name: str, e: tf.Entry, symlink: bool) -> None:
        if self.same_owner:
            os.chown(name, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
        if not symlink:
            # `name` was just created here and is not a symlink, so following is harmless
            os.chmod(name, e.mode, dir_fd=pfd)
        if e.xattrs:
            self._xattrs(self.root.proc_path(pfd, name), e, symlink)
        os.utime(name, ns=(e.mtime_ns, e.mtime_ns), dir_fd=pfd, follow_symlinks=False)

    def _xattrs(self, where: int | str, e: tf.Entry, special: bool) -> None:
        for key, value in (e.xattrs or {}).items():
            if not tf.xattr_allowed(key):
                continue
            try:
                if isinstance(where, int):
                    os.setxattr(where, key, value)
                else:
                    os.setxattr(where, key, value, follow_symlinks=False)
            except OSError as err:
                if err.errno in _SKIP_XATTR_ERRNOS:
                    continue
                if special and err.errno == errno.EPERM and key.startswith("user."):
                    continue  # the kernel allows user.* only on files and directories
                raise

    # -- whiteouts ------------------------------------------------------------------------

    def _whiteout(self, parent: list[str], name: str, e: tf.Entry) -> None:
        if name == wh.OPAQUE:
            self._opaque(parent, e)
            return
        if name.startswith(wh.META_PREFIX):
            return  # other AUFS bookkeeping (.wh..wh.plnk ...) has no meaning here
        victim = wh.victim(name, e.name)
        if self.overlay:
            pfd, _ = self.root.open_dir(parent, create=True, what="whiteout")
            self._clear(pfd, victim)
            os.mknod(victim, stat.S_IFCHR, 0, dir_fd=pfd)
            if self.same_owner:
                os.chown(victim, e.uid, e.gid, dir_fd=pfd, follow_symlinks=False)
            return
        got = self.root.open_dir(parent, what="whiteout")
        if got is not None:
            self._remove(got[0], victim)

    def _opaque(self, parent: list[str], e: tf.Entry) -> None:
        if self.overlay:
            dfd, _ = self.root.open_dir(parent, create=True, what="whiteout")
            os.setxattr(self.root.proc_path(dfd), wh.OVERLAY_OPAQUE_XATTR, b"y")
            return
        got = self.root.open_dir(parent, what="whiteout")
        if got is None:
            return
        dfd, resolved = got
        created = self.created or set()
        lfd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dfd)
        try:
            names = os.listdir(lfd)
        finally:
            os.close(lfd)
        dfd = os.dup(dfd)
        try:
            for child in names:
                if _join(resolved, child) not in created:
                    self._remove(dfd, child)
        finally:
            os.close(dfd)

    # -- the end --------------------------------------------------------------------------

    def finish(self) -> None:
        """Set directory modes and mtimes, deepest first, now that nothing more is created."""
        items = sorted(self.dirs.items(), key=lambda kv: -kv[0][0].count("/") - bool(kv[0][0]))
        for (parent, name), (mode, mtime_ns) in items:
            got = self.root.open_dir(split_clean(parent), what="directory")
            if got is None:
                continue
            try:
                fd = os.open(name or ".", _PATH_FLAGS | os.O_DIRECTORY, dir_fd=got[0])
            except (FileNotFoundError, NotADirectoryError):
                continue  # replaced or removed by a later entry
            except OSError as err:
                if err.errno == errno.ELOOP:
                    continue
                raise
            try:
                where = self.root.proc_path(fd)
                os.chmod(where, mode)
                os.utime(where, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(fd)
