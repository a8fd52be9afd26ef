"""Resolve a path inside a root directory the way a chroot would, for `cp` and build COPY.

Symlinks are followed, but an absolute target restarts at the root and `..` stops at the root,
so the result is always a host path inside root. Components that do not exist yet are appended
as they are (the caller may be about to create them).
"""

import os
import stat

from dockyard.errors import InvalidArgument

MAX_SYMLINKS = 40


def resolve_in_root(root: str, path: str) -> str:
    """The host path of `path` seen from inside `root` (symlinks followed, clamped to root)."""
    root = os.path.abspath(root)
    pending = [p for p in reversed(path.split("/"))]
    done: list[str] = []
    hops = 0
    missing = False
    while pending:
        name = pending.pop()
        if name in ("", "."):
            continue
        if name == "..":
            if done:
                done.pop()
            continue
        if missing:
            done.append(name)
            continue
        host = os.path.join(root, *done, name)
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            missing = True
            done.append(name)
            continue
        except NotADirectoryError:
            raise InvalidArgument(f"{path!r}: {'/'.join(done)!r} is not a directory")
        if not stat.S_ISLNK(st.st_mode):
            done.append(name)
            continue
        hops += 1
        if hops > MAX_SYMLINKS:
            raise InvalidArgument(f"{path!r}: too many levels of symbolic links")
        text = os.readlink(host)
        if text.startswith("/"):
            done.clear()
        pending.extend(reversed(text.split("/")))
    return os.path.join(root, *done) if done else root
