"""A directory tree opened as a root: every lookup walks it with openat, clamped inside it.

Paths are resolved one component at a time with O_NOFOLLOW; `..` never goes above the root and
a symlink met on the way is resolved by us as if the root were `/` (like a chroot), or refused
in strict mode. The kernel never follows a symlink or `..` on our behalf, so nothing reached
through a RootDir is outside it.
"""

import errno
import os
import stat

from dockyard.errors import InvalidArgument

_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_SYMLINKS = 40
_CACHE_SIZE = 256


def split_clean(path: str, what: str = "path") -> list[str]:
    """Components of `path` taken relative to the root: no "", ".", and `..` applied lexically.

    A `..` that would climb above the root is refused (InvalidArgument).
    """
    parts: list[str] = []
    for p in path.split("/"):
        if p == "" or p == ".":
            continue
        if p == "..":
            if not parts:
                raise InvalidArgument(f"{what} {path!r} escapes the root")
            parts.pop()
        else:
            parts.append(p)
    return parts


class RootDir:
    """An open root directory with a small cache of resolved parent directories."""

    def __init__(self, path: str):
        self.path = path
        self.fd = os.open(path, _DIR_FLAGS)
        self._cache: dict[str, tuple[int, str]] = {}
        self._retired: list[int] = []

    def close(self) -> None:
        self.invalidate()
        self.release()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "RootDir":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def invalidate(self) -> None:
        """Forget cached lookups (after a directory or symlink was removed or replaced).

        The fds stay open until release(), so a caller still holding one may finish with it.
        """
        self._retired.extend(fd for fd, _ in self._cache.values())
        self._cache.clear()

    def release(self) -> None:
        """Close the fds retired by invalidate(); call between operations."""
        for fd in self._retired:
            os.close(fd)
        self._retired.clear()

    def proc_path(self, dir_fd: int, name: str = "") -> str:
        """A path naming `name` in `dir_fd` through /proc, for calls that take no dir_fd."""
        return f"/proc/self/fd/{dir_fd}/{name}" if name else f"/proc/self/fd/{dir_fd}"

    def open_dir(
        self, parts: list[str], *, create: bool = False, strict: bool = False, what: str = "path"
    ) -> tuple[int, str] | None:
        """Open the directory named by `parts` inside the root, following symlinks clamped.

        Returns (fd, resolved path relative to the root) — the fd is owned by the cache, do not
        close it — or None when a component is missing and `create` is false. Missing
        directories are created 0755 when `create`. In `strict` mode a symlink that leaves the
        root (absolute, or `..` above it) is refused. A non-directory on the way is refused.
        """
        key = "/".join(parts)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        got = self._walk(parts, create, strict, what)
        if got is None:
            return None
        if len(self._cache) >= _CACHE_SIZE:
            self.invalidate()
        self._cache[key] = got
        return got

    def _walk(
        self, parts: list[str], create: bool, strict: bool, what: str
    ) -> tuple[int, str] | None:
        # stack of (fd, name) for the directories resolved so far; the root is implicit
        stack: list[tuple[int, str]] = []
        pending = list(reversed(parts))
        hops = 0
        shown = "/".join(parts)
        try:
            while pending:
                name = pending.pop()
                if name in ("", "."):
                    continue
                if name == "..":
                    if stack:
                        os.close(stack.pop()[0])
                    elif strict:
                        raise InvalidArgument(
                            f"{what} {shown!r} escapes the root through a symlink"
                        )
                    continue
                cur = stack[-1][0] if stack else self.fd
                try:
                    fd = os.open(name, _DIR_FLAGS, dir_fd=cur)
                except FileNotFoundError:
                    if not create:
                        return None
                    os.mkdir(name, 0o755, dir_fd=cur)
                    fd = os.open(name, _DIR_FLAGS, dir_fd=cur)
                except OSError as e:
                    if e.errno not in (errno.ENOTDIR, errno.ELOOP):
                        raise
                    st = os.stat(name, dir_fd=cur, follow_symlinks=False)
                    if not stat.S_ISLNK(st.st_mode):
                        raise InvalidArgument(f"{what} {shown!r}: {name!r} is not a directory")
                    hops += 1
                    if hops > MAX_SYMLINKS:
                        raise InvalidArgument(f"{what} {shown!r}: too many levels of symlinks")
                    text = os.readlink(name, dir_fd=cur)
                    if text.startswith("/"):
                        if strict:
                            raise InvalidArgument(
                                f"{what} {shown!r} escapes the root through a symlink"
                            )
                        while stack:
                            os.close(stack.pop()[0])
                    pending.extend(reversed(text.split("/")))
                    continue
                stack.append((fd, name))
        except BaseException:
            for fd, _ in stack:
                os.close(fd)
            raise
        resolved = "/".join(n for _, n in stack)
        for fd, _ in stack[:-1]:
            os.close(fd)
        if not stack:
            return os.dup(self.fd), ""
        return stack[-1][0], resolved
