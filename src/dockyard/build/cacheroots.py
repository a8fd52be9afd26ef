"""The build cache as a GC root: one lease that never expires names every cached layer.

A cached step is only useful while its blob and its snapshot exist, so each layer the
builder caches is added to the lease `build-cache` (a blob and a snapshot key, which keeps
the snapshot's ancestors). `image prune` and `system prune` then leave them alone; only
`builder prune` forgets entries and rewrites the lease to what is left, then collects.
"""

from dockyard.errors import AlreadyExists, NotFound

CACHE_LEASE = "build-cache"


def add_root(meta, blob: str, chain: str) -> None:
    """Keep `blob` and snapshot `chain` while the cache names them."""
    for _ in range(3):
        try:
            meta.add_lease_resource(CACHE_LEASE, "content", blob)
            if chain:
                meta.add_lease_resource(CACHE_LEASE, "snapshot", chain)
            return
        except NotFound:  # first use, or a prune is rewriting the lease
            try:
                meta.create_lease(CACHE_LEASE, 0)
            except AlreadyExists:
                pass


def reset_roots(meta, roots: list[tuple[str, str]]) -> None:
    """Make the lease name exactly `roots` ((blob, chain) pairs)."""
    try:
        meta.delete_lease(CACHE_LEASE)
    except NotFound:
        pass
    if not roots:
        return
    meta.create_lease(CACHE_LEASE, 0)
    for blob, chain in roots:
        add_root(meta, blob, chain)
