"""Unpacked layers and container upper dirs on disk, keyed by chain id (`store`)."""

from dockyard.snapshots.store import SnapshotStore

__all__ = ["SnapshotStore"]
