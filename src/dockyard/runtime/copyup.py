"""Docker's volume copy-up: an empty volume mounted where the image has content starts as a
copy of that content (files, directories, symlinks, fifos and devices, with owners, modes,
times and extended attributes), and the volume's root takes the directory's owner and mode.

The image is a stack of layer directories (top-most first), read the way overlay merges
them: the first layer holding a name wins, a whiteout hides it, an opaque directory hides
the layers below. The path is resolved in that merged view with every symlink clamped to
the image's root, and no symlink is ever followed on either side: sources are looked up
with lstat below directories known to be real, opened with O_NOFOLLOW; everything in the
volume is created relative to a directory descriptor, exclusively (O_EXCL, mkdir), so a
link placed in the volume cannot send a write elsewhere.
"""

import os
import stat

from dockyard.archive.whiteouts import is_overlay_opaque, is_overlay_whiteout

MAX_SYMLINKS = 40
MAX_DEPTH = 512
_BUF = 1 << 20
_SKIP_XATTR = ("trusted.overlay.",)


def _child_layers(dirs, name: str):
    """The layer directories that make up `name` below the merged directory `dirs`
    (a list of real directories, top-most first): None when absent, else (lstat of the
    top entry, [its directory in each contributing layer] if it is a directory)."""
    top = None
    below: list[str] = []
    for d in dirs:
        p = os.path.join(d, name)
        try:
            st = os.lstat(p)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if top is None:
            if is_overlay_whiteout(st):
                return None
            top = st
            if not stat.S_ISDIR(st.st_mode):
                return top, []
            below.append(p)
            if is_overlay_opaque(p):
                break
            continue
        if not stat.S_ISDIR(st.st_mode):
            break  # a whiteout or a non-directory ends the merge
        below.append(p)
        if is_overlay_opaque(p):
            break
    if top is None:
        return None
    return top, below


def clamp(layers, path: str) -> str:
    """`path` in the merged image with every symlink resolved inside the image (an
    absolute link restarts at its root, ".." stops there); missing parts kept literally."""
    roots = [os.path.abspath(layer) for layer in layers if os.path.isdir(layer)]
    pending = [p for p in path.split("/") if p not in ("", ".")]
    pending.reverse()
    done: list[str] = []
    links = 0
    while pending:
        part = pending.pop()
        if part == "..":
            if done:
                done.pop()
            continue
        dirs = _merged(roots, done)
        found = _child_layers(dirs, part) if dirs else None
        if found is None or not stat.S_ISLNK(found[0].st_mode):
            done.append(part)
            continue
        links += 1
        if links > MAX_SYMLINKS:
            from dockyard.errors import InvalidArgument

            raise InvalidArgument(f"too many levels of symbolic links in {path!r}")
        top = next(d for d in dirs if os.path.lexists(os.path.join(d, part)))
        target = os.readlink(os.path.join(top, part))
        if target.startswith("/"):
            done = []
        pending.extend(reversed([p for p in target.split("/") if p not in ("", ".")]))
    return "/" + "/".join(done)


def resolve(layers, path: str):
    """The merged directory at `path` (its layer directories, top-most first), following
    symlinks inside the image only; None when it is absent or not a directory."""
    roots = [os.path.abspath(layer) for layer in layers if os.path.isdir(layer)]
    return _merged(roots, [p for p in clamp(layers, path).split("/") if p])


def _merged(roots, parts):
    """The merged directory for `parts`, all of which are known real directories."""
    dirs = list(roots)
    for part in parts:
        found = _child_layers(dirs, part)
        if found is None or not found[1]:
            return None
        dirs = found[1]
    return dirs


def _entries(dirs):
    """(name, lstat, layer directory holding it, child dirs if a directory) of a merged
    directory, names sorted; whiteouts and hidden entries left out."""
    names: set[str] = set()
    for d in dirs:
        try:
            names.update(os.listdir(d))
        except OSError:
            pass
        if is_overlay_opaque(d):
            break
    out = []
    for name in sorted(names):
        found = _child_layers(dirs, name)
        if found is None:
            continue
        st, below = found
        holder = next(d for d in dirs if os.path.lexists(os.path.join(d, name)))
        out.append((name, st, holder, below))
    return out


def fill(layers, path: str, target: str) -> bool:
    """Copy the image's content at `path` into the directory `target` if it is empty;
    True when something was copied."""
    dfd = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if os.listdir(dfd):
            return False
        dirs = resolve(layers, path)
        if not dirs:
            return False
        _copy_dir(dirs, dfd, 0)
        st = os.lstat(dirs[0])
        _own(dfd, st, os.listxattr(dirs[0], follow_symlinks=False), dirs[0])
        return True
    finally:
        os.close(dfd)


def _copy_dir(dirs, dfd: int, depth: int) -> None:
    from dockyard.errors import LimitExceeded

    if depth > MAX_DEPTH:
        raise LimitExceeded(f"the image's directory tree is deeper than {MAX_DEPTH}")
    for name, st, holder, below in _entries(dirs):
        src = os.path.join(holder, name)
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            os.mkdir(name, 0o700, dir_fd=dfd)
            cfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                          dir_fd=dfd)  # fmt: skip
            try:
                _copy_dir(below, cfd, depth + 1)
                _own(cfd, st, _xattrs(src), src)
            finally:
                os.close(cfd)
        elif stat.S_ISREG(mode):
            _copy_file(src, name, dfd, st)
        elif stat.S_ISLNK(mode):
            os.symlink(os.readlink(src), name, dir_fd=dfd)
            os.chown(name, st.st_uid, st.st_gid, dir_fd=dfd, follow_symlinks=False)
            os.utime(name, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dfd,
                     follow_symlinks=False)  # fmt: skip
        elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            os.mknod(name, stat.S_IFMT(mode) | 0o600, st.st_rdev, dir_fd=dfd)
            fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            try:
                # through /proc: chmod and chown of an O_PATH descriptor
                at = f"/proc/self/fd/{fd}"
                os.chown(at, st.st_uid, st.st_gid)
                os.chmod(at, stat.S_IMODE(mode))
                os.utime(at, ns=(st.st_atime_ns, st.st_mtime_ns))
            finally:
                os.close(fd)
        # sockets are not copied (Docker's copy skips them too)


def _copy_file(src: str, name: str, dfd: int, st) -> None:
    sfd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(sfd).st_mode):
            return  # swapped since the lstat: not what was listed
        wfd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                      0o600, dir_fd=dfd)  # fmt: skip
        try:
            _copy_data(sfd, wfd)
            _own(wfd, st, _xattrs_fd(sfd), sfd)
        finally:
            os.close(wfd)
    finally:
        os.close(sfd)


def _copy_data(sfd: int, wfd: int) -> None:
    while True:
        try:
            n = os.copy_file_range(sfd, wfd, _BUF)
        except OSError:
            break  # not across these filesystems: copy through memory
        if n == 0:
            return
    os.lseek(wfd, os.lseek(sfd, 0, os.SEEK_CUR), os.SEEK_SET)
    while chunk := os.read(sfd, _BUF):
        view = memoryview(chunk)
        while view:
            view = view[os.write(wfd, view) :]


def _xattrs(path: str):
    try:
        return os.listxattr(path, follow_symlinks=False)
    except OSError:
        return []


def _xattrs_fd(fd: int):
    try:
        return os.listxattr(fd)
    except OSError:
        return []


def _own(fd: int, st, xattrs, src) -> None:
    """Owner, then mode (chown clears set-id bits), extended attributes and times."""
    os.fchown(fd, st.st_uid, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    for key in xattrs:
        if key.startswith(_SKIP_XATTR):
            continue
        try:
            if isinstance(src, int):
                value = os.getxattr(src, key)
            else:
                value = os.getxattr(src, key, follow_symlinks=False)
            os.setxattr(fd, key, value)
        except OSError:
            pass  # an attribute this filesystem or this caller cannot set: the copy stands
    os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
