"""The build's step results, held back until the layers they name are on disk.

A build writes its layers without flushing each one (`commit(durable=False)`, `create(...,
durable=False)`): an fsync per blob and a syncfs per snapshot cost more than the rest of a
small build. A process killed at any point loses nothing of them (the page cache outlives it),
but a power cut may: so nothing durable may name a layer before one flush of the data root.
The cache entries (and their GC roots) that name this build's layers wait here, and `flush`
writes them after that one syncfs — at the end of the build, by the service just before it
records the image, or when the build fails (so the steps that succeeded stay cached).

Until then a later step of the same build finds them here (`get`), as if they were stored.

When the caller has marked the data root (`content.lateflush.mark`, before the build wrote
anything), the rows need no flush ahead of them: the mark stands for it until the
caller's late flush, and a power cut in between is found and repaired (images.recovery).
"""

from dockyard.build.cachedb import CacheEntry


class Records:
    """Step results of one build (or one forked stage builder) not yet written."""

    def __init__(self, marked: bool = False):
        self.marked = marked  # the data root is marked: rows go in without a flush first
        self._layers: list[tuple] = []  # (blob digest, chain) to root in the build cache
        self._puts: dict[str, tuple] = {}  # key -> BuildCacheDB.put arguments

    def add_layer(self, key: str, slot: str, layer, inputs_json: str, text: str) -> None:
        self._layers.append((layer.blob_digest, layer.chain))
        self._puts[key] = (key, slot, layer.diff_id, layer.blob_digest, layer.blob_size,
                           layer.size, inputs_json, text)  # fmt: skip

    def add(self, *put_args) -> None:
        """Any other cache row (BuildCacheDB.put's arguments), e.g. the image's."""
        self._puts[put_args[0]] = put_args

    def get(self, key: str) -> CacheEntry | None:
        a = self._puts.get(key)
        if a is None:
            return None
        import time

        return CacheEntry(a[0], a[2], a[3], a[4], a[5], a[6], time.time())

    def flush(self, stores, cache, force: bool = False) -> None:
        """One flush of the stores' filesystems (none when `marked`), then the held rows (in
        that order). Nothing held: no flush, unless `force` (the caller wrote something
        unflushed)."""
        if not self._puts and not self._layers and not force:
            return
        from dockyard.build.cacheroots import add_root

        if not self.marked:
            from dockyard.content.durable import sync_paths

            sync_paths(stores.content.root, stores.snapshots.root)
        layers, puts = self._layers, self._puts
        self._layers, self._puts = [], {}
        for blob, chain in layers:
            add_root(stores.meta, blob, chain)
        cache.put_many(list(puts.values()))

    def flush_quietly(self, stores, cache) -> None:
        """`flush` on a failure path: a failed flush only costs cache misses later, never
        the error being reported."""
        try:
            self.flush(stores, cache)
        except Exception:
            pass
