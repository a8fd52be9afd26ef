"""build.durability: a build's step results reach the cache only after the one flush that
puts their layers on disk, and the build finds them meanwhile."""

from dockyard.build import durability
from dockyard.build.layers import Layer


class FakeCache:
    def __init__(self, log):
        self.log = log

    def put_many(self, rows):
        self.log.append(("rows", [r[0] for r in rows]))


class FakeMeta:
    def __init__(self, log):
        self.log = log

    def add_lease_resource(self, lease, kind, ref):
        self.log.append(("root", kind, ref))


class Stores:
    def __init__(self, log, tmp_path):
        self.content = type("C", (), {"root": str(tmp_path / "content")})()
        self.snapshots = type("S", (), {"root": str(tmp_path / "snapshots")})()
        self.meta = FakeMeta(log)


def test_held_results_are_found_then_written_after_the_flush(tmp_path, monkeypatch):
    log = []
    monkeypatch.setattr(
        "dockyard.content.durable.sync_paths", lambda *paths: log.append(("sync", paths))
    )
    rec = durability.Records()
    layer = Layer("sha256:d", "sha256:d", 10, 20, "sha256:chain")
    rec.add_layer("k1", "slot", layer, '{"chain": "sha256:chain"}', "COPY a b")
    rec.add("k2", "image", "sha256:i", "sha256:i", 5, 0, "{}", "image")
    entry = rec.get("k1")
    assert (entry.diff_id, entry.blob_digest, entry.blob_size, entry.size) == (
        "sha256:d", "sha256:d", 10, 20,
    )  # fmt: skip
    assert rec.get("missing") is None and log == []  # nothing written yet
    rec.flush(Stores(log, tmp_path), FakeCache(log))
    assert log[0] == ("sync", (str(tmp_path / "content"), str(tmp_path / "snapshots")))
    assert ("root", "content", "sha256:d") in log and ("root", "snapshot", "sha256:chain") in log
    assert log[-1] == ("rows", ["k1", "k2"])
    assert rec.get("k1") is None  # written: the cache answers from now on
    rec.flush(Stores(log, tmp_path), FakeCache(log))
    assert len(log) == 4  # nothing held: no second flush


def test_a_forced_flush_syncs_even_with_nothing_held(tmp_path, monkeypatch):
    log = []
    monkeypatch.setattr(
        "dockyard.content.durable.sync_paths", lambda *paths: log.append(("sync", paths))
    )
    durability.Records().flush(Stores(log, tmp_path), FakeCache(log), force=True)
    assert [e[0] for e in log] == ["sync", "rows"]


def test_marked_results_are_written_without_a_flush(tmp_path, monkeypatch):
    # the data root is marked (content.lateflush): the caller's late flush covers them
    log = []
    monkeypatch.setattr(
        "dockyard.content.durable.sync_paths", lambda *paths: log.append(("sync", paths))
    )
    rec = durability.Records(marked=True)
    rec.add_layer("k1", "slot", Layer("sha256:d", "sha256:d", 10, 20, "sha256:c"), "{}", "RUN x")
    rec.flush(Stores(log, tmp_path), FakeCache(log))
    assert "sync" not in [e[0] for e in log]
    assert log[-1] == ("rows", ["k1"])
