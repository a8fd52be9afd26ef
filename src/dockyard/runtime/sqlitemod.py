"""Importing sqlite's C module for the runtime's short-lived processes, at the least cost."""


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
