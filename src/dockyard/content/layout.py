"""Where the content store keeps things on disk, and the small filesystem steps it relies on.

    <root>/blobs/<alg>/<hex>     final blobs, read-only (0444), named by their digest
    <root>/ingest/<ref-hash>/    one partial write: data, record, lock

Every path below the root is derived from a validated digest or from the sha256 of a ref,
so no caller-supplied string ever becomes a path component.
"""

import os

from dockyard import digest as _digest

DIR_MODE = 0o700
BLOB_MODE = 0o444
FILE_MODE = 0o600
BUF_SIZE = 1 << 20

DATA = "data"
RECORD = "record"
LOCK = "lock"


def blobs_dir(root: str) -> str:
    return os.path.join(root, "blobs")


def ingest_root(root: str) -> str:
    return os.path.join(root, "ingest")


def blob_path(root: str, digest: str) -> str:
    """Path of the blob named `digest`; InvalidArgument for anything that is not a digest."""
    alg, hexpart = _digest.split(digest)
    return os.path.join(root, "blobs", alg, hexpart)


def ingest_dir(root: str, ref: str) -> str:
    """The ingest directory of a ref: named by the ref's sha256, so any ref is a safe name."""
    import hashlib

    return os.path.join(root, "ingest", hashlib.sha256(ref.encode()).hexdigest())


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: str, durable: bool = False) -> None:
    """Create `path` and its missing parents with mode 0700.

    `durable` also fsyncs each parent that gained an entry: needed on the way to a blob,
    not for an ingest directory (a partial write lost in a power cut is simply redone).
    """
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    if parent and parent != path:
        make_dirs(parent, durable)
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        return
    # mkdir honours the umask; the store's directories are private whatever it is.
    os.chmod(path, DIR_MODE)
    if durable:
        fsync_dir(parent)
