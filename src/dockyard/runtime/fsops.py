"""The work `cp` and `export` do inside a container's root (run by `fsaccess` in its child).

Each function gets a descriptor of the container's root. Paths are taken as Docker's
daemon takes them (`ResolvePath`: lexically cleaned as absolute, the trailing "/" or "/."
kept), then resolved component by component inside the root (`archive.rootdir.RootDir`):
a symlink, absolute or with `..`, is followed as if the root were `/`, and never by the
kernel from a path string. Archives are read with `archive.fdtree`, written with the safe
`archive.apply.apply_layer`.
"""

import os
import stat

from dockyard.errors import InvalidArgument, NotFound, PermissionDenied

MAX_SYMLINKS = 40
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def abs_path(path: str) -> str:
    """Docker's `PreserveTrailingDotOrSeparator(filepath.Join("/", path), path)`."""
    import posixpath

    clean = posixpath.normpath("/" + path)
    if clean.startswith("//"):
        clean = "/" + clean.lstrip("/")
    if path.endswith("/") and not clean.endswith("/"):
        clean += "/"
    elif (path == "." or path.endswith("/.")) and not clean.endswith("/."):
        clean = clean.rstrip("/") + "/."
    return clean


def base_name(path: str) -> str:
    """Go's `filepath.Base`."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    return stripped.rpartition("/")[2]


def _parts(path: str) -> list[str]:
    out: list[str] = []
    for p in path.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            if out:
                out.pop()
            continue
        out.append(p)
    return out


def _root(root_fd: int):
    from dockyard.archive.rootdir import RootDir

    return RootDir(f"/proc/self/fd/{root_fd}/")


def _open_dir(root, parts: list[str], shown: str):
    """(fd, resolved relative path) of the directory `parts`, symlinks clamped; the fd
    belongs to `root`'s cache. NotFound when missing, InvalidArgument on a non-directory."""
    try:
        got = root.open_dir(parts, what="path")
    except InvalidArgument:
        raise InvalidArgument(f"{shown}: not a directory") from None
    if got is None:
        raise NotFound(f"{shown}: no such file or directory")
    return got


def _follow(root, parts: list[str], shown: str):
    """Resolve `parts` with the last component followed too: (dir fd, dir rel, name);
    name is "" for the root itself. The name need not exist."""
    hops = 0
    while True:
        if not parts:
            fd, _ = _open_dir(root, [], shown)
            return fd, "", ""
        dfd, drel = _open_dir(root, parts[:-1], shown)
        name = parts[-1]
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return dfd, drel, name
        if not stat.S_ISLNK(st.st_mode):
            return dfd, drel, name
        hops += 1
        if hops > MAX_SYMLINKS:
            raise InvalidArgument(f"{shown}: too many levels of symbolic links")
        text = os.readlink(name, dir_fd=dfd)
        base = [] if text.startswith("/") else ([p for p in drel.split("/") if p])
        parts = _parts("/".join(base) + "/" + text)


def _stat_dict(name: str, st: os.stat_result, link: str) -> dict:
    return {
        "name": name,
        "size": st.st_size,
        "mode": st.st_mode,
        "mtime": st.st_mtime_ns,
        "link_target": link,
    }


def _lookup(root, path: str):
    """Docker's ResolvePath + StatPath: (dir fd, base or "" for the dir itself, lstat)."""
    absp = abs_path(path)
    head, _, base = absp.rpartition("/")
    dfd, _ = _open_dir(root, _parts(head), absp)
    if base in ("", "."):
        return dfd, "", os.fstat(dfd)
    try:
        st = os.stat(base, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        raise NotFound(f"{absp}: no such file or directory") from None
    return dfd, base, st


def stat_path(root_fd: int, path: str) -> dict:
    """Docker's ContainerPathStat of `path` (the last component not followed)."""
    with _root(root_fd) as root:
        _, _, st = _lookup(root, path)
        link = ""
        if stat.S_ISLNK(st.st_mode):
            _, drel, name = _follow(root, _parts(path), abs_path(path))
            link = "/" + "/".join(p for p in (drel, name) if p)
        return _stat_dict(base_name(abs_path(path)), st, link)


def archive(root_fd: int, path: str, out_fd: int, rebase: str | None) -> dict:
    """Write `path` as a tar to `out_fd`, its entries named from `rebase` (default: its own
    base name; a directory's contents only when that is "/"). Returns its stat."""
    from dockyard.archive.fdtree import TreeWriter
    from dockyard.archive.tarwriter import TarWriter

    absp = abs_path(path)
    name = base_name(absp)
    arc = name if rebase is None else rebase
    if arc == "/":
        arc = ""
    with _root(root_fd) as root, open(out_fd, "wb", buffering=0, closefd=False) as out:
        dfd, base, st = _lookup(root, path)
        w = TarWriter(out)
        tw = TreeWriter(w)
        if not base or stat.S_ISDIR(st.st_mode):
            fd = os.open(base or ".", _DIR, dir_fd=dfd)  # the cache's fds are O_PATH
            try:
                tw.add_root(fd, arc)
            finally:
                os.close(fd)
        else:
            tw.add(dfd, base, arc)
        w.close()
        return _stat_dict(name, st, "")


def extract(root_fd: int, path: str, in_fd: int, same_owner: bool, readonly_rootfs: bool,
            volumes: list[str], readonly_volumes: list[str]) -> int:  # fmt: skip
    """Apply the tar on `in_fd` into the directory `path` (every symlink followed inside the
    root, the last one too, as Docker's extract does). Returns the entries applied."""
    from dockyard.archive.apply import apply_layer
    from dockyard.archive.limits import Limits

    absp = abs_path(path)
    with _root(root_fd) as root:
        dfd, drel, name = _follow(root, _parts(absp), absp)
        if name:
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                raise NotFound(f"{absp}: no such file or directory") from None
            if not stat.S_ISDIR(st.st_mode):
                raise InvalidArgument("extraction point is not a directory")
            fd = os.open(name, _DIR, dir_fd=dfd)
        else:
            fd = os.dup(dfd)
    try:
        resolved = "/" + "/".join(p for p in (drel, name) if p)
        if _in_volume(resolved, readonly_volumes):
            raise PermissionDenied("mounted volume is marked read-only")
        if readonly_rootfs and not _in_volume(resolved, volumes):
            raise PermissionDenied("container rootfs is marked read-only")
        with open(in_fd, "rb", buffering=1 << 20, closefd=False) as src:
            res = apply_layer(
                src, f"/proc/self/fd/{fd}/", whiteouts="none", limits=Limits(),
                same_owner=same_owner, replace_dirs=False,
            )  # fmt: skip
        return res.entries
    finally:
        os.close(fd)


def _in_volume(path: str, volumes: list[str]) -> bool:
    for v in volumes:
        v = v.rstrip("/") or "/"
        if path == v or path.startswith(v + "/"):
            return True
    return False


def export(root_fd: int, out_fd: int) -> None:
    """The whole root as a tar (no entry for the root itself)."""
    from dockyard.archive.fdtree import TreeWriter
    from dockyard.archive.tarwriter import TarWriter

    with open(out_fd, "wb", buffering=0, closefd=False) as out:
        w = TarWriter(out)
        TreeWriter(w).add_root(root_fd, "")
        w.close()
