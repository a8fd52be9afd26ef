"""Garbage collection: mark everything a root reaches, sweep blobs and snapshots that are left.

Roots: every image record (its config, its manifest and what that manifest names — config,
layers, and for an index its child manifests recursively — the blobs recorded for its diff ids,
and the snapshots of its chain ids) and every live lease (see `metadata.lease` for how creators
of new content protect it). A marked snapshot keeps its ancestors.

Sweep: unmarked blobs (with their layer records), unmarked snapshots (record, then directory,
children first), snapshot directories without a record that are older than a grace period,
stale ingests, and expired leases.

A blob that cannot be read while marking (missing, failing its digest, unparsable) does not
stop GC; it is reported. Since what it would have reached is unknown, the sweep it could
affect is skipped: an unreadable manifest or config keeps every blob, an unreadable config
keeps every snapshot. Losing data to a damaged record would be worse than keeping garbage.

GC holds `<data root>/gc.lock` exclusively, so two GCs never overlap and none runs while a
creator holds it shared.
"""

import time
from dataclasses import dataclass, field

from dockyard.errors import DockyardError, NotFound
from dockyard.metadata.lease import GcLock

DIR_GRACE = 60.0  # seconds an unrecorded snapshot dir may belong to a creator mid-publish
INGEST_MAX_AGE = 24 * 3600.0  # idle partial downloads kept this long, to be resumed
MAX_MANIFEST_SIZE = 4 << 20  # what registries accept for a manifest
MAX_CONFIG_SIZE = 8 << 20
_MAX_INDEX_DEPTH = 8


@dataclass(frozen=True)
class GcReport:
    blobs: list[str]  # removed (or, on a dry run, removable) blob digests
    snapshots: list[str]  # removed snapshot keys
    reclaimed: int  # bytes: blob sizes plus snapshot sizes
    dirs: list[str] = field(default_factory=list)  # unrecorded snapshot dirs removed
    missing: list[str] = field(default_factory=list)  # blobs needed for marking but absent
    corrupt: list[str] = field(default_factory=list)  # blobs failing their digest or parse
    expired_leases: list[str] = field(default_factory=list)
    ingests: int = 0  # stale ingests removed
    skipped: list[str] = field(default_factory=list)  # one line per sweep not done, and why
    dry_run: bool = False


class _Marker:
    """The mark phase: collects what roots reach, and what could not be read."""

    def __init__(self, meta, content):
        self.meta = meta
        self.content = content
        self.blobs: set[str] = set()
        self.snapshot_roots: set[str] = set()
        self.missing: list[str] = []
        self.corrupt: list[str] = []
        self.blobs_unsure = False  # some blob's reach is unknown
        self.snapshots_unsure = False
        self._visited: set[str] = set()

    def image(self, rec) -> None:
        self.blobs.add(rec.id)
        self.blobs.add(rec.manifest_digest)
        self.manifest(rec.manifest_digest, rec.manifest_media_type, required=True, depth=0)
        self.config(rec.id)

    def manifest(self, digest: str, media_type: str, *, required: bool, depth: int) -> None:
        from dockyard.oci import mediatypes as mt
        from dockyard.oci.manifest import Index, parse_any

        if digest in self._visited or depth > _MAX_INDEX_DEPTH:
            return
        self._visited.add(digest)
        if not required and not self.content.has(digest):
            return  # an index names every platform; only some are pulled
        data = self._read(digest, MAX_MANIFEST_SIZE)
        if data is None:
            self.blobs_unsure = True
            return
        known = media_type in mt.MANIFESTS or media_type in mt.INDEXES
        try:
            doc = parse_any(data, media_type if known else "")
        except DockyardError:
            self._bad(self.corrupt, digest)
            self.blobs_unsure = True
            return
        if doc.subject is not None:
            self.blobs.add(doc.subject.digest)
        if isinstance(doc, Index):
            for child in doc.manifests:
                self.blobs.add(child.digest)
                if child.media_type in mt.MANIFESTS or child.media_type in mt.INDEXES:
                    self.manifest(child.digest, child.media_type, required=False, depth=depth + 1)
            return
        self.blobs.add(doc.config.digest)
        self.blobs.update(layer.digest for layer in doc.layers)

    def config(self, image_id: str) -> None:
        from dockyard.oci.ids import chain_ids
        from dockyard.oci.image import parse_image_config

        data = self._read(image_id, MAX_CONFIG_SIZE)
        if data is None:
            self.blobs_unsure = self.snapshots_unsure = True
            return
        try:
            diff_ids = parse_image_config(data).diff_ids
        except DockyardError:
            self._bad(self.corrupt, image_id)
            self.blobs_unsure = self.snapshots_unsure = True
            return
        self.snapshot_roots.update(chain_ids(diff_ids))
        # Every blob known to hold one of these layers: the image can be pushed or saved
        # from any of them, and this keeps the layers even when the manifest is unreadable.
        for diff_id in set(diff_ids):
            self.blobs.update(layer.blob_digest for layer in self.meta.layers_for_diff_id(diff_id))

    def _read(self, digest: str, limit: int) -> bytes | None:
        try:
            return self.content.read(digest, max_size=limit)
        except NotFound:
            self._bad(self.missing, digest)
        except DockyardError:
            self._bad(self.corrupt, digest)
        return None

    @staticmethod
    def _bad(into: list[str], digest: str) -> None:
        if digest not in into:
            into.append(digest)


def collect(
    meta,
    content,
    snapshots,
    *,
    dry_run: bool = False,
    lock_timeout: float = 600.0,
    dir_grace: float = DIR_GRACE,
    ingest_max_age: float = INGEST_MAX_AGE,
) -> GcReport:
    """Mark from the roots and sweep the rest; on `dry_run` only report what would go."""
    with GcLock(snapshots.gc_lock_path, exclusive=True, timeout=lock_timeout):
        now = time.time()
        leases = meta.list_leases()
        live = {lease.id for lease in leases if not lease.expired(now)}
        expired = sorted(lease.id for lease in leases if lease.id not in live)

        marker = _Marker(meta, content)
        for rec in meta.list_images():
            marker.image(rec)
        for res in meta.lease_resources():
            if res.lease_id not in live:
                continue
            if res.kind == "content":
                marker.blobs.add(res.ref)
            elif res.kind == "snapshot":
                marker.snapshot_roots.add(res.ref)

        skipped: list[str] = []
        removed_snapshots, snapshot_bytes = [], 0
        if marker.snapshots_unsure:
            skipped.append("snapshots kept: an image config could not be read")
        else:
            removed_snapshots, snapshot_bytes = _sweep_snapshots(
                meta, snapshots, marker.snapshot_roots, dry_run, skipped
            )
        dirs = _sweep_dirs(snapshots, dir_grace, dry_run, skipped)
        removed_blobs, blob_bytes = [], 0
        if marker.blobs_unsure:
            skipped.append("blobs kept: a manifest or image config could not be read")
        else:
            removed_blobs, blob_bytes = _sweep_blobs(meta, content, marker.blobs, dry_run)
        ingests = 0
        if not dry_run:
            ingests = content.sweep_ingest(ingest_max_age)
            for lease_id in expired:
                try:
                    meta.delete_lease(lease_id)
                except NotFound:
                    pass
        return GcReport(
            blobs=removed_blobs,
            snapshots=removed_snapshots,
            reclaimed=blob_bytes + snapshot_bytes,
            dirs=dirs,
            missing=marker.missing,
            corrupt=marker.corrupt,
            expired_leases=expired,
            ingests=ingests,
            skipped=skipped,
            dry_run=dry_run,
        )


def _sweep_snapshots(meta, snapshots, roots: set[str], dry_run: bool, skipped: list[str]):
    records = {rec.key: rec for rec in meta.list_snapshots()}
    marked: set[str] = set()
    for key in roots:
        # A snapshot needs its whole chain; walk up until a known or absent parent.
        while key and key in records and key not in marked:
            marked.add(key)
            key = records[key].parent
    unmarked = [key for key in records if key not in marked]
    # Children first (deepest first): a parent cannot go while a child still names it.
    unmarked.sort(key=lambda k: (-_depth(records, k), k))
    removed, reclaimed = [], 0
    for key in unmarked:
        if not dry_run:
            try:
                snapshots.remove(key)
            except NotFound:
                continue
            except DockyardError as e:  # mounted (in use) or grew a child: leave it
                skipped.append(f"snapshot {key} kept: {e}")
                continue
        removed.append(key)
        reclaimed += records[key].size
    return removed, reclaimed


def _depth(records: dict, key: str) -> int:
    depth, seen = 0, set()
    while key in records and key not in seen:
        seen.add(key)
        key = records[key].parent
        depth += 1
    return depth


def _sweep_dirs(snapshots, grace: float, dry_run: bool, skipped: list[str]) -> list[str]:
    out = []
    for path in snapshots.unreferenced_dirs(grace):
        if not dry_run:
            try:
                snapshots.remove_dir(path)
            except DockyardError as e:
                skipped.append(f"{path} kept: {e}")
                continue
        out.append(path)
    return out


def _sweep_blobs(meta, content, marked: set[str], dry_run: bool):
    removed, reclaimed = [], 0
    for digest in sorted(content.digests()):
        if digest in marked:
            continue
        try:
            size = content.size(digest)
            if not dry_run:
                content.delete(digest)
                meta.delete_layer(digest)
        except NotFound:
            continue  # gone meanwhile
        removed.append(digest)
        reclaimed += size
    return removed, reclaimed
