"""After a power cut: what a late flush had not covered yet, checked and repaired.

A mark left by an earlier boot (content.lateflush) says that writes from its `since` on may
be torn. Then, before anything reads the store:
- every blob written from then on is hashed again (its name is its digest) and removed
  when it does not match;
- every layer snapshot recorded from then on is made again from its layer's blob, or
  removed with the snapshots on top of it when that blob is gone;
- every image naming a removed blob (config, manifest or layer) is removed with its tags.
Then one flush, and the mark is cleared. It runs under the exclusive GC lock, once: the
first command that opens the store after the reboot does it (services.images), the
others wait for it.
Snapshots that are no layer's (a container's own) are left as they are, as Docker does.
"""

import os

from dockyard.content import lateflush

# a write may carry a wall-clock time a little before its mark's `since` (a clock step)
SLACK_NS = 10 * 60 * 1_000_000_000


def recover(root: str, stores, since: int, forget=None) -> dict:
    """Check and repair what was written under the data root `root` from `since` (ns) on;
    {"blobs": removed digests, "snapshots": (refilled keys, removed keys), "images":
    removed ids}, or {} when another process had repaired it already. `forget(ids)` gets
    every removed blob digest, snapshot key and image id, for records kept elsewhere (the
    build cache) to drop theirs before the mark goes."""
    from dockyard.content.durable import sync_paths
    from dockyard.metadata.lease import GcLock, gc_lock_path

    with GcLock(gc_lock_path(root), exclusive=True):
        if lateflush.crashed(root) is None:
            return {}
        cutoff = since - SLACK_NS
        lost = _check_blobs(stores.content, cutoff)
        snaps = _check_snapshots(stores, cutoff)
        images = _drop_images(stores, lost)
        gone = lost | set(snaps[1]) | set(images)
        if gone and forget is not None:
            forget(gone)
        sync_paths(root, stores.content.root, stores.snapshots.root)
        lateflush.clear(root)
    return {"blobs": lost, "snapshots": snaps, "images": images}


def _check_blobs(content, cutoff: int) -> set[str]:
    from dockyard.errors import DataLoss, NotFound

    lost = set()
    for digest in list(content.digests()):
        try:
            if os.lstat(content.path(digest)).st_ctime_ns < cutoff:
                continue
            content.verify(digest)
        except (DataLoss, NotFound):
            lost.add(digest)
            _quiet_delete(content, digest)
    return lost


def _quiet_delete(content, digest: str) -> None:
    from dockyard.errors import NotFound

    try:
        content.delete(digest)
    except NotFound:
        pass


def _check_snapshots(stores, cutoff: int) -> tuple[list[str], list[str]]:
    from dockyard.images.unpack import apply_blob
    from dockyard.oci.descriptor import Descriptor

    meta, snaps = stores.meta, stores.snapshots
    layers = meta.list_layers()
    refilled, removed = [], []
    for rec in meta.list_snapshots():
        if rec.created * 1e9 < cutoff and os.path.isdir(rec.dir):
            continue
        if meta.get_snapshot(rec.key) is None:
            continue  # removed above, under a parent
        layer = _layer_of(rec, layers)
        if layer is None:
            continue  # not a layer's: a container's own
        if stores.content.has(layer.blob_digest):
            desc = Descriptor(layer.media_type, layer.blob_digest, layer.blob_size)
            snaps.refill(rec.key, lambda d, desc=desc, di=layer.diff_id: apply_blob(
                stores, desc, di, d))  # fmt: skip
            refilled.append(rec.key)
        else:
            removed.extend(_remove_with_children(snaps, meta, rec.key))
    return refilled, removed


def _layer_of(rec, layers):
    """The layer record whose diff id on `rec.parent` gives the chain id `rec.key`."""
    from dockyard.oci.ids import chain_id

    for layer in layers:
        if chain_id(rec.parent, layer.diff_id) == rec.key:
            return layer
    return None


def _remove_with_children(snaps, meta, key: str) -> list[str]:
    out = []
    for child in meta.snapshot_children(key):
        out.extend(_remove_with_children(snaps, meta, child))
    snaps.remove(key)
    out.append(key)
    return out


def _drop_images(stores, lost: set[str]) -> list[str]:
    """Remove the images that name a blob that is gone."""
    if not lost:
        return []
    dropped = []
    for rec in stores.meta.list_images():
        if _names_lost(stores.content, rec, lost):
            stores.meta.delete_image(rec.id)
            dropped.append(rec.id)
    return dropped


def _names_lost(content, rec, lost: set[str]) -> bool:
    from dockyard.errors import DockyardError
    from dockyard.oci.manifest import parse_manifest

    if rec.id in lost or rec.manifest_digest in lost or not content.has(rec.id):
        return True
    try:
        manifest = parse_manifest(content.read(rec.manifest_digest))
    except DockyardError:
        return True
    return any(d.digest in lost for d in manifest.layers)
