"""The runtime's sqlite on the start path: the C module loads without `functools` (and its
`collections`), with a working statement cache."""

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
import sys
from dockyard.sqlitemod import load
sqlite = load()
assert "functools" not in sys.modules and "collections" not in sys.modules
conn = sqlite.connect(":memory:")
conn.execute("CREATE TABLE t (x)")
for i in range(500):  # the same statements again and again: the cache serves them
    conn.execute("INSERT INTO t VALUES (?)", (i % 7,))
    conn.execute("SELECT count(*) FROM t WHERE x = ?", (i % 7,)).fetchone()
print(conn.execute("SELECT count(*), sum(x) FROM t").fetchone())
import functools  # the real one, for whoever imports it later
assert hasattr(functools, "partial")
"""


def test_sqlite_loads_without_functools_and_caches_statements():
    env = dict(os.environ, PYTHONPATH=str(SRC))
    p = subprocess.run([sys.executable, "-S", "-c", PROBE], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "(500, 1494)"
