"""Local state in sqlite: image, tag, layer, snapshot and lease records (`store`), their
schema and migrations (`schema`), and the garbage collector over them (`gc`)."""

from dockyard.metadata.records import (
    ImageRecord,
    LayerRecord,
    LeaseRecord,
    LeaseResource,
    SnapshotRecord,
)
from dockyard.metadata.store import LEASE_KINDS, MetadataStore

__all__ = [
    "LEASE_KINDS",
    "ImageRecord",
    "LayerRecord",
    "LeaseRecord",
    "LeaseResource",
    "MetadataStore",
    "SnapshotRecord",
]
