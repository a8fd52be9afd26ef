"""Garbage collection: what images and leases reach stays, the rest goes, damage is survived."""

import hashlib
import json
import os
import time

import pytest

from dockyard.errors import DataLoss, NotFound, Unavailable
from dockyard.metadata import ImageRecord, LayerRecord, MetadataStore
from dockyard.metadata.gc import collect
from dockyard.metadata.lease import GcLock, Lease
from dockyard.oci import mediatypes as mt
from dockyard.oci.ids import chain_ids
from dockyard.snapshots import SnapshotStore


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeContent:
    """Only the ContentStore methods GC uses, over a dict."""

    def __init__(self):
        self.blobs: dict[str, bytes] = {}
        self.corrupt: set[str] = set()
        self.sweeps: list[float] = []

    def put(self, data: bytes) -> str:
        d = sha(data)
        self.blobs[d] = data
        return d

    def has(self, digest: str) -> bool:
        return digest in self.blobs

    def size(self, digest: str) -> int:
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} not found")
        return len(self.blobs[digest])

    def read(self, digest: str, max_size: int | None = None) -> bytes:
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} not found")
        if digest in self.corrupt:
            raise DataLoss(f"blob {digest} is corrupt")
        return self.blobs[digest]

    def delete(self, digest: str) -> None:
        if self.blobs.pop(digest, None) is None:
            raise NotFound(f"blob {digest} not found")

    def digests(self):
        return iter(list(self.blobs))

    def sweep_ingest(self, older_than: float) -> int:
        self.sweeps.append(older_than)
        return 0


class Env:
    def __init__(self, tmp_path, content):
        self.root = str(tmp_path / "root")
        self.meta = MetadataStore(os.path.join(self.root, "metadata.db"))
        self.content = content
        self.snapshots = SnapshotStore(os.path.join(self.root, "snapshots"), self.meta)

    def collect(self, **kw):
        return collect(self.meta, self.content, self.snapshots, **kw)

    def layer(self, text: str) -> tuple[str, str]:
        """A layer blob and its diff id (the "compression" is a prefix, enough for GC)."""
        diff_id = sha(text.encode())
        blob = self.content.put(b"gz:" + text.encode())
        self.meta.put_layer(LayerRecord(diff_id, blob, mt.OCI_LAYER_GZIP, 3 + len(text), len(text)))
        return blob, diff_id

    def image(self, name: str, layers: list[str], *, snapshots: bool = True) -> ImageRecord:
        pairs = [self.layer(text) for text in layers]
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "created": "2024-01-01T00:00:00Z",
                "rootfs": {"type": "layers", "diff_ids": [d for _, d in pairs]},
                "config": {"Labels": {"name": name}},
            }
        ).encode()
        config_digest = self.content.put(config)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {
                    "mediaType": mt.OCI_CONFIG,
                    "digest": config_digest,
                    "size": len(config),
                },
                "layers": [
                    {"mediaType": mt.OCI_LAYER_GZIP, "digest": b, "size": 1} for b, _ in pairs
                ],
            }
        ).encode()
        rec = ImageRecord(
            config_digest,
            self.content.put(manifest),
            mt.OCI_MANIFEST,
            "2024-01-01T00:00:00Z",
            0,
            time.time(),
        )
        self.meta.put_image(rec)
        self.meta.set_tag(f"docker.io/library/{name}:latest", rec.id)
        if snapshots:
            self.unpack([d for _, d in pairs])
        return rec

    def unpack(self, diff_ids: list[str]) -> list[str]:
        keys = chain_ids(diff_ids)
        parent = ""
        for key in keys:
            self.snapshots.create(key, parent, lambda path: 1)
            parent = key
        return keys

    def manifest_blobs(self, rec: ImageRecord) -> set[str]:
        m = json.loads(self.content.blobs[rec.manifest_digest])
        return {rec.manifest_digest, m["config"]["digest"], *(x["digest"] for x in m["layers"])}

    def snapshot_keys(self) -> set[str]:
        return {s.key for s in self.meta.list_snapshots()}

    def snapshot_dirs(self) -> set[str]:
        return set(os.listdir(self.snapshots.root))


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path, FakeContent())
    yield e
    e.meta.close()


def config_diff_ids(env, rec) -> list[str]:
    return json.loads(env.content.blobs[rec.id])["rootfs"]["diff_ids"]


def test_gc_keeps_what_images_reach_and_removes_the_rest(env):
    web = env.image("web", ["base", "app"])
    keep_blobs = env.manifest_blobs(web)
    keep_snaps = set(chain_ids(config_diff_ids(env, web)))
    # Garbage: a removed image's blobs and snapshots, and a stray blob.
    old = env.image("old", ["base", "legacy"])
    env.meta.delete_image(old.id)
    stray = env.content.put(b"stray")
    garbage_blobs = set(env.content.blobs) - keep_blobs
    assert stray in garbage_blobs and old.id in garbage_blobs
    garbage_contents = [env.content.blobs[d] for d in garbage_blobs]
    garbage_snaps = env.snapshot_keys() - keep_snaps
    assert len(garbage_snaps) == 1  # "base" is shared with web

    report = env.collect()

    assert set(env.content.blobs) == keep_blobs
    assert env.snapshot_keys() == keep_snaps
    assert len(env.snapshot_dirs()) == 2
    assert set(report.blobs) == garbage_blobs
    assert set(report.snapshots) == garbage_snaps
    garbage_bytes = sum(len(env_blob) for env_blob in garbage_contents)
    assert report.reclaimed == garbage_bytes + len(garbage_snaps)  # each snapshot is 1 byte
    assert not report.missing and not report.corrupt and not report.skipped
    assert env.meta.layer_for_blob(stray) is None
    # The survivors still work: nothing an image needs was touched.
    for d in keep_blobs:
        env.content.read(d)
    assert len(env.snapshots.lowerdirs(chain_ids(config_diff_ids(env, web))[-1])) == 2
    # A second run finds nothing left to do.
    again = env.collect()
    assert again.blobs == [] and again.snapshots == [] and again.reclaimed == 0


def test_reclaimed_counts_blob_and_snapshot_bytes(env):
    blob = env.content.put(b"x" * 1000)
    env.snapshots.create("sha256:lonely", "", lambda path: 4096)
    report = env.collect()
    assert report.blobs == [blob] and report.snapshots == ["sha256:lonely"]
    assert report.reclaimed == 1000 + 4096


def test_an_index_keeps_the_platform_manifests_it_has(env):
    amd = env.image("multi", ["amd"])
    env.meta.delete_tag("docker.io/library/multi:latest")
    missing_child = "sha256:" + "7" * 64  # the arm64 manifest, never pulled
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": amd.manifest_digest,
                    "size": 1,
                    "platform": {"architecture": "amd64", "os": "linux"},
                },
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": missing_child,
                    "size": 1,
                    "platform": {"architecture": "arm64", "os": "linux"},
                },
            ],
        }
    ).encode()
    rec = ImageRecord(amd.id, env.content.put(index), mt.OCI_INDEX, "", 0, 0.0)
    env.meta.put_image(rec)
    before = set(env.content.blobs)
    report = env.collect()
    assert set(env.content.blobs) == before
    assert report.blobs == [] and report.missing == [] and report.skipped == []


def test_other_blobs_of_an_images_layers_are_kept(env):
    web = env.image("web", ["base"])
    diff_id = config_diff_ids(env, web)[0]
    zstd_blob = env.content.put(b"zstd:base")
    env.meta.put_layer(LayerRecord(diff_id, zstd_blob, mt.OCI_LAYER_ZSTD, 9, 4))
    env.collect()
    assert env.content.has(zstd_blob)


def test_leases_keep_content_and_snapshot_chains_until_they_expire(env):
    blob = env.content.put(b"half-pulled")
    keys = env.unpack([sha(b"l1"), sha(b"l2")])
    env.meta.create_lease("pull", 0)
    env.meta.add_lease_resource("pull", "content", blob)
    env.meta.add_lease_resource("pull", "snapshot", keys[-1])  # its parent comes along
    expired_blob = env.content.put(b"abandoned")
    env.meta.create_lease("old-pull", time.time() - 1)
    env.meta.add_lease_resource("old-pull", "content", expired_blob)

    report = env.collect()
    assert env.content.has(blob) and env.snapshot_keys() == set(keys)
    assert report.blobs == [expired_blob]
    assert report.expired_leases == ["old-pull"]
    assert [lease.id for lease in env.meta.list_leases()] == ["pull"]

    env.meta.delete_lease("pull")
    env.collect()
    assert env.content.blobs == {} and env.snapshot_keys() == set()


def test_dry_run_removes_nothing_and_reports_what_would_go(env):
    env.image("web", ["base"])
    stray = env.content.put(b"stray")
    env.snapshots.create("sha256:lonely", "", lambda path: 1)
    orphan = os.path.join(env.snapshots.root, "99")
    os.makedirs(orphan)
    os.utime(orphan, (0, 0))
    env.meta.create_lease("old", 1.0)
    blobs, snaps, dirs = set(env.content.blobs), env.snapshot_keys(), env.snapshot_dirs()

    dry = env.collect(dry_run=True)
    assert set(env.content.blobs) == blobs and env.snapshot_keys() == snaps
    assert env.snapshot_dirs() == dirs and len(env.meta.list_leases()) == 1
    assert env.content.sweeps == []
    assert dry.dry_run and dry.blobs == [stray] and dry.snapshots == ["sha256:lonely"]
    assert dry.dirs == [orphan]

    real = env.collect()
    assert (real.blobs, real.snapshots, real.dirs, real.reclaimed) == (
        dry.blobs,
        dry.snapshots,
        dry.dirs,
        dry.reclaimed,
    )
    assert not env.content.has(stray) and not os.path.exists(orphan)


def test_a_missing_manifest_is_reported_and_keeps_every_blob(env):
    web = env.image("web", ["base"])
    broken = env.image("broken", ["other"])
    del env.content.blobs[broken.manifest_digest]
    stray = env.content.put(b"stray")
    env.snapshots.create("sha256:lonely", "", lambda path: 1)

    report = env.collect()
    assert report.missing == [broken.manifest_digest]
    assert env.content.has(stray) and report.blobs == []
    assert any("blobs kept" in s for s in report.skipped)
    # The image's layers and snapshots are still known from its config: they stay; the
    # snapshot sweep, which does not depend on the manifest, still ran.
    assert report.snapshots == ["sha256:lonely"]
    assert set(chain_ids(config_diff_ids(env, broken))) <= env.snapshot_keys()
    assert env.manifest_blobs(web) <= set(env.content.blobs)


def test_a_corrupt_config_is_reported_and_keeps_blobs_and_snapshots(env):
    broken = env.image("broken", ["other"])
    env.content.corrupt.add(broken.id)
    env.snapshots.create("sha256:lonely", "", lambda path: 1)
    stray = env.content.put(b"stray")

    report = env.collect()
    assert report.corrupt == [broken.id] and report.missing == []
    assert report.blobs == [] and report.snapshots == []
    assert env.content.has(stray) and "sha256:lonely" in env.snapshot_keys()


def test_an_unparsable_manifest_is_reported_as_corrupt(env):
    web = env.image("web", ["base"])
    bad = env.content.put(b"{not json")
    env.meta.put_image(ImageRecord(web.id, bad, mt.OCI_MANIFEST, "", 0, 0.0))
    report = env.collect()
    assert report.corrupt == [bad] and env.content.has(bad)


def test_old_unrecorded_snapshot_dirs_go_young_ones_stay(env):
    rec = env.snapshots.create("sha256:kept", "", lambda path: 1)
    env.meta.create_lease("l", 0)
    env.meta.add_lease_resource("l", "snapshot", "sha256:kept")
    old = os.path.join(env.snapshots.root, "50.tmp-dead")
    young = os.path.join(env.snapshots.root, "51")
    os.makedirs(os.path.join(old, "fs", "etc"))
    os.makedirs(young)
    os.utime(old, (0, 0))
    report = env.collect()
    assert report.dirs == [old]
    assert not os.path.exists(old) and os.path.isdir(young) and os.path.isdir(rec.dir)


def test_stale_ingests_are_swept(env):
    env.collect(ingest_max_age=123.0)
    assert env.content.sweeps == [123.0]


def test_two_collections_never_overlap(env):
    with GcLock(env.snapshots.gc_lock_path, exclusive=True), pytest.raises(Unavailable):
        env.collect(lock_timeout=0.2)


def test_a_creator_holding_a_lease_keeps_gc_out_and_its_content_alive(env):
    with Lease(env.meta, env.snapshots.gc_lock_path) as lease:
        blob = env.content.put(b"being pulled")
        lease.add("content", blob)
        with pytest.raises(Unavailable):
            env.collect(lock_timeout=0.2)
        assert env.content.has(blob)
    assert env.meta.list_leases() == []
    env.collect()
    assert not env.content.has(blob)


def test_with_the_real_content_store(tmp_path):
    content_mod = pytest.importorskip("dockyard.content.store")
    content = content_mod.ContentStore(str(tmp_path / "root" / "content"))
    e = Env(tmp_path, content)
    try:
        web = e.image("web", ["base", "app"])
        manifest = json.loads(content.read(web.manifest_digest))
        reachable = {web.manifest_digest, web.id, *(x["digest"] for x in manifest["layers"])}
        stray = content.put(b"stray blob")
        report = e.collect()
        assert report.blobs == [stray] and not content.has(stray)
        assert set(content.digests()) == reachable
        for d in reachable:
            content.verify(d)
    finally:
        e.meta.close()
