"""Turning stored blobs into a visible image: the image record, then its tags, in that order.

Everything an image needs (manifest, config, layer blobs, snapshots) is written before this
runs; the record and the tags go in one transaction, so a crash leaves either no image or a
complete one.
"""

import time

from dockyard.errors import NotFound
from dockyard.metadata.records import ImageRecord
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.manifest import Manifest


def store_manifest(
    content,
    lease,
    config_bytes: bytes,
    layers: list[Descriptor],
    config_media_type: str = mt.OCI_CONFIG,
) -> tuple[str, str, bytes]:
    """Store config and an OCI manifest for it; return (image id, manifest digest, manifest bytes)."""
    from dockyard import digest as _digest

    image_id = _digest.sha256_bytes(config_bytes)
    lease.add("content", image_id)
    content.put(config_bytes, image_id)
    manifest = Manifest(
        config=Descriptor(config_media_type, image_id, len(config_bytes)), layers=tuple(layers)
    )
    data = manifest.to_bytes()
    mdigest = _digest.sha256_bytes(data)
    lease.add("content", mdigest)
    content.put(data, mdigest)
    return image_id, mdigest, data


def publish(
    meta,
    image_id: str,
    manifest_digest: str,
    manifest_media_type: str,
    created: str,
    size: int,
    tags: list[str],
    parent: str = "",
) -> ImageRecord:
    """Record the image and point `tags` (full reference strings) at it, atomically."""
    rec = ImageRecord(
        id=image_id,
        manifest_digest=manifest_digest,
        manifest_media_type=manifest_media_type,
        created=created,
        size=size,
        added_at=time.time(),
        parent=parent,
    )
    with meta.transaction():
        try:
            old = meta.get_image(image_id)
        except NotFound:
            old = None
        if old is not None:
            # Keep when it first arrived (list order, `since`/`before`), refresh the rest.
            rec = ImageRecord(
                rec.id,
                rec.manifest_digest,
                rec.manifest_media_type,
                rec.created,
                rec.size,
                old.added_at,
                old.parent or parent,
            )
        meta.put_image(rec)
        for name in tags:
            meta.set_tag(name, image_id)
    return rec
