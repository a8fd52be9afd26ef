"""`importcache`: modules served from one compiled file, and never stale."""

import os
import sys

import pytest

from dockyard import importcache


@pytest.fixture
def pkg(tmp_path):
    """A package `ic_pkg` with a module, a subpackage and its module; removed from
    sys.modules and sys.meta_path after the test."""
    root = tmp_path / "ic_pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("NAME = 'pkg'\n")
    (root / "mod.py").write_text("VALUE = 1\n")
    (root / "sub" / "__init__.py").write_text("")
    (root / "sub" / "leaf.py").write_text("from ic_pkg.mod import VALUE\nDOUBLE = VALUE * 2\n")
    before = list(sys.meta_path)
    sys.path.insert(0, str(tmp_path))
    yield root
    sys.meta_path[:] = before
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n == "ic_pkg" or n.startswith("ic_pkg.")]:
        del sys.modules[name]


def _cached(root) -> str:
    return str(root / importcache.CACHE_NAME)


def test_modules_come_from_the_cache_with_their_file_and_path(pkg):
    assert importcache.build(str(pkg)) == 4
    assert importcache.install(_cached(pkg))
    import ic_pkg.sub.leaf as leaf

    assert leaf.DOUBLE == 2
    assert type(leaf.__spec__.loader).__name__ == "_Finder"
    assert leaf.__file__ == str(pkg / "sub" / "leaf.py")
    assert sys.modules["ic_pkg.sub"].__path__ == [str(pkg / "sub")]
    assert sys.modules["ic_pkg"].NAME == "pkg"


def test_an_edited_module_is_imported_from_its_source(pkg):
    importcache.build(str(pkg))
    (pkg / "mod.py").write_text("VALUE = 21\n")  # other size and mtime than compiled
    assert importcache.install(_cached(pkg))
    import ic_pkg.mod
    import ic_pkg.sub.leaf

    assert ic_pkg.mod.VALUE == 21
    assert ic_pkg.sub.leaf.DOUBLE == 42
    assert type(ic_pkg.mod.__spec__.loader).__name__ != "_Finder"
    assert type(ic_pkg.sub.leaf.__spec__.loader).__name__ == "_Finder"


def test_a_cache_of_another_interpreter_or_none_at_all_is_not_used(pkg, monkeypatch):
    importcache.build(str(pkg))
    assert not importcache.install(str(pkg / "no-such-cache.bin"))
    monkeypatch.setattr(importcache, "_tag", lambda: "cpython-99:0")
    n = len(sys.meta_path)
    assert not importcache.install(_cached(pkg))
    assert len(sys.meta_path) == n


def test_a_garbled_cache_is_not_used(pkg):
    with open(_cached(pkg), "wb") as f:
        f.write(b"\xff" * 64)
    assert not importcache.install(_cached(pkg))


def test_its_descriptor_closed_and_reused_by_another_file(pkg, tmp_path):
    # a forked supervisor closes every descriptor it does not keep, then opens others
    importcache.build(str(pkg))
    assert importcache.install(_cached(pkg))
    finder = sys.meta_path[0]
    os.close(finder._fd)
    other = tmp_path / "other"
    other.write_bytes(b"\0" * 100000)
    fd = os.open(other, os.O_RDONLY)
    try:
        import ic_pkg.mod

        assert ic_pkg.mod.VALUE == 1
        assert finder._fd != fd
    finally:
        os.close(fd)


def test_the_build_replaces_the_cache_whole(pkg):
    importcache.build(str(pkg))
    (pkg / "mod.py").write_text("VALUE = 3\n")
    importcache.build(str(pkg))
    assert [p.name for p in pkg.iterdir() if ".tmp-" in p.name] == []
    assert importcache.install(_cached(pkg))
    import ic_pkg.mod

    assert ic_pkg.mod.VALUE == 3
    assert type(ic_pkg.mod.__spec__.loader).__name__ == "_Finder"
