"""Importing sqlite's C module at the least cost (every command that reads metadata.db)."""


def load():
    """The C module the `sqlite3` package wraps (the package adds only date/time adapters,
    unused here, and imports `datetime` for them: ~1.5 ms on every `ps` and `run`).

    On 3.11 the C module itself imports `functools` for one thing, `lru_cache` (its
    statement cache), and `functools` drags in `collections`: ~2 ms more, on every
    command that reads the database. It gets the same cache here, built on the C
    `_lru_cache_wrapper` that `functools.lru_cache` wraps, and `functools` is left for
    whoever really imports it."""
    import sys

    if "_sqlite3" in sys.modules or "functools" in sys.modules or sys.version_info[:2] != (3, 11):
        try:
            import _sqlite3
        except ImportError:  # pragma: no cover - an interpreter without the split
            import sqlite3 as _sqlite3
        return _sqlite3
    import _functools

    def lru_cache(maxsize=128, typed=False):
        def wrap(fn):
            return _functools._lru_cache_wrapper(fn, maxsize, typed, tuple)

        return wrap

    stand_in = type(sys)("functools")
    stand_in.lru_cache = lru_cache
    sys.modules["functools"] = stand_in
    try:
        import _sqlite3
    finally:
        if sys.modules.get("functools") is stand_in:
            del sys.modules["functools"]
    return _sqlite3


# The WAL left by the last command is read whole by the next one to open the database
# (sqlite's WAL recovery: ~1.4 ms for sqlite's default of 1000 pages here), so every writer
# checkpoints at 1 MiB instead.
WAL_CHECKPOINT_PAGES = 256

_NO_CKPT_ON_CLOSE = 1006  # SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, sqlite >= 3.16


def keep_wal_on_close(conn, path: str) -> None:
    """Make closing `conn` leave the WAL alone (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE).

    Python 3.12 has `Connection.setconfig`; on CPython 3.11 the connection object's first
    field is its `sqlite3 *`, used only after sqlite itself confirms that handle has `path`
    open. Through `cdata`: the `ctypes` package costs ~2 ms to import. Anything unexpected
    leaves the default (a checkpoint on close: slower, as safe)."""
    setconfig = getattr(conn, "setconfig", None)
    if setconfig is not None:
        setconfig(_NO_CKPT_ON_CLOSE, True)
        return
    import os
    import sys

    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
        return
    try:
        from dockyard import cdata as C

        lib = C.CDLL(load().__file__)
        handle = C.c_void_p.from_address(id(conn) + object.__basicsize__).value
        if not handle:
            return
        filename = lib.sqlite3_db_filename
        filename.restype, filename.argtypes = C.c_char_p, (C.c_void_p, C.c_char_p)
        if filename(handle, b"main") != os.path.realpath(path).encode():
            return
        db_config = lib.sqlite3_db_config
        db_config.argtypes = (C.c_void_p, C.c_int, C.c_int, C.c_void_p)
        db_config(handle, _NO_CKPT_ON_CLOSE, 1, None)
    except (OSError, AttributeError, ValueError, TypeError):
        pass


def tune(conn, path: str) -> None:
    """The settings every connection to the metadata database (`path`) runs with.

    `synchronous=NORMAL` under WAL: a commit survives a process crash, a power cut may lose
    the last ones, never consistency. A checkpoint at WAL_CHECKPOINT_PAGES, and none on close
    (`close`)."""
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")


def close(conn, path: str) -> None:
    """Close a tuned connection without the checkpoint (`keep_wal_on_close`), set only now:
    a process that ends without closing (the CLI's `exit_now`) leaves the WAL just the same
    and never pays for the setting (`_ctypes` and a dlopen, ~0.5 ms)."""
    keep_wal_on_close(conn, path)
    conn.close()


def open_descriptors(db_path: str) -> set[int]:
    """This process's descriptors on the database `db_path` or its WAL, shm or journal."""
    import os

    names = set()
    for base in {db_path, os.path.realpath(db_path)}:
        names |= {base, base + "-wal", base + "-shm", base + "-journal"}
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") in names:
                fds.add(int(fd))
        except OSError:
            pass
    return fds
