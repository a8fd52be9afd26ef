"""The settings every connection to the metadata database runs with (`sqlitemod.tune`), and
its close (`sqlitemod.close`)."""

import os


def test_a_tuned_connection_leaves_the_wal_on_close(tmp_path):
    """Closing skips the checkpoint that would copy the WAL into the database and delete it."""
    from dockyard.sqlitemod import close, load, tune

    path = str(tmp_path / "m.db")
    conn = load().connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    tune(conn, path)
    conn.execute("CREATE TABLE t (a)")
    conn.execute("INSERT INTO t VALUES (1)")
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    close(conn, path)
    assert os.path.getsize(path + "-wal") > 0


def test_tuning_alone_leaves_the_close_to_sqlite(tmp_path):
    """The setting comes with `close` only: a plain close still checkpoints and removes the
    WAL (so the test above shows what `close` adds)."""
    from dockyard.sqlitemod import load, tune

    path = str(tmp_path / "m.db")
    conn = load().connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    tune(conn, path)
    conn.execute("CREATE TABLE t (a)")
    conn.close()
    assert not os.path.exists(path + "-wal")
