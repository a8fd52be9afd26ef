"""The metadata database: one sqlite file (WAL) holding images, tags, layers, snapshots, leases.

Several CLI processes and a server share one data root, so every connection waits on the
write lock (busy timeout) instead of failing with "database is locked", and every multi-step
change runs inside `transaction()` (`BEGIN IMMEDIATE`: the write lock is taken up front, so a
transaction never has to upgrade from reader to writer, which WAL cannot do while waiting).

Opening is on the path of every CLI call: when the schema is current it is one connect and
three pragmas. Rows leave this module only as the frozen records of `metadata.records`.

Durability: WAL with `synchronous=NORMAL` — a commit is in the WAL when it returns, which a
process crash never loses; a power cut may lose the last commits, never consistency. The WAL
is flushed only at checkpoints (every connection's settings: `sqlitemod.tune`). Closing does
not checkpoint (`sqlitemod.close`): the last connection to close would otherwise copy the WAL
into the database, fsync both and delete the WAL (~20 ms at the end of a build here), and the
next command would create and sync a new one. Callers that write files which a record will
name flush those files first (content/durable.py), so a record never reaches the disk ahead
of what it names.
"""

import os
import time
from _thread import RLock  # threading's RLock itself; skips importing threading

from dockyard import digest as _digest
from dockyard.errors import AlreadyExists, DataLoss, InvalidArgument, NotFound, Unavailable
from dockyard.metadata import schema
from dockyard.metadata.records import (
    ImageRecord,
    LayerRecord,
    LeaseRecord,
    LeaseResource,
    SnapshotRecord,
)
from dockyard.sqlitemod import close as close_db
from dockyard.sqlitemod import load as load_sqlite
from dockyard.sqlitemod import tune

sqlite3 = load_sqlite()


LEASE_KINDS = frozenset({"content", "snapshot"})
_HEX = frozenset("0123456789abcdef")
_IMAGE_COLUMNS = "id, manifest_digest, manifest_media_type, created, size, added_at, parent"
_LAYER_COLUMNS = "diff_id, blob_digest, media_type, blob_size, size"
_SNAPSHOT_COLUMNS = "key, parent, dir, size, created"
# Deeper than any real image (overlay itself stops at 500 lower layers); guards against a cycle.
_MAX_CHAIN = 1000


def _create_file(path: str) -> None:
    """Create an empty database file 0600 (and its directory 0700) if it does not exist yet."""
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, mode=0o700, exist_ok=True)
        os.chmod(parent, 0o700)  # makedirs' mode is filtered by the umask
    try:
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class _Transaction:
    """`with store.transaction():` — the outermost level commits; inner levels are savepoints,
    so an inner failure that the caller catches undoes only the inner part."""

    __slots__ = ("_savepoint", "_store")

    def __init__(self, store: "MetadataStore"):
        self._store = store
        self._savepoint = ""

    def __enter__(self) -> "MetadataStore":
        store = self._store
        store._lock.acquire()
        try:
            if store._depth == 0:
                store._run("BEGIN IMMEDIATE")
            else:
                self._savepoint = f"sp{store._depth}"
                store._run(f"SAVEPOINT {self._savepoint}")
        except BaseException:
            store._lock.release()
            raise
        store._depth += 1
        return store

    def __exit__(self, exc_type, exc, tb) -> None:
        store = self._store
        try:
            store._depth -= 1
            if self._savepoint:
                # An error that aborted the whole transaction leaves no savepoint to undo.
                if store._conn.in_transaction:
                    if exc_type is not None:
                        store._run(f"ROLLBACK TO {self._savepoint}")
                    store._run(f"RELEASE {self._savepoint}")
            elif exc_type is not None:
                if store._conn.in_transaction:
                    store._run("ROLLBACK")
            else:
                try:
                    store._run("COMMIT")
                except BaseException:
                    if store._conn.in_transaction:
                        store._run("ROLLBACK")
                    raise
        finally:
            store._lock.release()


class MetadataStore:
    """Records of images, tags, repo digests, layers, snapshots and leases in one sqlite file.

    Safe to share between threads (calls are serialized); each process opens its own.
    """

    def __init__(self, path: str, *, timeout: float = 30.0):
        self.path = path
        self._lock = RLock()
        self._depth = 0
        if not os.path.exists(path):
            _create_file(path)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves (the module's implicit
            # transactions would start deferred ones). timeout is sqlite's busy timeout.
            self._conn = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as e:
            raise Unavailable(f"cannot open metadata database {path}: {e}")
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise

    def _open(self) -> None:
        try:
            # Per-connection settings; NORMAL is durable across application crashes under WAL
            # and loses at most the last commits on power loss, never consistency.
            tune(self._conn, self.path)
            self._conn.execute("PRAGMA foreign_keys = ON")
            version = schema.user_version(self._conn)
            schema.check_version(version, self.path)
            if version < schema.SCHEMA_VERSION:
                # WAL is a property of the file: set once, before the first table exists.
                self._enable_wal()
                schema.migrate(self._conn, self.path)
        except sqlite3.OperationalError as e:
            raise _translate(e, self.path)
        except sqlite3.DatabaseError as e:
            raise DataLoss(f"metadata database {self.path} is unreadable: {e}")

    def _enable_wal(self, attempts: int = 400) -> None:
        """Switch the file to WAL, waiting out other processes creating the same database.

        The switch needs the file to itself, and sqlite may answer "database is locked" at once
        instead of calling the busy handler, so retry for a while (about 4 s) ourselves.
        """
        for attempt in range(attempts):
            try:
                (mode,) = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                mode = ""
            if mode.lower() == "wal":
                return
            time.sleep(0.01 if attempt < 100 else 0.02)
        raise Unavailable(f"metadata database {self.path} is busy: cannot switch it to WAL")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema.user_version(self._conn)

    def close(self) -> None:
        with self._lock:
            close_db(self._conn, self.path)

    def __enter__(self) -> "MetadataStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def transaction(self) -> _Transaction:
        """BEGIN IMMEDIATE; nested calls join the outer one; rolls back on an exception."""
        return _Transaction(self)

    # -- low-level helpers -------------------------------------------------------------

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, args)
        except sqlite3.OperationalError as e:
            raise _translate(e, self.path)

    def _rows(self, sql: str, args: tuple = ()) -> list:
        with self._lock:
            return self._run(sql, args).fetchall()

    def _row(self, sql: str, args: tuple = ()):
        with self._lock:
            return self._run(sql, args).fetchone()

    def _change(self, sql: str, args: tuple = ()) -> int:
        with self._lock:
            return self._run(sql, args).rowcount

    # -- images ----------------------------------------------------------------------

    def put_image(self, rec: ImageRecord) -> None:
        _digest.validate(rec.id)
        _digest.validate(rec.manifest_digest)
        self._change(
            f"INSERT INTO images ({_IMAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            # An upsert, not INSERT OR REPLACE: a replace deletes the row and would cascade
            # to the image's tags.
            "ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest, "
            "manifest_media_type = excluded.manifest_media_type, created = excluded.created, "
            "size = excluded.size, added_at = excluded.added_at, parent = excluded.parent",
            (
                rec.id,
                rec.manifest_digest,
                rec.manifest_media_type,
                rec.created,
                rec.size,
                rec.added_at,
                rec.parent,
            ),
        )

    def get_image(self, image_id: str) -> ImageRecord:
        row = self._row(f"SELECT {_IMAGE_COLUMNS} FROM images WHERE id = ?", (image_id,))
        if row is None:
            raise NotFound(f"No such image: {image_id}")
        return ImageRecord(*row)

    def list_images(self) -> list[ImageRecord]:
        rows = self._rows(f"SELECT {_IMAGE_COLUMNS} FROM images ORDER BY added_at, id")
        return [ImageRecord(*row) for row in rows]

    def delete_image(self, image_id: str) -> None:
        """Delete an image record; its tags and repo digests go with it."""
        if not self._change("DELETE FROM images WHERE id = ?", (image_id,)):
            raise NotFound(f"No such image: {image_id}")

    def resolve_image_prefix(self, prefix: str) -> str:
        """The full id of the one image whose id starts with `prefix` ("sha256:" optional)."""
        hexpart = prefix[7:] if prefix.startswith("sha256:") else prefix
        if not hexpart:
            raise InvalidArgument("an image id prefix must not be empty")
        if len(hexpart) > 64 or not _HEX.issuperset(hexpart):
            raise NotFound(f"No such image: {prefix}")
        low = "sha256:" + hexpart
        # The smallest string greater than every id with this prefix: bump the last
        # character ('9' -> ':' and 'f' -> 'g' both sort after every hex digit they replace).
        high = low[:-1] + chr(ord(low[-1]) + 1)
        rows = self._rows("SELECT id FROM images WHERE id >= ? AND id < ? LIMIT 2", (low, high))
        if not rows:
            raise NotFound(f"No such image: {prefix}")
        if len(rows) > 1:
            raise InvalidArgument(f"multiple IDs found with provided prefix: {prefix}")
        return rows[0][0]

    # -- tags and repo digests ---------------------------------------------------------

    def set_tag(self, name: str, image_id: str) -> str | None:
        """Point `name` at `image_id`; return the image it pointed at before, if any."""
        with self.transaction():
            row = self._row("SELECT image_id FROM tags WHERE name = ?", (name,))
            self._require_image(image_id)
            self._run(
                "INSERT INTO tags (name, image_id) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
                (name, image_id),
            )
        return row[0] if row else None

    def get_tag(self, name: str) -> str:
        row = self._row("SELECT image_id FROM tags WHERE name = ?", (name,))
        if row is None:
            raise NotFound(f"No such image: {name}")
        return row[0]

    def delete_tag(self, name: str) -> None:
        if not self._change("DELETE FROM tags WHERE name = ?", (name,)):
            raise NotFound(f"No such image: {name}")

    def tags_for(self, image_id: str) -> list[str]:
        rows = self._rows("SELECT name FROM tags WHERE image_id = ? ORDER BY name", (image_id,))
        return [r[0] for r in rows]

    def list_tags(self) -> dict[str, str]:
        return dict(self._rows("SELECT name, image_id FROM tags ORDER BY name"))

    def add_repo_digest(self, name_at_digest: str, image_id: str) -> None:
        with self.transaction():
            self._require_image(image_id)
            self._run(
                "INSERT INTO repo_digests (name, image_id) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
                (name_at_digest, image_id),
            )

    def repo_digests_for(self, image_id: str) -> list[str]:
        rows = self._rows(
            "SELECT name FROM repo_digests WHERE image_id = ? ORDER BY name", (image_id,)
        )
        return [r[0] for r in rows]

    def delete_repo_digest(self, name_at_digest: str) -> None:
        if not self._change("DELETE FROM repo_digests WHERE name = ?", (name_at_digest,)):
            raise NotFound(f"No such image: {name_at_digest}")

    def _require_image(self, image_id: str) -> None:
        if self._row("SELECT 1 FROM images WHERE id = ?", (image_id,)) is None:
            raise NotFound(f"No such image: {image_id}")

    # -- layers ------------------------------------------------------------------------

    def put_layer(self, rec: LayerRecord) -> None:
        _digest.validate(rec.diff_id)
        _digest.validate(rec.blob_digest)
        self._change(
            f"INSERT INTO layers ({_LAYER_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(blob_digest) DO UPDATE SET diff_id = excluded.diff_id, "
            "media_type = excluded.media_type, blob_size = excluded.blob_size, "
            "size = excluded.size",
            (rec.diff_id, rec.blob_digest, rec.media_type, rec.blob_size, rec.size),
        )

    def layers_for_diff_id(self, diff_id: str) -> list[LayerRecord]:
        rows = self._rows(
            f"SELECT {_LAYER_COLUMNS} FROM layers WHERE diff_id = ? ORDER BY blob_digest",
            (diff_id,),
        )
        return [LayerRecord(*row) for row in rows]

    def layer_for_blob(self, blob_digest: str) -> LayerRecord | None:
        row = self._row(
            f"SELECT {_LAYER_COLUMNS} FROM layers WHERE blob_digest = ?", (blob_digest,)
        )
        return LayerRecord(*row) if row else None

    def list_layers(self) -> list[LayerRecord]:
        rows = self._rows(f"SELECT {_LAYER_COLUMNS} FROM layers ORDER BY blob_digest")
        return [LayerRecord(*row) for row in rows]

    def delete_layer(self, blob_digest: str) -> None:
        self._change("DELETE FROM layers WHERE blob_digest = ?", (blob_digest,))

    # -- snapshots ---------------------------------------------------------------------

    def put_snapshot(self, rec: SnapshotRecord) -> None:
        """Record a new snapshot; AlreadyExists if the key is taken."""
        try:
            self._change(
                f"INSERT INTO snapshots ({_SNAPSHOT_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (rec.key, rec.parent, rec.dir, rec.size, rec.created),
            )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"snapshot {rec.key} already exists")

    def get_snapshot(self, key: str) -> SnapshotRecord | None:
        row = self._row(f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE key = ?", (key,))
        return SnapshotRecord(*row) if row else None

    def list_snapshots(self) -> list[SnapshotRecord]:
        rows = self._rows(f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots ORDER BY key")
        return [SnapshotRecord(*row) for row in rows]

    def delete_snapshot(self, key: str) -> None:
        if not self._change("DELETE FROM snapshots WHERE key = ?", (key,)):
            raise NotFound(f"No such snapshot: {key}")

    def snapshot_children(self, key: str) -> list[str]:
        rows = self._rows("SELECT key FROM snapshots WHERE parent = ? ORDER BY key", (key,))
        return [r[0] for r in rows]

    def snapshot_chain(self, key: str) -> list[SnapshotRecord]:
        """The snapshot and its ancestors, itself first; NotFound if it is not recorded,
        DataLoss if an ancestor is missing or the chain loops."""
        rows = self._rows(
            "WITH RECURSIVE chain(depth, key, parent, dir, size, created) AS ("
            f" SELECT 0, {_SNAPSHOT_COLUMNS} FROM snapshots WHERE key = ?"
            " UNION ALL"
            " SELECT chain.depth + 1, s.key, s.parent, s.dir, s.size, s.created"
            " FROM snapshots s JOIN chain ON s.key = chain.parent"
            " WHERE chain.depth < ?"
            f") SELECT {_SNAPSHOT_COLUMNS} FROM chain ORDER BY depth",
            (key, _MAX_CHAIN),
        )
        if not rows:
            raise NotFound(f"No such snapshot: {key}")
        chain = [SnapshotRecord(*row) for row in rows]
        if chain[-1].parent:
            if len(chain) > _MAX_CHAIN:
                raise DataLoss(f"snapshot {key}: parent chain is longer than {_MAX_CHAIN}")
            raise DataLoss(f"snapshot {key}: parent {chain[-1].parent} is missing")
        return chain

    def next_snapshot_number(self) -> int:
        """A number never handed out before in this database (names a snapshot directory)."""
        with self.transaction():
            self._run(
                "INSERT INTO counters (name, value) VALUES ('snapshot', 1) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1"
            )
            return self._run("SELECT value FROM counters WHERE name = 'snapshot'").fetchone()[0]

    # -- leases ------------------------------------------------------------------------

    def create_lease(self, lease_id: str, expires_at: float) -> LeaseRecord:
        """A lease keeps its resources from GC until deleted or `expires_at` (0: never)."""
        if not lease_id:
            raise InvalidArgument("a lease id must not be empty")
        rec = LeaseRecord(lease_id, float(expires_at), time.time())
        try:
            self._change(
                "INSERT INTO leases (id, expires_at, created) VALUES (?, ?, ?)",
                (rec.id, rec.expires_at, rec.created),
            )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"lease {lease_id} already exists")
        return rec

    def add_lease_resource(self, lease_id: str, kind: str, ref: str) -> None:
        if kind not in LEASE_KINDS:
            raise InvalidArgument(f"unknown lease resource kind {kind!r}")
        if not ref:
            raise InvalidArgument("a lease resource must not be empty")
        try:
            self._change(
                "INSERT OR IGNORE INTO lease_resources (lease_id, kind, ref) VALUES (?, ?, ?)",
                (lease_id, kind, ref),
            )
        except sqlite3.IntegrityError:
            raise NotFound(f"No such lease: {lease_id}")

    def delete_lease(self, lease_id: str) -> None:
        if not self._change("DELETE FROM leases WHERE id = ?", (lease_id,)):
            raise NotFound(f"No such lease: {lease_id}")

    def list_leases(self) -> list[LeaseRecord]:
        rows = self._rows("SELECT id, expires_at, created FROM leases ORDER BY id")
        return [LeaseRecord(*row) for row in rows]

    def lease_resources(self, lease_id: str | None = None) -> list[LeaseResource]:
        if lease_id is None:
            rows = self._rows("SELECT lease_id, kind, ref FROM lease_resources ORDER BY 1, 2, 3")
        else:
            rows = self._rows(
                "SELECT lease_id, kind, ref FROM lease_resources WHERE lease_id = ? ORDER BY 2, 3",
                (lease_id,),
            )
        return [LeaseResource(*row) for row in rows]

    def delete_expired_leases(self, now: float) -> list[str]:
        with self.transaction():
            ids = [
                r[0]
                for r in self._run(
                    "SELECT id FROM leases WHERE expires_at > 0 AND expires_at <= ? ORDER BY id",
                    (now,),
                ).fetchall()
            ]
            self._run("DELETE FROM leases WHERE expires_at > 0 AND expires_at <= ?", (now,))
        return ids


def _translate(e: "sqlite3.OperationalError", path: str) -> Exception:
    message = str(e)
    if "locked" in message or "busy" in message:
        return Unavailable(f"metadata database {path} is busy: {message}")
    if "readonly" in message or "unable to open" in message:
        return Unavailable(f"cannot write metadata database {path}: {message}")
    return e
