"""What the crash tests share: after a kill -9 at any moment, the data root must be
consistent — every blob hashes to its name, every tag reaches a complete image with its
top snapshot, every snapshot record has its directory, every cached build step names a
blob and a snapshot that exist."""

import hashlib
import json
import os
import sqlite3

from dockyard.config import Config
from dockyard.oci.ids import chain_ids
from dockyard.oci.image import parse_image_config
from dockyard.oci.manifest import parse_manifest
from dockyard.services.images import ImageService


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def check_consistent(root: str) -> None:
    blobs = os.path.join(root, "content", "blobs", "sha256")
    for name in os.listdir(blobs) if os.path.isdir(blobs) else []:
        assert sha256_file(os.path.join(blobs, name)) == name, f"blob {name} is not its digest"
    svc = ImageService(Config(root=root, state_dir=root + "-state"))
    try:
        meta = svc.meta
        for tag, image_id in meta.list_tags().items():
            rec = meta.get_image(image_id)  # NotFound would fail the test
            manifest = parse_manifest(svc.content.read(rec.manifest_digest))
            config = parse_image_config(svc.content.read(manifest.config.digest))
            assert manifest.config.digest == image_id, tag
            for layer in manifest.layers:
                assert svc.content.has(layer.digest), f"{tag}: layer {layer.digest} missing"
            assert len(config.diff_ids) == len(manifest.layers)
            if config.diff_ids:
                top = chain_ids(list(config.diff_ids))[-1]
                assert meta.get_snapshot(top) is not None, f"{tag}: no snapshot {top}"
        for snap in meta.list_snapshots():
            assert os.path.isdir(snap.dir), f"snapshot {snap.key} has no directory {snap.dir}"
        db = sqlite3.connect(os.path.join(root, "metadata.db"))
        try:
            rows = db.execute("SELECT blob_digest, inputs FROM build_cache").fetchall()
        finally:
            db.close()
        for blob, inputs in rows:
            layer_row = isinstance(inputs, str) and inputs.startswith("{")
            chain = json.loads(inputs).get("chain") if layer_row else None
            if not chain:
                continue  # not a layer step (the image's own row, a build result)
            assert svc.content.has(blob), f"a cached step names a missing blob {blob}"
            snap = meta.get_snapshot(chain)
            assert snap is not None and os.path.isdir(snap.dir), f"cached step: no {chain}"
    finally:
        svc.close()


def late_mark(root: str) -> str:
    """The data root's late-flush mark (content.lateflush): "" when clear."""
    from dockyard.content import lateflush

    try:
        with open(os.path.join(root, lateflush.MARK)) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_mark_clear(root: str, timeout: float = 20.0) -> str:
    """The mark once the flush after an operation has cleared it (or its text at the
    timeout)."""
    import time

    deadline = time.monotonic() + timeout
    while late_mark(root) and time.monotonic() < deadline:
        time.sleep(0.01)
    return late_mark(root)
