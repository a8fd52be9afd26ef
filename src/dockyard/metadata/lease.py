"""Keeping new content alive while it is being made: the GC lock and leases.

GC deletes whatever no root reaches. Content that is still being written (a pull between its
first blob and its image record, a snapshot being unpacked, a build step) is reached by no
image yet, so its creator must protect it:

    from dockyard.metadata.lease import Lease, gc_lock_path

    with Lease(meta, gc_lock_path(config.root)) as lease:
        lease.add("content", manifest_digest)       # before writing, when the digest is known
        content.put(...)                            # or add right after, when it is not
        lease.add("snapshot", chain_id)
        snapshots.create(chain_id, parent, fill)
        meta.put_image(...); meta.set_tag(...)      # now a root reaches it all
    # leaving the block deletes the lease; what is still unreachable is garbage again

Two mechanisms work together:
- the lease record names what to keep (kind "content": a blob digest; "snapshot": a snapshot
  key and, implicitly, its ancestors). It survives a crash of its creator until `expires_at`,
  so an interrupted pull can resume without re-downloading.
- `<data root>/gc.lock`: creators hold it shared while they work and GC holds it exclusively,
  so GC never runs between a blob landing and its digest reaching the lease. Do not call GC
  from inside a `Lease` block of the same process: it would wait for itself (it gives up with
  Unavailable after its timeout).
"""

import os
import time

from dockyard.errors import NotFound, Unavailable

DEFAULT_LEASE_TTL = 24 * 3600.0
GC_LOCK_NAME = "gc.lock"


def gc_lock_path(data_root: str) -> str:
    return os.path.join(data_root, GC_LOCK_NAME)


def _open_lock(path: str) -> int:
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)


class GcLock:
    """An flock on the GC lock file: shared for creators, exclusive for the collector."""

    def __init__(self, path: str, *, exclusive: bool, timeout: float | None = None):
        self.path = path
        self.exclusive = exclusive
        self.timeout = timeout
        self._fd = -1

    def __enter__(self) -> "GcLock":
        import fcntl

        fd = _open_lock(self.path)
        mode = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        try:
            if self.timeout is None:
                fcntl.flock(fd, mode)
            else:
                self._poll(fd, mode | fcntl.LOCK_NB)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def _poll(self, fd: int, mode: int) -> None:
        import fcntl

        deadline = time.monotonic() + self.timeout
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, mode)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Unavailable(
                        f"timed out after {self.timeout:g}s waiting for {self.path} "
                        "(garbage collection or content creation in progress)"
                    )
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def __exit__(self, *exc) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = -1


class Lease:
    """A lease plus the shared GC lock for the duration of a `with` block (see module doc)."""

    def __init__(
        self, meta, lock_path: str, *, ttl: float = DEFAULT_LEASE_TTL, lease_id: str | None = None
    ):
        self.meta = meta
        self.id = lease_id or "lease-" + os.urandom(12).hex()
        self._ttl = ttl
        self._lock = GcLock(lock_path, exclusive=False)

    def __enter__(self) -> "Lease":
        self._lock.__enter__()
        try:
            self.meta.create_lease(self.id, time.time() + self._ttl if self._ttl else 0)
        except BaseException:
            self._lock.__exit__()
            raise
        return self

    def add(self, kind: str, ref: str) -> None:
        self.meta.add_lease_resource(self.id, kind, ref)

    def __exit__(self, *exc) -> None:
        try:
            self.meta.delete_lease(self.id)
        except NotFound:
            pass  # it expired and a GC already dropped it
        finally:
            self._lock.__exit__()
