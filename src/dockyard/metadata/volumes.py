"""Volume records and which containers use them (the `volumes` and `volume_refs` tables,
migration 5), and Docker's rule for volume names.

`VolumeStore` opens its own small sqlite connection, like the container store (the
supervisor's finisher uses it too); when the schema is older it lets `MetadataStore`
migrate first. A volume is "in use" while a container that still exists references it:
the check joins with the containers table, so a reference left behind by a container
deleted elsewhere never pins a volume. Creating, referencing and removing run in
`BEGIN IMMEDIATE` transactions, so a remove cannot slip between a create and its reference.
"""

from __future__ import annotations  # `list` is a method name here

try:
    import _sqlite3 as sqlite3  # see metadata.store: skips the datetime import
except ImportError:  # pragma: no cover - an interpreter without the split
    import sqlite3

from dockyard.errors import Conflict, InvalidArgument, NotFound, Unavailable
from dockyard.record import Record
from dockyard.sqlitemod import close as close_db
from dockyard.sqlitemod import tune

VOLUMES_SCHEMA = 5
_COLS = "name, driver, labels, options, created, anonymous"
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
MAX_NAME = 255  # a directory name under volumes/


class VolumeRecord(Record):
    name: str
    driver: str  # "local"
    labels: tuple  # ((key, value), ...) sorted
    options: tuple  # ((key, value), ...) as given (-o)
    created: int  # unix ns
    anonymous: bool = False


def validate_name(name: str) -> str:
    """Docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, with its message. Such a name is one plain
    path component: it cannot hold "/" and cannot be "." or ".."."""
    if (
        len(name) < 2
        or len(name) > MAX_NAME
        or name[0] not in _ALNUM
        or not NAME_CHARS.issuperset(name)
    ):
        raise InvalidArgument(
            f'"{name}" includes invalid characters for a local volume name, only '
            '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
            "directory, use absolute path"
        )
    return name


def _json(pairs) -> str:
    import json

    return json.dumps(dict(pairs), sort_keys=True)


def _pairs(text: str, keep_order: bool = False) -> tuple:
    import json

    items = json.loads(text).items()
    return tuple(items) if keep_order else tuple(sorted(items))


def _rec(row) -> VolumeRecord:
    name, driver, labels, options, created, anonymous = row
    return VolumeRecord(name, driver, _pairs(labels), _pairs(options), created, bool(anonymous))


class VolumeStore:
    def __init__(self, path: str, timeout: float = 30.0):
        self.path = path
        try:
            self._conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
            tune(self._conn, path)
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as e:
            raise Unavailable(f"cannot open metadata database {path}: {e}")
        if version < VOLUMES_SCHEMA:
            from dockyard.metadata.store import MetadataStore

            MetadataStore(path).close()

    def close(self) -> None:
        close_db(self._conn, self.path)

    def __enter__(self) -> VolumeStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _exec(self, sql: str, args: tuple = ()):
        try:
            return self._conn.execute(sql, args)
        except sqlite3.OperationalError as e:
            raise Unavailable(f"metadata database {self.path}: {e}")

    def transaction(self):
        return _Tx(self)

    # -- reads --------------------------------------------------------------------------

    def get(self, name: str) -> VolumeRecord:
        row = self._exec(f"SELECT {_COLS} FROM volumes WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"get {name}: no such volume")
        return _rec(row)

    def find(self, name: str) -> VolumeRecord | None:
        row = self._exec(f"SELECT {_COLS} FROM volumes WHERE name = ?", (name,)).fetchone()
        return _rec(row) if row else None

    def list(self) -> list[VolumeRecord]:
        rows = self._exec(f"SELECT {_COLS} FROM volumes ORDER BY name").fetchall()
        return [_rec(r) for r in rows]

    def users(self, name: str) -> list[str]:
        """Ids of the existing containers that reference the volume."""
        rows = self._exec(
            "SELECT r.container_id FROM volume_refs r JOIN containers c ON c.id = r.container_id"
            " WHERE r.volume = ? ORDER BY r.container_id",
            (name,),
        ).fetchall()
        return [r[0] for r in rows]

    def usage(self) -> dict[str, int]:
        """Volume name -> how many existing containers reference it (only those used)."""
        rows = self._exec(
            "SELECT r.volume, count(*) FROM volume_refs r JOIN containers c"
            " ON c.id = r.container_id GROUP BY r.volume"
        ).fetchall()
        return dict(rows)

    def volumes_of(self, cid: str) -> list[str]:
        rows = self._exec(
            "SELECT volume FROM volume_refs WHERE container_id = ? ORDER BY volume", (cid,)
        ).fetchall()
        return [r[0] for r in rows]

    # -- writes -------------------------------------------------------------------------

    def insert(self, rec: VolumeRecord) -> bool:
        """Add the record; False (and nothing changed) when the name exists."""
        cur = self._exec(
            f"INSERT OR IGNORE INTO volumes ({_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                rec.name,
                rec.driver,
                _json(rec.labels),
                _json(rec.options),
                rec.created,
                int(rec.anonymous),
            ),
        )
        return cur.rowcount == 1

    def add_refs(self, cid: str, names) -> None:
        for name in names:
            if self.find(name) is None:
                raise NotFound(f"get {name}: no such volume")
            self._exec(
                "INSERT OR IGNORE INTO volume_refs (container_id, volume) VALUES (?, ?)",
                (cid, name),
            )

    def drop_refs(self, cid: str) -> list[str]:
        """Forget the container's references; the names it had."""
        names = self.volumes_of(cid)
        self._exec("DELETE FROM volume_refs WHERE container_id = ?", (cid,))
        return names

    def delete(self, name: str, force: bool = False) -> None:
        """Remove the record; Conflict while a container uses it (even with `force`, as
        Docker), NotFound when absent unless `force`."""
        with self.transaction():
            if self.find(name) is None:
                if force:
                    return
                raise NotFound(f"get {name}: no such volume")
            users = self.users(name)
            if users:
                raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
            self._exec("DELETE FROM volume_refs WHERE volume = ?", (name,))
            self._exec("DELETE FROM volumes WHERE name = ?", (name,))


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); nested use joins the outer one."""

    __slots__ = ("_nested", "_store")

    def __init__(self, store: VolumeStore):
        self._store = store
        self._nested = False

    def __enter__(self) -> VolumeStore:
        self._nested = self._store._conn.in_transaction
        if not self._nested:
            self._store._exec("BEGIN IMMEDIATE")
        return self._store

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._nested or not self._store._conn.in_transaction:
            return
        self._store._exec("ROLLBACK" if exc_type is not None else "COMMIT")


def parse_pairs(values, what: str) -> tuple:
    """`K=V` strings (labels, options) -> ((K, V), ...); a later key wins, order kept."""
    out: dict[str, str] = {}
    for v in values:
        key, _, value = v.partition("=")
        if not key:
            raise InvalidArgument(f"invalid {what} '{v}': empty name")
        out[key] = value
    return tuple(out.items())
