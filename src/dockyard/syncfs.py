"""`syncfs(path)`: flush the filesystem holding a path once (syncfs(2)) — what batched
durability uses instead of an fsync per file (content blobs, snapshots)."""

import os


def syncfs(path: str) -> None:
    """Flush every dirty page and inode of the filesystem holding `path`."""
    from dockyard import cdata

    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc = cdata.CDLL(None, use_errno=True)
        if libc.syncfs(fd) != 0:
            err = cdata.get_errno()
            raise OSError(err, os.strerror(err), path)
    finally:
        os.close(fd)
