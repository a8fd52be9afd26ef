"""ContentStore: the local content-addressed blob store (blobs by digest, resumable ingests).

Blobs appear under their digest only once complete, durable and verified (see writer.py);
reads that return bytes verify them, so a corrupt blob is reported, never used. Nothing is
created on disk until the first write.
"""

from __future__ import annotations

import os

from dockyard import digest as _digest
from dockyard.content import ingest as _ingest
from dockyard.content.layout import blob_path, blobs_dir, ingest_root
from dockyard.content.verify import check_file
from dockyard.content.writer import ContentWriter
from dockyard.errors import DataLoss, InvalidArgument, LimitExceeded, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are never evaluated
    from collections.abc import Iterator
    from typing import BinaryIO


def _not_found(digest: str) -> NotFound:
    return NotFound(f"blob {digest} not found")


class ContentStore:
    def __init__(self, root: str):
        self.root = root

    def path(self, digest: str) -> str:
        return blob_path(self.root, digest)

    def has(self, digest: str) -> bool:
        return os.path.isfile(self.path(digest))

    def size(self, digest: str) -> int:
        try:
            return os.stat(self.path(digest)).st_size
        except FileNotFoundError:
            raise _not_found(digest)

    def read(self, digest: str, max_size: int | None = None) -> bytes:
        """The blob's bytes, verified against its digest (DataLoss if they do not match)."""
        path = self.path(digest)
        try:
            with open(path, "rb", buffering=0) as f:
                size = os.fstat(f.fileno()).st_size
                if max_size is not None and size > max_size:
                    raise LimitExceeded(
                        f"blob {digest} is {size} bytes, more than the limit of {max_size}"
                    )
                data = f.readall()
        except FileNotFoundError:
            raise _not_found(digest)
        alg = digest.partition(":")[0]
        if alg == _digest.SHA256:  # small documents: no OpenSSL load (see sha256_bytes)
            actual = _digest.sha256_bytes(data)
        else:
            h = _digest.new_hasher(alg)
            h.update(data)
            actual = f"{alg}:{h.hexdigest()}"
        if actual != digest:
            raise DataLoss(f"blob {digest} is corrupt: its content hashes to {actual}")
        return data

    def open(self, digest: str) -> BinaryIO:
        """The raw stored bytes, unverified: wrap in VerifyingReader to check them."""
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise _not_found(digest)

    def put(self, data: bytes, expected: str | None = None, durable: bool = True) -> str:
        """Store a small document and return its digest (`durable`: see ContentWriter.commit)."""
        alg = _digest.split(expected)[0] if expected is not None else _digest.SHA256
        h = _digest.new_hasher(alg)
        h.update(data)
        actual = f"{alg}:{h.hexdigest()}"
        if expected is not None and actual != expected:
            raise InvalidArgument(f"digest mismatch: expected {expected}, got {actual}")
        if self.has(actual):
            return actual
        w = self.writer(_private_ref(), actual, len(data), resume=False)
        try:
            w.write(data)
            return w.commit(durable)
        finally:
            if not w.closed:
                w.abort()

    def writer(
        self, ref: str, expected: str | None = None, size: int | None = None, resume: bool = True
    ) -> ContentWriter:
        """A writer for `ref`, resuming its partial data; Unavailable while another holds it.
        `resume=False` is for a ref used once (a random one): it starts afresh and leaves
        nothing a later writer could resume."""
        return ContentWriter(self.root, ref, expected, size, resume)

    def ingest(
        self,
        src: BinaryIO,
        expected: str | None = None,
        size: int | None = None,
        durable: bool = True,
    ) -> tuple[str, int]:
        """Copy a whole stream into the store; return (digest, size). Nothing is kept on failure."""
        w = self.writer(_private_ref(), expected, size, resume=False)
        try:
            n = w.copy_from(src)
            return w.commit(durable), n
        finally:
            if not w.closed:
                w.abort()

    def sync(self) -> None:
        """Flush blobs committed with `durable=False` (one syncfs of the store's filesystem)."""
        from dockyard.content.durable import sync_paths

        sync_paths(self.root)

    def delete(self, digest: str) -> None:
        try:
            os.unlink(self.path(digest))
        except FileNotFoundError:
            raise _not_found(digest)

    def digests(self) -> Iterator[str]:
        """Every stored digest (entries that are not digests are ignored)."""
        try:
            algs = sorted(e.name for e in os.scandir(blobs_dir(self.root)) if e.is_dir())
        except FileNotFoundError:
            return
        for alg in algs:
            try:
                it = os.scandir(os.path.join(blobs_dir(self.root), alg))
            except FileNotFoundError:
                continue
            with it:
                for entry in it:
                    d = f"{alg}:{entry.name}"
                    if _digest.is_digest(d) and entry.is_file(follow_symlinks=False):
                        yield d

    def verify(self, digest: str) -> None:
        """DataLoss (naming the digest) unless the stored bytes hash to it; NotFound if absent."""
        try:
            check_file(self.path(digest), digest)
        except FileNotFoundError:
            raise _not_found(digest)

    def sweep_ingest(self, older_than: float) -> int:
        """Remove ingests idle for `older_than` seconds or more and not held by a live writer.

        Returns how many were removed. `older_than` is an age in seconds (0 sweeps every
        ingest that no live writer holds).
        """
        import time

        return _ingest.sweep(ingest_root(self.root), older_than, time.time())


def _private_ref() -> str:
    # A ref nobody else uses: concurrent ingests of one digest never contend for a lock.
    return "private-" + os.urandom(16).hex()
