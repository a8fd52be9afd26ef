"""The typed records the metadata store hands out: one immutable `Record` per table row."""

from dockyard.record import Record


class ImageRecord(Record):
    id: str  # config digest
    manifest_digest: str
    manifest_media_type: str
    created: str  # RFC 3339 from the config
    size: int  # sum of uncompressed layer sizes
    added_at: float  # when stored here (unix)
    parent: str = ""  # local parent image id (commit/build), "" otherwise


class LayerRecord(Record):
    diff_id: str
    blob_digest: str
    media_type: str
    blob_size: int
    size: int  # uncompressed


class SnapshotRecord(Record):
    key: str  # chain id (or a container's own key)
    parent: str  # key of the parent snapshot, "" for a base layer
    dir: str  # absolute path of the snapshot's fs/
    size: int
    created: float


class LeaseRecord(Record):
    id: str
    expires_at: float  # unix time; 0 means it never expires
    created: float

    def expired(self, now: float) -> bool:
        return 0 < self.expires_at <= now


class LeaseResource(Record):
    lease_id: str
    kind: str  # "content" (a blob digest) or "snapshot" (a snapshot key)
    ref: str
