"""BuildService: `build` (a context and a Dockerfile become a tagged image) and the build
cache's `prune`, over the image service's stores.

The builder (L3) returns the config and the layers; this records the manifest and the
image, then points the tags at it — in that order, so a failed build leaves no tag moved.
No blob or snapshot of the build is flushed on its own, nor before the records naming them:
the data root is marked first, and one syncfs after the build (in a process of its own,
off the answer's path) clears the mark; after a power cut the mark has the store checked
(content.lateflush, images.recovery).

A build remembers what its result depended on: the base images' ids, the identity (size,
mtime, inode, mode) of every context path it looked at, and its steps. The next build of
the same Dockerfile with the same options checks just those — no parsing, no hashing —
and, when nothing changed, reuses the image (every step would have come from the cache).
"""

from __future__ import annotations

import os

from dockyard.config import Config
from dockyard.errors import InvalidArgument
from dockyard.topdir import make_top_dir


class BuildService:
    def __init__(self, config: Config, images):
        self.config = config
        self.images = images  # ImageService
        self._cache = None

    @property
    def cache(self):
        if self._cache is None:
            from dockyard.build.cachedb import BuildCacheDB

            self.images.meta  # noqa: B018 - opens (and migrates) the database first
            self._cache = BuildCacheDB(self.config.metadata_path)
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def _resolve_base(self, name: str):
        from dockyard.build.options import BaseImage
        from dockyard.oci.ids import chain_ids
        from dockyard.oci.image import parse_image_config
        from dockyard.oci.manifest import parse_manifest

        rec = self.images.resolve(name)
        content = self.images.content
        cfg = parse_image_config(content.read(rec.id))
        manifest = parse_manifest(content.read(rec.manifest_digest))
        chains = chain_ids(list(cfg.diff_ids))
        return BaseImage(rec.id, cfg, tuple(manifest.layers), chains[-1] if chains else "")

    def build(self, opts, tags: list[str], events=None) -> str:
        """Build and record the image; returns its id. `tags` are as the user wrote them."""
        from dockyard import reference

        names = []
        for t in tags:
            ref = reference.parse_normalized_tagged(t)
            if ref.digest:
                raise InvalidArgument(f"invalid tag {t!r}: a tag cannot carry a digest")
            names.append(str(ref))
        fast = "" if opts.no_cache else self._fast_key(opts)
        if fast:
            image_id = self._fast(fast, names, events)
            if image_id:
                return image_id
        from dockyard.build.builder import build
        from dockyard.images.record import publish, store_manifest
        from dockyard.oci import mediatypes as mt

        make_top_dir(opts.tmp_dir)
        from dockyard.build.durability import Records
        from dockyard.build.options import BuildStores as Stores
        from dockyard.content import lateflush
        from dockyard.content.durable import Unflushed
        from dockyard.metadata.lease import Lease, gc_lock_path

        im = self.images
        stores = Stores(im.content, im.meta, im.snapshots)
        # before the build writes a byte
        records = Records(marked=True)
        # leaving the mark starts the one flush, off the answer's path; it clears the mark
        with (
            lateflush.Marked(self.config.root, (im.content.root, im.snapshots.root)),
            Lease(im.meta, gc_lock_path(self.config.root)) as lease,
        ):
            result = build(opts, stores, lease, self.cache, self._resolve_base, events,
                           self._reopen, records)  # fmt: skip
            unflushed = Unflushed(stores.content)
            try:
                image_id, mdigest, _ = store_manifest(
                    unflushed, lease, result.config_bytes, list(result.layers)
                )
            finally:
                records.flush(stores, self.cache, force=unflushed.wrote)  # the rows
            publish(stores.meta, image_id, mdigest, mt.OCI_MANIFEST, result.created,
                    result.size, names, parent=result.parent)  # fmt: skip
        if fast and result.deps:
            import marshal  # json costs ~5 ms to import (re); this is on the cached path

            deps = marshal.dumps(result.deps)
            self.cache.put(fast, "result", image_id, image_id, 0, 0, deps, "build result")
        return image_id

    def _reopen(self):
        """(stores, cache, resolve_base) on connections of their own, for a forked stage
        builder (see `build.parallel`)."""
        from dockyard.build.options import BuildStores
        from dockyard.services.images import ImageService

        fresh = BuildService(self.config, ImageService(self.config))
        im = fresh.images
        return BuildStores(im.content, im.meta, im.snapshots), fresh.cache, fresh._resolve_base

    def _fast_key(self, opts) -> str:
        try:  # the builtin module: hashlib loads OpenSSL (~2 ms), on the cached path
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256

        parts = [opts.dockerfile, repr(sorted(opts.build_args.items())), opts.target,
                 repr(sorted(opts.labels.items())), opts.network,
                 str(opts.source_date_epoch), os.path.realpath(opts.context_dir)]  # fmt: skip
        return "result-" + sha256("\x00".join(parts).encode()).hexdigest()

    def _fast(self, key: str, names: list[str], events) -> str:
        """The image of an earlier identical build when nothing it used changed, else ""."""
        import marshal

        from dockyard.build.context import unchanged
        from dockyard.errors import NotFound

        entry = self.cache.get(key)
        if entry is None:
            return ""
        try:
            deps = marshal.loads(entry.inputs)
        except (TypeError, ValueError, EOFError):
            return ""
        if not unchanged(deps["paths"]):  # first: a changed file is the usual miss
            return ""
        image_id = entry.diff_id
        meta = self.images.meta
        try:
            meta.get_image(image_id)
            for name, want in deps["bases"].items():
                if self.images.resolve(name).id != want:
                    return ""
        except NotFound:
            return ""
        if not self.images.content.has(image_id):
            return ""
        moved = [n for n in names if _tag_of(meta, n) != image_id]
        if moved:
            with meta.transaction():
                meta.get_image(image_id)
                for n in moved:
                    meta.set_tag(n, image_id)
        self.cache.touch(key, slack=60.0)
        if events is not None:
            steps = deps["steps"]
            for i, (text, layer) in enumerate(steps, 1):
                events.step(i, len(steps), text)
                if layer:
                    events.cached()
            events.done(0.0)
        return image_id

    def prune(self, all: bool = False, filters: dict | None = None) -> tuple[list[str], int]:
        """Forget cached build results — unused ones (no image has their layer), or with
        `all` every one; `until` keeps those used more recently — and the cache mounts not
        in use, then collect what nothing else keeps. Returns (keys forgotten, bytes freed)."""
        from dockyard.build import cacheroots
        from dockyard.images.query import _until
        from dockyard.metadata.lease import GcLock, gc_lock_path

        filters = filters or {}
        for name in filters:
            if name != "until":
                raise InvalidArgument(f"invalid filter '{name}'")
        cutoff = _until(filters["until"][-1]) if "until" in filters else None
        used = set() if all else self._image_blobs()
        drop, keep = [], []
        for key, blob, _size, inputs, last_used in self.cache.entries():
            old = cutoff is None or last_used < cutoff
            (drop if old and (all or blob not in used) else keep).append((key, blob, inputs))
        with GcLock(gc_lock_path(self.config.root), exclusive=False):
            self.cache.forget([k for k, _, _ in drop], checksums=not keep)
            roots = [(blob, step_chain(inputs)) for _, blob, inputs in keep]
            cacheroots.reset_roots(self.images.meta, [r for r in roots if r[1]])
        freed = _prune_cache_mounts(self.config.root, cutoff)
        report = self.images.gc()
        return [k for k, _, _ in drop], freed + report.reclaimed

    def _image_blobs(self) -> set[str]:
        """Image ids and the layer blobs of every image."""
        from dockyard.errors import DockyardError
        from dockyard.oci.manifest import parse_manifest

        out: set[str] = set()
        for rec in self.images.meta.list_images():
            out.add(rec.id)
            try:
                manifest = parse_manifest(self.images.content.read(rec.manifest_digest))
            except DockyardError:
                continue
            out.update(d.digest for d in manifest.layers)
        return out


def _tag_of(meta, name: str) -> str:
    from dockyard.errors import NotFound

    try:
        return meta.get_tag(name)
    except NotFound:
        return ""


def step_chain(inputs) -> str:
    """The snapshot key a step result recorded ("" for other rows)."""
    if not isinstance(inputs, str) or not inputs.startswith("{"):
        return ""
    import json

    try:
        value = json.loads(inputs).get("chain", "")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


def _prune_cache_mounts(data_root: str, cutoff: float | None) -> int:
    """Remove RUN --mount=type=cache dirs no build is using (older than `cutoff`)."""
    import fcntl

    from dockyard.build.copy import remove_tree
    from dockyard.build.runmounts import cache_root

    base = cache_root(data_root)
    try:
        names = os.listdir(base)
    except FileNotFoundError:
        return 0
    freed = 0
    for name in names:
        d = os.path.join(base, name)
        try:
            fd = os.open(os.path.join(d, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a build is using it
            if cutoff is not None and os.lstat(d).st_mtime >= cutoff:
                continue
            for dirpath, _dirs, files in os.walk(d):
                for f in files:
                    try:
                        freed += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
                    except OSError:
                        pass
            remove_tree(d)
        finally:
            os.close(fd)
    return freed
