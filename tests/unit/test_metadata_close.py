"""Closing the metadata store leaves the WAL for a later checkpoint (no fsyncs on close), and
nothing committed is lost by that: the next opener sees every commit."""

import os

from dockyard.metadata.records import SnapshotRecord
from dockyard.metadata.store import MetadataStore


def test_close_keeps_the_wal_and_a_reopen_sees_every_commit(tmp_path):
    path = str(tmp_path / "metadata.db")
    meta = MetadataStore(path)
    meta.put_snapshot(SnapshotRecord("sha256:a", "", "/x/1/fs", 5, 1.0))
    meta.close()
    # the last connection closed without checkpointing: the commit is still in the WAL
    assert os.path.getsize(path + "-wal") > 0
    meta = MetadataStore(path)
    try:
        assert meta.get_snapshot("sha256:a").size == 5
    finally:
        meta.close()
