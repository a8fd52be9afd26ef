"""BuildService: `build` (a context and a Dockerfile become a tagged image) and the build
cache's `prune`, over the image service's stores.

The builder (L3) returns the config and the layers; this records the manifest and the
image, then points the tags at it — in that order, so a failed build leaves no tag moved.

A build remembers what its result depended on: the base images' ids, the identity (size,
mtime, inode, mode) of every context path it looked at, and its steps. The next build of
the same Dockerfile with the same options checks just those — no parsing, no hashing —
and, when nothing changed, reuses the image (every step would have come from the cache).
"""

from __future__ import annotations

import os

from dockyard.config import Config
from dockyard.errors import InvalidArgument


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

        os.makedirs(opts.tmp_dir, 0o700, exist_ok=True)
        from dockyard.images.unpack import Stores
        from dockyard.metadata.lease import Lease, gc_lock_path

        im = self.images
        stores = Stores(im.content, im.meta, im.snapshots)
        with Lease(im.meta, gc_lock_path(self.config.root)) as lease:
            result = build(opts, stores, lease, self.cache, self._resolve_base, events)
            image_id, mdigest, _ = store_manifest(
                stores.content, lease, result.config_bytes, list(result.layers)
            )
            publish(stores.meta, image_id, mdigest, mt.OCI_MANIFEST, result.created,
                    result.size, names, parent=result.parent)  # fmt: skip
        if fast and result.deps:
            import marshal  # json costs ~5 ms to import (re); this is on the cached path

            deps = marshal.dumps(result.deps)
            self.cache.put(fast, "result", image_id, image_id, 0, 0, deps, "build result")
        return image_id

    def _fast_key(self, opts) -> str:
        import hashlib

        parts = [opts.dockerfile, repr(sorted(opts.build_args.items())), opts.target,
                 repr(sorted(opts.labels.items())), opts.network,
                 str(opts.source_date_epoch), os.path.realpath(opts.context_dir)]  # fmt: skip
        return "result-" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()

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
        image_id = entry.diff_id
        meta = self.images.meta
        try:
            meta.get_image(image_id)
            for name, want in deps["bases"].items():
                if self.images.resolve(name).id != want:
                    return ""
        except NotFound:
            return ""
        if not self.images.content.has(image_id) or not unchanged(deps["paths"]):
            return ""
        with meta.transaction():
            meta.get_image(image_id)
            for n in names:
                meta.set_tag(n, image_id)
        self.cache.touch(key)
        if events is not None:
            steps = deps["steps"]
            for i, (text, layer) in enumerate(steps, 1):
                events.step(i, len(steps), text)
                if layer:
                    events.cached()
            events.done(0.0)
        return image_id

    def prune(self) -> tuple[int, int]:
        """Forget the build cache and collect what nothing else uses; (entries, bytes freed)."""
        count, _ = self.cache.prune()
        report = self.images.gc()
        return count, report.reclaimed
