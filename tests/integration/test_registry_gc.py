"""Garbage collection of a registry's storage: mark from every manifest, sweep the rest."""

import json
import os
import time

import pytest
from test_registry_support import OCI_INDEX, OCI_MANIFEST, Client, RegistryProcess, image, sha256

from dockyard.errors import DataLoss
from dockyard.registry.gc import gc


def _push_image(c: Client, repo: str, tag: str, shared: bytes) -> tuple[str, list[str]]:
    manifest, blobs = image(c, repo, layers=1)
    c.push_blob(repo, shared)
    manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                               "digest": sha256(shared), "size": len(shared)})  # fmt: skip
    digest = c.push_manifest(repo, tag, manifest, OCI_MANIFEST)
    # blobs[0] is the config, the same for every image the helper makes: shared too.
    return digest, [sha256(b) for b in blobs[1:]]


@pytest.fixture
def populated(tmp_path):
    s = RegistryProcess(tmp_path / "reg").start()
    c = Client(s.url)
    shared = os.urandom(4096)
    a, a_blobs = _push_image(c, "gc/app", "a", shared)
    b, b_blobs = _push_image(c, "gc/app", "b", shared)
    untagged, _ = _push_image(c, "gc/app", "c", shared)
    assert c.delete("/v2/gc/app/manifests/c").status_code == 202  # tag only
    assert c.delete(f"/v2/gc/app/manifests/{b}").status_code == 202
    orphan = c.push_blob("gc/app", os.urandom(100))
    loc = c.post("/v2/gc/app/blobs/uploads/").headers["Location"]
    c.patch(loc, content=b"abandoned")
    assert s.stop() == 0
    yield s, c, {"a": a, "b": b, "untagged": untagged, "a_blobs": a_blobs, "b_blobs": b_blobs,
                 "shared": sha256(shared), "orphan": orphan}  # fmt: skip
    s.kill()


def test_dry_run_reports_without_deleting(populated):
    s, _, d = populated
    before = sorted(p.name for p in (s.root / "content").rglob("*") if p.is_file())
    report = gc(str(s.root), dry_run=True)
    assert set(report.blobs) == {d["b"], *d["b_blobs"], d["orphan"]}
    assert report.reclaimed > 0 and report.uploads == []
    assert sorted(p.name for p in (s.root / "content").rglob("*") if p.is_file()) == before


def test_sweep_deletes_unreferenced_and_keeps_the_rest(populated):
    s, c, d = populated
    report = gc(str(s.root), upload_age=0)
    assert set(report.blobs) == {d["b"], *d["b_blobs"], d["orphan"]}
    assert report.links == len(d["b_blobs"]) + 1  # layer links to swept blobs
    assert len(report.uploads) == 1 and not any((s.root / "uploads").iterdir())
    s.start()
    try:
        for digest in (*d["a_blobs"], d["shared"]):
            assert c.get(f"/v2/gc/app/blobs/{digest}").status_code == 200
        for digest in (*d["b_blobs"], d["orphan"]):
            assert c.head(f"/v2/gc/app/blobs/{digest}").status_code == 404
        assert c.get("/v2/gc/app/manifests/a").status_code == 200
        # An untagged manifest is still a revision: kept, with its blobs.
        assert c.get(f"/v2/gc/app/manifests/{d['untagged']}").status_code == 200
        assert gc(str(s.root)).blobs == []  # nothing left to collect
    finally:
        assert s.stop() == 0


def test_grace_spares_young_blobs(populated):
    s, _, d = populated
    assert gc(str(s.root), grace=3600).blobs == []
    assert d["orphan"] in gc(str(s.root), dry_run=True).blobs


def test_index_children_are_marked(tmp_path):
    s = RegistryProcess(tmp_path / "reg").start()
    c = Client(s.url)
    manifest, _blobs = image(c, "gc/idx", layers=1)
    child = c.push_manifest("gc/idx", sha256(json.dumps(manifest).encode()), manifest, OCI_MANIFEST)
    size = len(json.dumps(manifest).encode())
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
             "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": size}]}  # fmt: skip
    c.push_manifest("gc/idx", "multi", index, OCI_INDEX)
    assert s.stop() == 0
    assert gc(str(s.root)).blobs == []


def test_unreadable_manifest_aborts_before_deleting(populated):
    s, _, d = populated
    path = s.root / "content" / "blobs" / "sha256" / d["a"].split(":")[1]
    os.chmod(path, 0o644)
    path.write_bytes(b"corrupted")
    with pytest.raises(DataLoss, match="nothing deleted"):
        gc(str(s.root))
    orphan = s.root / "content" / "blobs" / "sha256" / d["orphan"].split(":")[1]
    assert orphan.exists()


def test_server_purges_stale_uploads_on_start(tmp_path):
    s = RegistryProcess(tmp_path / "reg", {"upload_purge_age": 1.0}).start()
    c = Client(s.url)
    loc = c.post("/v2/gc/stale/blobs/uploads/").headers["Location"]
    c.patch(loc, content=b"old")
    assert s.stop() == 0
    time.sleep(1.2)
    s.start()
    try:
        deadline = time.monotonic() + 10
        while any((s.root / "uploads").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert c.get(loc).status_code == 404
    finally:
        assert s.stop() == 0
