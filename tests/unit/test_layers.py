"""The layer rules of ARCHITECTURE.md §3, checked over every import in src/dockyard.

Imports go downward only: a module may import its own top-level package and packages of a
lower layer; `errors` is shared by all. `linux` (privileged) may import L0–L1 only, and is importable from L3 up.
Imports inside functions count too: laziness does not change the dependency.
"""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "dockyard"

# longest prefix wins; values are layer numbers (linux is handled apart)
LAYERS = {
    "errors": 0,
    "digest": 0,
    "config": 0,
    "record": 0,
    "units": 0,
    "fastjson": 0,
    "syncfs": 1,  # flushes through cdata
    "labels": 0,
    "sqlitemod": 1,  # calls sqlite through cdata
    "treesize": 0,
    "topdir": 0,
    "cdata": 0,
    "rmtree": 0,
    "forkapart": 0,
    "importcache": 0,
    "oci": 1,
    "reference": 1,
    "dockerfile": 1,
    "archive": 1,
    "compose.model": 1,
    "compose.loader": 1,
    "compose.plan": 1,
    "cluster.model": 1,
    "cluster.scheduler": 1,
    "cluster.reconcile": 1,
    "network.ipam": 1,
    "content": 2,
    "snapshots": 2,
    "metadata": 2,
    "remote": 3,
    "images": 3,
    "build": 3,
    "runtime": 3,
    "network": 3,
    "services": 4,
    "api": 5,
    "registry": 5,
    "compose": 5,
    "cluster": 5,
    "cli": 6,
    "daemon": 6,
    "__main__": 7,  # the process entry point sits above cli
    "__init__": 0,
}
# sideways imports within one layer that the design calls for: a snapshot store keeps its
# records in the metadata database
SIDEWAYS = {("snapshots", "metadata")}
LINUX_MAY_IMPORT_UP_TO = 1
LINUX_IMPORTABLE_FROM = 3


def layer_of(module: str) -> tuple[str, int]:
    """(owning package, layer) for a dotted module path relative to dockyard."""
    if module == "linux" or module.startswith("linux."):
        return "linux", -1
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return key, LAYERS[key]
    raise AssertionError(f"module dockyard.{module} has no layer in tests/unit/test_layers.py")


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    rel = path.relative_to(SRC).with_suffix("")
    package_parts = list(rel.parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("dockyard")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                mod = ".".join(["dockyard", *base] + ([node.module] if node.module else []))
                found.append((node.lineno, mod))
            elif node.module and node.module.startswith("dockyard"):
                if node.module == "dockyard":
                    for a in node.names:
                        is_module = (SRC / a.name).is_dir() or (SRC / f"{a.name}.py").exists()
                        found.append(
                            (node.lineno, f"dockyard.{a.name if is_module else '__init__'}")
                        )
                else:
                    found.append((node.lineno, node.module))
    return found


def violations() -> list[str]:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        rel = ".".join(path.relative_to(SRC).with_suffix("").parts)
        own_pkg, own_layer = layer_of(rel)
        for lineno, target in imports_of(path):
            if target in ("dockyard", "dockyard.errors"):
                continue  # the error categories are the one thing every layer shares
            tgt = target.removeprefix("dockyard.")
            tgt_pkg, tgt_layer = layer_of(tgt)
            if tgt_pkg.split(".")[0] == own_pkg.split(".")[0] and own_layer == tgt_layer:
                continue  # within one package (and one layer of it)
            if (own_pkg, tgt_pkg) in SIDEWAYS:
                continue
            where = f"{path.relative_to(SRC.parent)}:{lineno}: {rel} imports {target}"
            if own_pkg == "linux":
                if tgt_layer < 0 or tgt_layer > LINUX_MAY_IMPORT_UP_TO:
                    bad.append(where + " (linux may import L0–L1 only)")
            elif tgt_pkg == "linux":
                if own_layer < LINUX_IMPORTABLE_FROM:
                    bad.append(where + " (linux is for L3 and up)")
            elif tgt_layer >= own_layer:
                bad.append(where + f" (L{own_layer} -> L{tgt_layer})")
    return bad


def test_every_import_goes_down_a_layer():
    assert violations() == []


def test_checker_catches_an_upward_import(tmp_path, monkeypatch):
    # The rule itself can fail: a fake L1 module importing L2 is reported.
    fake = tmp_path / "dockyard"
    (fake / "oci").mkdir(parents=True)
    (fake / "oci" / "bad.py").write_text("def f():\n    from dockyard.content import store\n")
    (fake / "content").mkdir()
    (fake / "content" / "store.py").write_text("from dockyard import errors\n")
    monkeypatch.setattr(__import__(__name__), "SRC", fake)
    found = violations()
    assert len(found) == 1 and "oci.bad imports dockyard.content" in found[0]
