"""Small durable filesystem steps the registry's storage is built from."""

import os

from dockyard.content.layout import fsync_dir, make_dirs


def write_atomic(path: str, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file, never a mix."""
    parent = os.path.dirname(path)
    make_dirs(parent)
    # Temp names start with ".", which no tag, digest or repository component can.
    tmp = os.path.join(parent, f".tmp-{os.urandom(6).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.rename(tmp, path)
    fsync_dir(parent)


def read_small(path: str, limit: int = 1 << 16) -> bytes | None:
    """The contents of a small file, or None if it does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except (FileNotFoundError, NotADirectoryError):
        return None


def remove(path: str) -> bool:
    """Unlink `path` durably; False if it was not there."""
    try:
        os.unlink(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    fsync_dir(os.path.dirname(path))
    return True


def listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []


__all__ = ["fsync_dir", "listdir", "make_dirs", "read_small", "remove", "write_atomic"]
