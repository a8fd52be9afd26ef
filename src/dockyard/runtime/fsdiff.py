"""What a container changed: Docker's `diff` entries from its overlay upper dir, and the paths
`commit` leaves out of the new layer.

The walk follows Docker's overlay `changes`: entries in lexical order, a 0/0 char device
(whiteout) or an opaque directory is a deletion, anything else is an addition unless a layer
below holds the path (a modification; a directory whose size, mode and mtime are unchanged is
not one). An addition or deletion whose parent directory was not recorded adds "C parent"
just before it.

Left out, as Docker's init layer keeps them out of a container's own layer: the files the
engine mounts over (/etc/hosts, /etc/hostname, /etc/resolv.conf, /.dockerenv), the system
mount points (/dev, /proc, /sys) and the destinations of binds, tmpfs and volumes; and a
directory that only holds such left-out entries and is new or otherwise looks as below (/etc
copied up only to hold the mount point of /etc/resolv.conf).

Every directory is opened relative to its parent's descriptor with O_NOFOLLOW, in the upper
dir and in the layers alike: a running container cannot steer the walk onto host paths.
"""

import os
import stat

from dockyard.linux.record import Record

MODIFY, ADD, DELETE = 0, 1, 2
KIND_LETTER = {MODIFY: "C", ADD: "A", DELETE: "D"}
ENGINE_PATHS = ("etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv", "dev", "proc", "sys")
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Change(Record):
    kind: int  # MODIFY, ADD, DELETE (Docker's numbers)
    path: str  # absolute, as Docker prints it
    __slots__ = _fields = ("kind", "path")

    def line(self) -> str:
        return f"{KIND_LETTER[self.kind]} {self.path}"


def excluded_paths(mount_destinations) -> frozenset[str]:
    """The relative paths (no leading "/") that are never part of the container's changes."""
    import posixpath

    out = set(ENGINE_PATHS)
    for dest in mount_destinations:
        rel = posixpath.normpath("/" + dest).lstrip("/")
        if rel:
            out.add(rel)
    return frozenset(out)


class _Node:
    """One upper-dir entry, with what the layers below hold at the same path."""

    __slots__ = ("children", "lower", "opaque", "rel", "st")

    def __init__(self, rel: str, st: os.stat_result, lower, opaque: bool):
        self.rel = rel
        self.st = st
        self.lower = lower  # lstat of the first layer below holding the path, or None
        self.opaque = opaque
        self.children: list[_Node] = []


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _opaque(fd: int) -> bool:
    for name in ("trusted.overlay.opaque", "user.overlay.opaque"):
        try:
            if os.getxattr(fd, name) == b"y":
                return True
        except OSError:
            pass
    return False


class _Walk:
    def __init__(self, excluded: frozenset[str]):
        self.excluded = excluded
        self.skip: set[str] = set()

    def children(self, ufd: int, rel: str, lowers: list[int | None]) -> tuple[list[_Node], bool]:
        """The kept entries below `rel`, and whether anything below was left out."""
        out: list[_Node] = []
        left_out = False
        for name in sorted(os.listdir(ufd)):
            crel = f"{rel}/{name}" if rel else name
            if crel in self.excluded:
                self.skip.add(crel)
                left_out = True
                continue
            try:
                st = os.stat(name, dir_fd=ufd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed meanwhile (a running container)
            lower, lower_fds = _below(lowers, name)
            node = _Node(crel, st, lower, False)
            if stat.S_ISDIR(st.st_mode):
                try:
                    fd = os.open(name, _DIR, dir_fd=ufd)
                except (FileNotFoundError, NotADirectoryError, OSError):
                    for lfd in lower_fds:
                        if lfd is not None:
                            os.close(lfd)
                    continue
                try:
                    node.opaque = _opaque(fd)
                    node.children, below_left_out = self.children(fd, crel, lower_fds)
                finally:
                    os.close(fd)
                    for lfd in lower_fds:
                        if lfd is not None:
                            os.close(lfd)
                if below_left_out and not node.children and _same_dir(node):
                    # only holds left-out entries (a copied-up /etc for a mount point)
                    self.skip.add(crel)
                    left_out = True
                    continue
            out.append(node)
        return out, left_out


def _below(lowers: list[int | None], name: str):
    """(lstat of `name` in the first layer holding it, the child dir fds per layer)."""
    first = None
    fds: list[int | None] = []
    hidden = False
    for lfd in lowers:
        if lfd is None or hidden:
            fds.append(None)
            continue
        try:
            st = os.stat(name, dir_fd=lfd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            fds.append(None)
            continue
        if _is_whiteout(st):
            hidden = True  # deleted in this layer: nothing further down shows
            fds.append(None)
            continue
        if first is None:
            first = st
        if stat.S_ISDIR(st.st_mode):
            try:
                fd = os.open(name, _DIR, dir_fd=lfd)
            except OSError:
                fd = None
            fds.append(fd)
            if fd is not None and _opaque(fd):
                hidden = True
        else:
            fds.append(None)
            hidden = True  # a non-directory hides the layers below
    return first, fds


def _same_dir(node: _Node) -> bool:
    """Is this directory, which holds only left-out entries, nothing of its own? New (made
    only to hold a mount point) or as below but for its times."""
    lo = node.lower
    if node.opaque:
        return False
    if lo is None:
        return True
    if not stat.S_ISDIR(lo.st_mode):
        return False
    st = node.st
    return st.st_mode == lo.st_mode and st.st_uid == lo.st_uid and st.st_gid == lo.st_gid


def scan(upper: str, lowers, excluded: frozenset[str]) -> tuple[list[Change], frozenset[str]]:
    """(Docker's changes in its order, the relative paths `commit` leaves out)."""
    walk = _Walk(excluded)
    ufd = os.open(upper, _DIR)
    lfds: list[int | None] = []
    try:
        for layer in lowers:
            try:
                lfds.append(os.open(layer, _DIR))
            except OSError:
                lfds.append(None)
        nodes, _ = walk.children(ufd, "", lfds)
    finally:
        os.close(ufd)
        for fd in lfds:
            if fd is not None:
                os.close(fd)
    out: list[Change] = []
    _changes(nodes, out, set())
    return out, frozenset(walk.skip)


def _changes(nodes: list[_Node], out: list[Change], changed_dirs: set[str]) -> None:
    for node in nodes:
        path = "/" + node.rel
        st = node.st
        is_dir = stat.S_ISDIR(st.st_mode)
        kind: int | None
        if _is_whiteout(st) or (is_dir and node.opaque):
            kind = DELETE
        elif node.lower is None:
            kind = ADD
        else:
            lo = node.lower
            kind = MODIFY
            same = (st.st_size, st.st_mode, st.st_mtime_ns) == (
                lo.st_size, lo.st_mode, lo.st_mtime_ns,
            )  # fmt: skip
            if is_dir and stat.S_ISDIR(lo.st_mode) and same:
                kind = None  # same directory: not a change by itself
        if kind is not None:
            if is_dir:
                changed_dirs.add(path)
            if kind in (ADD, DELETE):
                parent = path.rpartition("/")[0]
                if parent and parent not in changed_dirs:
                    out.append(Change(MODIFY, parent))
                    changed_dirs.add(parent)
            out.append(Change(kind, path))
        _changes(node.children, out, changed_dirs)
