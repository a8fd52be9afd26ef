"""Container records in the metadata database (the `containers` table, migration 2).

`ContainerStore` opens its own small sqlite connection (the supervisor uses it too, and must
not import the whole metadata package); when the schema is older it lets `MetadataStore`
migrate first. Lifecycle changes are compare-and-set (`UPDATE ... WHERE state IN (...)`),
so two processes racing on one container cannot both win a move.
"""

from dockyard.errors import AlreadyExists, InvalidArgument, NotFound, Unavailable
from dockyard.linux.record import Record
from dockyard.sqlitemod import close as close_db
from dockyard.sqlitemod import load as _load_sqlite
from dockyard.sqlitemod import tune

sqlite3 = _load_sqlite()

CONTAINERS_SCHEMA = 2
COLUMNS = (
    "id",
    "name",
    "image",
    "image_id",
    "snapshot",
    "created",
    "state",
    "pid",
    "sup_pid",
    "sup_start",
    "exit_code",
    "error",
    "started",
    "finished",
    "oom_killed",
    "restart_count",
    "spec",
)
_COLS = ", ".join(COLUMNS)
_HEX = frozenset("0123456789abcdef")


class ContainerRecord(Record):
    id: str
    name: str  # without the leading "/"
    image: str  # as the user named it
    image_id: str
    snapshot: str  # the image's top snapshot key (lowerdirs)
    created: int  # unix ns
    state: str
    pid: int  # the init's pid on the host, 0 when not running
    sup_pid: int
    sup_start: str  # the supervisor's start time (/proc/<pid>/stat field 22): pid reuse guard
    exit_code: int
    error: str
    started: int
    finished: int
    oom_killed: bool
    restart_count: int
    spec: str  # ContainerSpec JSON
    __slots__ = _fields = COLUMNS
    _defaults = {
        "pid": 0,
        "sup_pid": 0,
        "sup_start": "",
        "exit_code": 0,
        "error": "",
        "started": 0,
        "finished": 0,
        "oom_killed": False,
        "restart_count": 0,
    }


def _rec(row) -> ContainerRecord:
    values = list(row)
    values[14] = bool(values[14])
    return ContainerRecord(*values)


class ContainerStore:
    def __init__(self, path: str, timeout: float = 30.0):
        self.path = path
        try:
            self._conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
            tune(self._conn, path)  # (WAL set by MetadataStore)
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as e:
            raise Unavailable(f"cannot open metadata database {path}: {e}")
        if version < CONTAINERS_SCHEMA:
            from dockyard.metadata.store import MetadataStore

            MetadataStore(path).close()

    def close(self) -> None:
        close_db(self._conn, self.path)

    def _exec(self, sql: str, args: tuple = ()):
        try:
            return self._conn.execute(sql, args)
        except sqlite3.OperationalError as e:
            raise Unavailable(f"metadata database {self.path}: {e}")

    # -- reads --------------------------------------------------------------------------

    def get(self, cid: str) -> ContainerRecord:
        row = self._exec(f"SELECT {_COLS} FROM containers WHERE id = ?", (cid,)).fetchone()
        if row is None:
            raise NotFound(f"No such container: {cid}")
        return _rec(row)

    def find(self, ref: str) -> ContainerRecord:
        """By full id, by name (with or without "/"), or by a unique id prefix (Docker's order)."""
        if not ref:
            raise InvalidArgument("container name or ID cannot be empty")
        row = self._exec(f"SELECT {_COLS} FROM containers WHERE id = ?", (ref,)).fetchone()
        if row is None:
            name = ref[1:] if ref.startswith("/") else ref
            row = self._exec(f"SELECT {_COLS} FROM containers WHERE name = ?", (name,)).fetchone()
        if row is None and all(c in _HEX for c in ref):
            rows = self._exec(
                f"SELECT {_COLS} FROM containers WHERE substr(id, 1, ?) = ? LIMIT 2",
                (len(ref), ref),
            ).fetchall()
            if len(rows) > 1:
                raise InvalidArgument(f"Multiple IDs found with provided prefix: {ref}")
            row = rows[0] if rows else None
        if row is None:
            raise NotFound(f"No such container: {ref}")
        return _rec(row)

    def list(self) -> list[ContainerRecord]:
        rows = self._exec(f"SELECT {_COLS} FROM containers ORDER BY created DESC").fetchall()
        return [_rec(r) for r in rows]

    def using_image(self, image_id: str) -> bool:
        row = self._exec("SELECT 1 FROM containers WHERE image_id = ? LIMIT 1", (image_id,))
        return row.fetchone() is not None

    # -- writes -------------------------------------------------------------------------

    def insert(self, rec: ContainerRecord) -> None:
        try:
            self._exec(
                f"INSERT INTO containers ({_COLS}) VALUES ({', '.join('?' * len(COLUMNS))})",
                tuple(int(v) if isinstance(v, bool) else v for v in rec._values()),
            )
        except sqlite3.IntegrityError:
            raise _name_conflict(self, rec.name)

    def update(
        self, cid: str, from_states: tuple[str, ...] | None = None, where=None, **fields
    ) -> bool:
        """Set `fields`; with `from_states`, only if the state is one of them, with `where`
        ({column: value}) only if those match too. True if changed."""
        for k in (*fields, *(where or ())):
            if k not in COLUMNS or k == "id":
                raise InvalidArgument(f"unknown container field {k}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        args = tuple(int(v) if isinstance(v, bool) else v for v in fields.values())
        sql = f"UPDATE containers SET {sets} WHERE id = ?"
        args += (cid,)
        if from_states:
            sql += f" AND state IN ({', '.join('?' * len(from_states))})"
            args += tuple(from_states)
        for k, v in (where or {}).items():
            sql += f" AND {k} = ?"
            args += (v,)
        try:
            return self._exec(sql, args).rowcount == 1
        except sqlite3.IntegrityError:
            raise _name_conflict(self, str(fields.get("name", "")))

    def delete(self, cid: str) -> bool:
        return self._exec("DELETE FROM containers WHERE id = ?", (cid,)).rowcount == 1


def _name_conflict(store: ContainerStore, name: str) -> Exception:
    from dockyard.errors import Conflict

    row = store._exec("SELECT id FROM containers WHERE name = ?", (name,)).fetchone()
    owner = row[0] if row else "?"
    if row is None:
        return AlreadyExists(f"container {name} already exists")
    return Conflict(
        f'Conflict. The container name "/{name}" is already in use by container "{owner}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )
