"""Mark-and-sweep garbage collection of a registry's storage.

Marks every manifest revision of every repository and what it references (config, layers,
child manifests), then deletes the unmarked blobs, the repository links to them, and
uploads idle longer than `upload_age`. Run it while the registry is stopped or read-only;
`grace` (seconds) spares blobs younger than that, which makes it safe next to pushes that
have uploaded blobs but not yet their manifest. A manifest that cannot be read aborts the
run (DataLoss) before anything is deleted: sweeping without knowing its references could
delete blobs that are still needed.
"""

import os
import time
from dataclasses import dataclass, field

from dockyard import digest as _digest
from dockyard.errors import DataLoss, DockyardError
from dockyard.registry import fsutil
from dockyard.registry.storage import LAYERS, MANIFESTS, RegistryStorage
from dockyard.registry.uploads import UploadStore


@dataclass
class GcReport:
    blobs: list[str] = field(default_factory=list)  # deleted (or, dry run, deletable)
    reclaimed: int = 0  # bytes
    links: int = 0  # repository links to deleted blobs removed
    uploads: list[str] = field(default_factory=list)  # stale upload sessions removed
    marked: int = 0


def _digests_under(path: str):
    for alg in fsutil.listdir(path):
        for hexpart in fsutil.listdir(os.path.join(path, alg)):
            d = f"{alg}:{hexpart}"
            if _digest.is_digest(d):
                yield d


def _references(data: bytes, media_type: str) -> list[str]:
    from dockyard.oci.manifest import Manifest, parse_any

    doc = parse_any(data, media_type)
    if isinstance(doc, Manifest):
        return [doc.config.digest, *(layer.digest for layer in doc.layers)]
    return [m.digest for m in doc.manifests]


def mark(storage: RegistryStorage) -> set[str]:
    """Every blob some manifest revision of some repository needs."""
    marked: set[str] = set()
    for repo in storage.repositories():
        revisions = os.path.join(storage.repo_dir(repo), MANIFESTS, "revisions")
        for digest in _digests_under(revisions):
            media_type = storage.manifest_media_type(repo, digest)
            if not media_type:
                continue  # revision link without its blob: nothing to keep
            marked.add(digest)
            try:
                data = storage.content.read(digest, max_size=64 << 20)
                marked.update(_references(data, media_type))
            except DockyardError as e:
                raise DataLoss(
                    f"gc: manifest {repo}@{digest} cannot be read ({e}); nothing deleted"
                )
    return marked


def gc(
    root: str,
    dry_run: bool = False,
    *,
    grace: float = 0.0,
    upload_age: float = 7 * 86400.0,
) -> GcReport:
    storage = RegistryStorage(root)
    report = GcReport()
    marked = mark(storage)
    report.marked = len(marked)
    now = time.time()
    for digest in list(storage.content.digests()):
        if digest in marked:
            continue
        path = storage.blob_path(digest)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if now - st.st_mtime < grace:
            continue
        report.blobs.append(digest)
        report.reclaimed += st.st_size
        if not dry_run:
            fsutil.remove(path)
    if not dry_run:
        swept = set(report.blobs)
        for repo in storage.repositories():
            layers = os.path.join(storage.repo_dir(repo), LAYERS)
            for digest in _digests_under(layers):
                if digest in swept or not storage.has_blob(digest):
                    alg, hexpart = _digest.split(digest)
                    if fsutil.remove(os.path.join(layers, alg, hexpart)):
                        report.links += 1
        uploads = UploadStore(root, storage.blob_path)
        report.uploads = uploads.purge(upload_age, now)
        storage.content.sweep_ingest(upload_age)
    return report
