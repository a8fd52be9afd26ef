"""`commit`: a child image of a container's image, from one new layer and a new config.

The layer tar is written once (by the caller's `write(out)`) into the content store while it
is hashed: uncompressed, so the blob digest is the diff id. The snapshot is filled by
applying that blob (overlay whiteouts), so the container's own upper dir is never moved or
shared. An empty layer (only the tar end marker) is not added, and its history entry says
`empty_layer`, as Docker's `NewChildImage` does.
"""

import os

from dockyard.oci import mediatypes as mt

EMPTY_LAYER = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"


class CommitRequest:
    """What the new image is made of besides the layer."""

    __slots__ = ("author", "comment", "config", "created_by", "parent_id", "tags")

    def __init__(self, parent_id: str, config, author: str, comment: str, created_by: str,
                 tags: list[str]):  # fmt: skip
        self.parent_id = parent_id
        self.config = config  # oci.image.ContainerConfig of the new image
        self.author = author
        self.comment = comment
        self.created_by = created_by
        self.tags = tags  # full reference strings


def _store_layer(content, lease, write) -> tuple[str, int]:
    """(digest, size) of the tar `write(out)` produces, stored as a blob."""
    from dockyard.archive.counting import CountingWriter

    w = content.writer("commit-" + os.urandom(12).hex())
    ok = False
    try:
        sink = CountingWriter(w)
        write(sink)
        size = sink.size
        digest = w.commit()
        ok = True
    finally:
        if not ok and not w.closed:
            w.abort()
    lease.add("content", digest)
    return digest, size


def commit(stores, lease, req: CommitRequest, write) -> str:
    """Make and record the image; returns its id. `write(out)` writes the layer tar."""
    from dockyard import digest as _digest
    from dockyard.images.record import publish, store_manifest
    from dockyard.images.timefmt import now_rfc3339nano
    from dockyard.metadata.records import LayerRecord
    from dockyard.oci.descriptor import Descriptor
    from dockyard.oci.ids import chain_ids
    from dockyard.oci.image import History, parse_image_config
    from dockyard.oci.manifest import parse_manifest

    parent = stores.meta.get_image(req.parent_id)
    pcfg = parse_image_config(stores.content.read(parent.id, max_size=16 << 20))
    manifest = parse_manifest(stores.content.read(parent.manifest_digest, max_size=16 << 20))
    layers = list(manifest.layers)
    diff_ids = list(pcfg.diff_ids)
    size = parent.size
    digest, blob_size = _store_layer(stores.content, lease, write)
    empty = digest == EMPTY_LAYER
    if not empty:
        parent_chain = chain_ids(diff_ids)[-1] if diff_ids else ""
        chain = (
            _digest.sha256_bytes(f"{parent_chain} {digest}".encode()) if parent_chain else digest
        )
        lease.add("snapshot", chain)

        def fill(target: str) -> int:
            from dockyard.archive.apply import apply_layer

            with stores.content.open(digest) as f:
                return apply_layer(f, target, whiteouts="overlay").size

        snap = stores.snapshots.create(chain, parent_chain, fill)
        stores.meta.put_layer(LayerRecord(digest, digest, mt.OCI_LAYER, blob_size, snap.size))
        layers.append(Descriptor(mt.OCI_LAYER, digest, blob_size))
        diff_ids.append(digest)
        size += snap.size
    created = now_rfc3339nano()
    history = History(
        created=created,
        created_by=req.created_by,
        author=req.author,
        comment=req.comment,
        empty_layer=empty,
    )
    cfg = pcfg.replace(
        created=created,
        author=req.author,
        config=req.config,
        diff_ids=tuple(diff_ids),
        history=(*pcfg.history, history),
        comment="",
    )
    config_bytes = cfg.to_bytes()
    image_id, mdigest, _ = store_manifest(stores.content, lease, config_bytes, layers)
    publish(stores.meta, image_id, mdigest, mt.OCI_MANIFEST, created, size, req.tags,
            parent=parent.id)  # fmt: skip
    return image_id
