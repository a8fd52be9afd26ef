"""Reading an image's files from its unpacked layers, without mounting and without escaping.

Before a container exists its root filesystem is a stack of snapshot directories (overlay
lowerdirs, top-most first). `read_file` finds a path the way overlay would: the first layer
holding it wins, a whiteout (0/0 char device) or an opaque parent hides what lies below.
Each lookup resolves symlinks clamped to that layer (`linux.paths.resolve_in_root`) and
opens with O_NOFOLLOW, so a hostile image cannot make the engine read a host file.
"""

import os

MAX_FILE = 1 << 20  # /etc/passwd and /etc/group larger than this are refused


def _is_whiteout(st: os.stat_result) -> bool:
    import stat

    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def read_file(layers, path: str, limit: int = MAX_FILE) -> str | None:
    """The text of `path` in the merged layers, or None when absent (or not a regular file)."""
    import stat

    from dockyard.errors import LimitExceeded
    from dockyard.linux.paths import resolve_in_root

    for layer in layers:
        host = resolve_in_root(layer, path)
        try:
            st = os.lstat(host)
        except (FileNotFoundError, NotADirectoryError):
            if _opaque_above(layer, host):
                return None
            continue
        if _is_whiteout(st) or not stat.S_ISREG(st.st_mode):
            return None
        try:
            fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            data = os.read(fd, limit + 1)
        finally:
            os.close(fd)
        if len(data) > limit:
            raise LimitExceeded(f"{path} in the image is larger than {limit} bytes")
        return data.decode("utf-8", errors="replace")
    return None


def _opaque_above(layer: str, host: str) -> bool:
    d = os.path.dirname(host)
    while len(d) > len(layer):
        try:
            if os.getxattr(d, "trusted.overlay.opaque", follow_symlinks=False) == b"y":
                return True
        except OSError:
            pass
        d = os.path.dirname(d)
    return False


def ensure_dir(layers, upper: str, path: str) -> None:
    """Create `path` in the container's upper dir when no layer has it (Docker creates -w)."""
    from dockyard.linux.paths import resolve_in_root

    for layer in layers:
        host = resolve_in_root(layer, path)
        if os.path.lexists(host):
            return
    target = resolve_in_root(upper, path)
    os.makedirs(target, 0o755, exist_ok=True)
