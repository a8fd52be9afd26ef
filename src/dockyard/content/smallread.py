"""`read_small`: one small blob, verified, straight from the store's layout — for start-up
paths (`run` reads one image config) that should not import the content store itself."""

import os

_HEX = frozenset("0123456789abcdef")


def read_small(root: str, digest: str, limit: int) -> bytes | None:
    """The blob's bytes when it is a sha256 blob of at most `limit` bytes that hashes to its
    name; None for anything else (another algorithm, missing, oversized, corrupt): the
    caller asks `ContentStore.read`, which raises the right error."""
    alg, _, want = digest.partition(":")
    if alg != "sha256" or len(want) != 64 or not _HEX.issuperset(want):
        return None
    try:
        fd = os.open(os.path.join(root, "blobs", "sha256", want), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1) if size <= limit else b""
    finally:
        os.close(fd)
    # the builtin module: hashlib loads OpenSSL (~3 ms), which one small blob never repays
    from _sha256 import sha256

    if data and len(data) == size and sha256(data).hexdigest() == want:
        return data
    return None
