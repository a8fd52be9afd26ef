"""Resolve a path inside a root directory the way the container will see it.

Symlinks are followed but clamped to the root (an absolute link restarts at the root,
".." never climbs above it), so an image cannot point a mount target at the host.
Missing components are kept literally; the caller creates them under the resolved parent.
"""

import os
import stat

MAX_SYMLINKS = 40


def resolve_in_root(root: str, path: str) -> str:
    """The host path that `path` names inside `root`, with every existing symlink resolved."""
    from dockyard.errors import InvalidArgument

    root = os.path.abspath(root)
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
        cur = os.path.join(root, *done, part)
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            done.append(part)
            continue
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > MAX_SYMLINKS:
                raise InvalidArgument(f"too many levels of symbolic links in {path!r}")
            target = os.readlink(cur)
            if target.startswith("/"):
                done = []
            more = [p for p in target.split("/") if p not in ("", ".")]
            pending.extend(reversed(more))
            continue
        done.append(part)
    return os.path.join(root, *done)


def is_within(root: str, path: str) -> bool:
    root = os.path.abspath(root)
    path = os.path.abspath(path)
    return path == root or path.startswith(root.rstrip("/") + "/")


def open_verified(root: str, host_path: str) -> int:
    """O_PATH fd of `host_path`, checked (through /proc/self/fd) to still lie inside `root`.

    Mounting onto /proc/self/fd/<fd> then hits exactly the checked object, even if a
    component was swapped for a symlink after `resolve_in_root` looked at it.
    """
    from dockyard.errors import PermissionDenied

    fd = os.open(host_path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    real = os.readlink(f"/proc/self/fd/{fd}")
    if not is_within(root, real):
        os.close(fd)
        raise PermissionDenied(f"mount target {host_path} escapes the container root")
    return fd
