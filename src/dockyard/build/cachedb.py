"""The build cache in sqlite (migration 4): step results by cache key, context checksums.

A small connection of its own (like the container store), opened after `MetadataStore`
has migrated the schema. A step result names a layer (diff id, blob) whose snapshot key is
derived from the parent chain, so a row whose blob or snapshot was collected is a miss.
"""

import time

from dockyard.errors import Unavailable
from dockyard.metadata.store import sqlite3  # the C module, imported at the least cost
from dockyard.sqlitemod import close as close_db
from dockyard.sqlitemod import tune

_COLS = "key, slot, diff_id, blob_digest, blob_size, size, inputs, description, created, last_used"


class CacheEntry:
    __slots__ = ("blob_digest", "blob_size", "created", "diff_id", "inputs", "key", "size")

    def __init__(self, key, diff_id, blob_digest, blob_size, size, inputs, created):
        self.key = key
        self.diff_id = diff_id
        self.blob_digest = blob_digest
        self.blob_size = blob_size
        self.size = size
        self.inputs = inputs  # JSON text: {"parent": .., "args": {..}, "files": {..}}
        self.created = created


class BuildCacheDB:
    def __init__(self, path: str):
        # the caller has opened MetadataStore first: it creates and migrates the database
        self.path = path
        try:
            self._conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA busy_timeout = 30000")
            tune(self._conn, path)
        except sqlite3.Error as e:
            raise Unavailable(f"opening the build cache in {path}: {e}") from None

    def close(self) -> None:
        close_db(self._conn, self.path)

    # -- step results ---------------------------------------------------------------------

    def get(self, key: str) -> CacheEntry | None:
        row = self._conn.execute(
            "SELECT key, diff_id, blob_digest, blob_size, size, inputs, created"
            " FROM build_cache WHERE key = ?",
            (key,),
        ).fetchone()
        return CacheEntry(*row) if row else None

    def touch(self, key: str, slack: float = 0.0) -> None:
        """Mark `key` used now — unless it was within `slack` seconds (no write at all then:
        a cached build that writes nothing also leaves no WAL to checkpoint)."""
        now = time.time()
        self._conn.execute(
            "UPDATE build_cache SET last_used = ? WHERE key = ? AND last_used < ?",
            (now, key, now - slack),
        )

    def latest_for_slot(self, slot: str) -> CacheEntry | None:
        row = self._conn.execute(
            "SELECT key, diff_id, blob_digest, blob_size, size, inputs, created"
            " FROM build_cache WHERE slot = ? ORDER BY created DESC LIMIT 1",
            (slot,),
        ).fetchone()
        return CacheEntry(*row) if row else None

    def put(self, key, slot, diff_id, blob_digest, blob_size, size, inputs, description) -> None:
        now = time.time()
        self._conn.execute(
            f"INSERT OR REPLACE INTO build_cache ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (key, slot, diff_id, blob_digest, blob_size, size, inputs, description, now, now),
        )

    def put_many(self, rows: list[tuple]) -> None:
        """`put` for each row (its arguments), in one transaction."""
        if not rows:
            return
        now = time.time()
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                f"INSERT OR REPLACE INTO build_cache ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(*r, now, now) for r in rows],
            )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def entries(self) -> list[tuple[str, str, int, str, float]]:
        """(key, blob digest, size, inputs, last used) of every cached result."""
        return self._conn.execute(
            "SELECT key, blob_digest, size, inputs, last_used FROM build_cache"
        ).fetchall()

    def forget(self, keys: list[str], checksums: bool) -> None:
        """Delete the results `keys` (and every context checksum when `checksums`)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany("DELETE FROM build_cache WHERE key = ?", [(k,) for k in keys])
            if checksums:
                self._conn.execute("DELETE FROM build_checksums")
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    # -- context checksums ----------------------------------------------------------------

    def checksums(self, prefix: str) -> dict[str, tuple[int, int, int, str]]:
        """path -> (size, mtime_ns, inode, digest) for every cached path under `prefix`."""
        rows = self._conn.execute(
            "SELECT path, size, mtime_ns, inode, digest FROM build_checksums"
            " WHERE path >= ? AND path < ?",
            (prefix, prefix + "\xff"),
        ).fetchall()
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}

    def put_checksums(self, rows: list[tuple[str, int, int, int, str]]) -> None:
        if not rows:
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                "INSERT OR REPLACE INTO build_checksums (path, size, mtime_ns, inode, digest)"
                " VALUES (?,?,?,?,?)",
                rows,
            )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
