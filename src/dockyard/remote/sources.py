"""Which repositories of which registry hold a blob: remembered on pull and push, so that a
later push to another repository of the same registry can mount the blob instead of
uploading it. A stale row costs nothing: the registry then answers the mount with an upload.
"""

MAX_SOURCES = 4  # mount attempts per blob before uploading


def record(meta, registry: str, repository: str, digests: list[str]) -> None:
    """Remember that `repository` of `registry` holds `digests` (no write when it is known)."""
    if not digests:
        return
    marks = ",".join("?" * len(digests))
    known = {
        r[0]
        for r in meta._rows(
            "SELECT blob_digest FROM blob_sources WHERE registry = ? AND repository = ?"
            f" AND blob_digest IN ({marks})",
            (registry, repository, *digests),
        )
    }
    new = [d for d in dict.fromkeys(digests) if d not in known]
    if not new:
        return
    with meta.transaction():
        for d in new:
            meta._change(
                "INSERT OR REPLACE INTO blob_sources (blob_digest, registry, repository, seen)"
                " VALUES (?, ?, ?, strftime('%s','now'))",
                (d, registry, repository),
            )


def sources(meta, registry: str, digest: str, exclude: str = "") -> list[str]:
    """Repositories of `registry` known to hold `digest`, most recently seen first."""
    rows = meta._rows(
        "SELECT repository FROM blob_sources WHERE blob_digest = ? AND registry = ?"
        " ORDER BY seen DESC LIMIT ?",
        (digest, registry, MAX_SOURCES + 1),
    )
    return [r[0] for r in rows if r[0] != exclude][:MAX_SOURCES]
