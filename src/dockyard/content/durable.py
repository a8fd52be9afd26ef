"""Batched durability: one flush for many objects written without their own.

A blob (`ContentWriter.commit(durable=False)`) or a snapshot (`SnapshotStore.create(...,
durable=False)`) may become visible before its bytes reach the disk. That is safe against a
process crash at any point — the rename that makes it visible is the last step of a complete
write, and the page cache outlives the process — but not against a power cut, after which an
unflushed object may be short or empty under its name. So whoever writes such objects calls
`sync_paths` once before anything durable refers to them (an image record or tag in sqlite):
one syncfs(2) per filesystem instead of an fsync per blob and a syncfs per snapshot.

sqlite runs with `synchronous=NORMAL` in WAL mode: a commit is not flushed by itself, so a
flush here, before the commit, orders the objects ahead of any record that names them.

Build, pull, load and import instead mark the data root before they write and flush after
they answer (`lateflush`); a power cut in between is repaired at the next start.
"""

import os

from dockyard.syncfs import syncfs


def sync_paths(*paths: str) -> None:
    """Flush the filesystems holding `paths`, each once; paths that do not exist are skipped
    (nothing was written there)."""
    seen = set()
    for path in paths:
        try:
            dev = os.stat(path).st_dev
        except FileNotFoundError:
            continue
        if dev not in seen:
            seen.add(dev)
            syncfs(path)


class Unflushed:
    """A content store seen through `put` only, storing without a flush of its own: for
    code that stores small documents (a config, a manifest) ahead of one batch flush.
    `wrote` says whether anything new was stored (so the flush is needed)."""

    def __init__(self, content):
        self._content = content
        self.wrote = False

    def put(self, data: bytes, expected: str | None = None) -> str:
        if expected is None or not self._content.has(expected):
            self.wrote = True
        return self._content.put(data, expected, durable=False)
