"""Checking bytes against the digest they claim: whole files, and streams as they are read."""

from __future__ import annotations

import io
import os

from dockyard import digest as _digest
from dockyard.content.layout import BUF_SIZE
from dockyard.errors import DataLoss

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are never evaluated
    from typing import BinaryIO


def hash_fd(fd: int, algorithm: str = _digest.SHA256) -> tuple[object, int]:
    """Hash everything readable from `fd` (from its current position); return (hasher, length)."""
    h = _digest.new_hasher(algorithm)
    buf = bytearray(BUF_SIZE)
    view = memoryview(buf)
    total = 0
    while True:
        n = os.readv(fd, [buf])
        if not n:
            return h, total
        h.update(view[:n])
        total += n


def check_file(path: str, digest: str) -> None:
    """Raise DataLoss unless the file at `path` hashes to `digest` (FileNotFoundError if absent)."""
    alg, _ = _digest.split(digest)
    fd = os.open(path, os.O_RDONLY)
    try:
        h, _ = hash_fd(fd, alg)
    finally:
        os.close(fd)
    actual = f"{alg}:{h.hexdigest()}"
    if actual != digest:
        raise DataLoss(f"blob {digest} is corrupt: its content hashes to {actual}")


class VerifyingReader(io.RawIOBase):
    """A read-only stream over `f` that raises DataLoss at EOF unless the bytes matched.

    The size is checked as bytes arrive too, so a stream longer than `expected_size` fails
    as soon as it overflows instead of being read to its (possibly endless) end. Closing
    the reader closes `f`.
    """

    def __init__(self, f: BinaryIO, expected_digest: str, expected_size: int | None = None):
        super().__init__()
        alg, _ = _digest.split(expected_digest)
        self._f = f
        self._digest = expected_digest
        self._size = expected_size
        self._hasher = _digest.new_hasher(alg)
        self._alg = alg
        self._seen = 0
        self._checked = False
        self._failure: str | None = None

    def readable(self) -> bool:
        return True

    def _account(self, chunk) -> None:
        self._hasher.update(chunk)
        self._seen += len(chunk)
        if self._size is not None and self._seen > self._size:
            raise DataLoss(
                f"blob {self._digest} is corrupt: more than the expected {self._size} bytes"
            )

    def _finish(self) -> None:
        if not self._checked:
            self._checked = True
            self._failure = self._mismatch()
        if self._failure is not None:
            # Every read at EOF fails again: a caller that swallowed it cannot carry on.
            raise DataLoss(self._failure)

    def _mismatch(self) -> str | None:
        if self._size is not None and self._seen != self._size:
            return f"blob {self._digest} is corrupt: {self._seen} bytes, expected {self._size}"
        actual = f"{self._alg}:{self._hasher.hexdigest()}"
        if actual != self._digest:
            return f"blob {self._digest} is corrupt: its content hashes to {actual}"
        return None

    def readinto(self, b) -> int:
        n = self._f.readinto(b) if hasattr(self._f, "readinto") else self._copy_read(b)
        if n:
            self._account(memoryview(b)[:n])
        elif len(b):
            self._finish()
        return n or 0

    def _copy_read(self, b) -> int:
        chunk = self._f.read(len(b))
        n = len(chunk)
        memoryview(b)[:n] = chunk
        return n

    def read(self, size: int = -1) -> bytes:
        # Read straight from the wrapped stream: RawIOBase.read would add a copy per call.
        if size is None or size < 0:
            return self.readall()
        chunk = self._f.read(size)
        if chunk:
            self._account(chunk)
        elif size:
            self._finish()
        return chunk

    def readall(self) -> bytes:
        parts = []
        while True:
            chunk = self.read(BUF_SIZE)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)

    def close(self) -> None:
        if not self.closed:
            try:
                self._f.close()
            finally:
                super().close()
