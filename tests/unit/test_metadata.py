"""The metadata store: schema and migrations, records, prefixes, transactions, concurrency."""

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap

import pytest

from dockyard.errors import (
    AlreadyExists,
    DataLoss,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from dockyard.metadata import (
    ImageRecord,
    LayerRecord,
    MetadataStore,
    SnapshotRecord,
    schema,
)

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def image_id(n: int | str) -> str:
    h = n if isinstance(n, str) else f"{n:064x}"
    return "sha256:" + h.ljust(64, "0")


def image(n: int | str, **kw) -> ImageRecord:
    fields = dict(
        id=image_id(n),
        manifest_digest="sha256:" + "e" * 64,
        manifest_media_type="application/vnd.oci.image.manifest.v1+json",
        created="2024-01-01T00:00:00Z",
        size=1234,
        added_at=1700000000.0,
    )
    fields.update(kw)
    return ImageRecord(**fields)


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "root" / "metadata.db")


@pytest.fixture
def meta(db_path):
    m = MetadataStore(db_path)
    yield m
    m.close()


def tables(path: str) -> set[str]:
    with sqlite3.connect(path) as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# -- schema ---------------------------------------------------------------------------


def test_new_database_is_private_wal_and_current(meta, db_path):
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(db_path)).st_mode) == 0o700
    assert meta.schema_version == schema.SCHEMA_VERSION >= 1
    with sqlite3.connect(db_path) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {
        "images",
        "tags",
        "repo_digests",
        "layers",
        "snapshots",
        "leases",
        "lease_resources",
        "containers",
        "volumes",
        "volume_refs",
    } <= tables(db_path)
    # Tables for later subsystems come with their own migrations, not as empty placeholders.
    assert not {"networks", "events"} & tables(db_path)


def test_reopen_keeps_data_and_applies_nothing_twice(meta, db_path):
    meta.put_image(image(1))
    meta.set_tag("docker.io/library/busybox:latest", image_id(1))
    meta.close()
    for _ in range(3):
        again = MetadataStore(db_path)
        assert again.schema_version == schema.SCHEMA_VERSION
        assert again.get_tag("docker.io/library/busybox:latest") == image_id(1)
        again.close()


def test_database_newer_than_the_code_is_refused(meta, db_path):
    meta.close()
    with sqlite3.connect(db_path) as c:
        c.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    with pytest.raises(FailedPrecondition, match="newer"):
        MetadataStore(db_path)


def test_a_failing_migration_leaves_the_previous_version(tmp_path):
    path = str(tmp_path / "m.db")
    conn = sqlite3.connect(path, isolation_level=None)
    steps = (
        ("CREATE TABLE a (x)",),
        ("CREATE TABLE b (x)", "CREATE TABLE b (y)"),  # second statement fails
    )
    with pytest.raises(sqlite3.OperationalError):
        schema.migrate(conn, path, steps)
    assert schema.user_version(conn) == 1
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "a" in names and "b" not in names
    # Fixed code continues from where it stopped.
    fixed = (steps[0], ("CREATE TABLE b (x)",), ("CREATE TABLE c (x)",))
    assert schema.migrate(conn, path, fixed) == 3
    assert schema.migrate(conn, path, fixed) == 3
    conn.close()


def test_a_file_that_is_not_a_database_is_reported(tmp_path):
    path = tmp_path / "metadata.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DataLoss, match="unreadable"):
        MetadataStore(str(path))


# -- images, tags, repo digests -------------------------------------------------------


def test_images_round_trip_and_missing_ones_are_not_found(meta):
    rec = image(1, parent=image_id(2))
    meta.put_image(rec)
    assert meta.get_image(rec.id) == rec
    assert meta.list_images() == [rec]
    meta.delete_image(rec.id)
    with pytest.raises(NotFound, match="No such image"):
        meta.get_image(rec.id)
    with pytest.raises(NotFound):
        meta.delete_image(rec.id)


def test_image_ids_must_be_digests(meta):
    with pytest.raises(InvalidArgument):
        meta.put_image(image(1, id="busybox"))
    assert meta.list_images() == []


def test_storing_an_image_again_keeps_its_tags(meta):
    meta.put_image(image(1))
    meta.set_tag("a:1", image_id(1))
    meta.put_image(image(1, size=99))
    assert meta.get_image(image_id(1)).size == 99
    assert meta.tags_for(image_id(1)) == ["a:1"]


def test_tags_move_and_report_the_previous_image(meta):
    meta.put_image(image(1))
    meta.put_image(image(2))
    assert meta.set_tag("docker.io/library/web:1", image_id(1)) is None
    assert meta.set_tag("docker.io/library/web:1", image_id(2)) == image_id(1)
    meta.set_tag("docker.io/library/web:latest", image_id(2))
    assert meta.get_tag("docker.io/library/web:1") == image_id(2)
    assert meta.tags_for(image_id(2)) == ["docker.io/library/web:1", "docker.io/library/web:latest"]
    assert meta.tags_for(image_id(1)) == []
    assert meta.list_tags() == {
        "docker.io/library/web:1": image_id(2),
        "docker.io/library/web:latest": image_id(2),
    }
    meta.delete_tag("docker.io/library/web:1")
    with pytest.raises(NotFound, match=r"No such image: docker\.io/library/web:1"):
        meta.get_tag("docker.io/library/web:1")
    with pytest.raises(NotFound):
        meta.delete_tag("docker.io/library/web:1")


def test_a_tag_cannot_point_at_a_missing_image(meta):
    with pytest.raises(NotFound, match="No such image"):
        meta.set_tag("x:1", image_id(7))
    assert meta.list_tags() == {}


def test_repo_digests_and_deleting_an_image_drops_its_names(meta):
    meta.put_image(image(1))
    name = "docker.io/library/busybox@sha256:" + "c" * 64
    meta.add_repo_digest(name, image_id(1))
    meta.add_repo_digest(name, image_id(1))  # idempotent
    meta.set_tag("busybox:latest", image_id(1))
    assert meta.repo_digests_for(image_id(1)) == [name]
    with pytest.raises(NotFound):
        meta.add_repo_digest("x@sha256:" + "d" * 64, image_id(9))
    meta.delete_image(image_id(1))
    assert meta.repo_digests_for(image_id(1)) == []
    assert meta.list_tags() == {}
    with pytest.raises(NotFound):
        meta.delete_repo_digest(name)


# -- id prefixes ------------------------------------------------------------------------


@pytest.fixture
def prefixed(meta):
    for h in ("abc123", "abd456", "9f0000", "a00000", "fff000", "f00000"):
        meta.put_image(image(h))
    return meta


@pytest.mark.parametrize(
    "prefix, expected",
    [
        ("abc", "abc123"),
        ("sha256:abc", "abc123"),
        ("9", "9f0000"),  # '9' must not reach 'a...'
        ("9f", "9f0000"),
        ("a0", "a00000"),
        ("ff", "fff000"),  # 'f' is the last hex digit
        ("f0", "f00000"),
        ("abc123" + "0" * 58, "abc123"),
    ],
)
def test_a_unique_prefix_resolves(prefixed, prefix, expected):
    assert prefixed.resolve_image_prefix(prefix) == image_id(expected)


@pytest.mark.parametrize("prefix", ["ab", "sha256:ab", "a", "f"])
def test_an_ambiguous_prefix_is_refused(prefixed, prefix):
    with pytest.raises(InvalidArgument, match="multiple IDs"):
        prefixed.resolve_image_prefix(prefix)


@pytest.mark.parametrize("prefix", ["abe", "1", "ABC", "abc%", "a_c", "xyz", "0" * 65, "a'--"])
def test_a_prefix_matching_nothing_is_not_found(prefixed, prefix):
    with pytest.raises(NotFound) as err:
        prefixed.resolve_image_prefix(prefix)
    assert str(err.value) == f"No such image: {prefix}"


@pytest.mark.parametrize("prefix", ["", "sha256:"])
def test_an_empty_prefix_is_invalid(prefixed, prefix):
    with pytest.raises(InvalidArgument):
        prefixed.resolve_image_prefix(prefix)


def test_threads_sharing_one_store_do_not_trip_over_each_other(meta):
    import threading

    meta.put_image(image(1))
    failures = []

    def work(who):
        try:
            for i in range(50):
                with meta.transaction():
                    meta.set_tag(f"{who}:{i}", image_id(1))
                    meta.next_snapshot_number()
        except Exception as e:  # reported below; a thread's exception is otherwise lost
            failures.append(e)

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(meta.list_tags()) == 200 and meta.next_snapshot_number() == 201


# -- layers, snapshots, leases ----------------------------------------------------------


def test_layers_by_diff_id_and_by_blob(meta):
    diff = "sha256:" + "1" * 64
    gz = LayerRecord(
        diff, "sha256:" + "2" * 64, "application/vnd.oci.image.layer.v1.tar+gzip", 10, 40
    )
    zst = LayerRecord(
        diff, "sha256:" + "3" * 64, "application/vnd.oci.image.layer.v1.tar+zstd", 9, 40
    )
    meta.put_layer(gz)
    meta.put_layer(zst)
    meta.put_layer(gz)
    assert meta.layers_for_diff_id(diff) == [gz, zst]
    assert meta.layer_for_blob(zst.blob_digest) == zst
    assert meta.layer_for_blob("sha256:" + "4" * 64) is None
    with pytest.raises(InvalidArgument):
        meta.put_layer(LayerRecord("nope", gz.blob_digest, "", 0, 0))


def test_snapshot_records_chain_and_children(meta):
    a = SnapshotRecord("sha256:a", "", "/s/1/fs", 1, 1.0)
    b = SnapshotRecord("sha256:b", "sha256:a", "/s/2/fs", 2, 2.0)
    c = SnapshotRecord("sha256:c", "sha256:b", "/s/3/fs", 3, 3.0)
    for rec in (a, b, c):
        meta.put_snapshot(rec)
    with pytest.raises(AlreadyExists):
        meta.put_snapshot(a)
    assert meta.get_snapshot("sha256:b") == b
    assert meta.get_snapshot("sha256:zz") is None
    assert meta.snapshot_chain("sha256:c") == [c, b, a]
    assert meta.snapshot_children("sha256:a") == ["sha256:b"]
    assert meta.list_snapshots() == [a, b, c]
    meta.delete_snapshot("sha256:b")
    with pytest.raises(DataLoss, match="missing"):
        meta.snapshot_chain("sha256:c")
    with pytest.raises(NotFound):
        meta.snapshot_chain("sha256:b")
    with pytest.raises(NotFound):
        meta.delete_snapshot("sha256:b")


def test_a_snapshot_parent_loop_is_reported_not_followed(meta):
    meta.put_snapshot(SnapshotRecord("x", "y", "/s/1/fs", 0, 0.0))
    meta.put_snapshot(SnapshotRecord("y", "x", "/s/2/fs", 0, 0.0))
    with pytest.raises(DataLoss):
        meta.snapshot_chain("x")


def test_snapshot_numbers_are_never_reused(meta, db_path):
    first = [meta.next_snapshot_number() for _ in range(3)]
    assert first == [1, 2, 3]
    meta.close()
    again = MetadataStore(db_path)
    assert again.next_snapshot_number() == 4
    again.close()


def test_leases_and_their_resources(meta):
    meta.create_lease("pull-1", 0)
    meta.create_lease("pull-2", 100.0)
    with pytest.raises(AlreadyExists):
        meta.create_lease("pull-1", 0)
    meta.add_lease_resource("pull-1", "content", "sha256:" + "a" * 64)
    meta.add_lease_resource("pull-1", "snapshot", "sha256:" + "b" * 64)
    meta.add_lease_resource("pull-1", "snapshot", "sha256:" + "b" * 64)
    meta.add_lease_resource("pull-2", "content", "sha256:" + "c" * 64)
    with pytest.raises(InvalidArgument):
        meta.add_lease_resource("pull-1", "contnet", "x")
    with pytest.raises(NotFound):
        meta.add_lease_resource("nope", "content", "x")
    assert [lease.id for lease in meta.list_leases()] == ["pull-1", "pull-2"]
    assert len(meta.lease_resources()) == 3
    assert [r.kind for r in meta.lease_resources("pull-1")] == ["content", "snapshot"]
    assert meta.delete_expired_leases(now=150.0) == ["pull-2"]
    meta.delete_lease("pull-1")
    assert meta.lease_resources() == [] and meta.list_leases() == []
    with pytest.raises(NotFound):
        meta.delete_lease("pull-1")


# -- transactions -----------------------------------------------------------------------


def test_a_transaction_rolls_back_on_error(meta):
    with pytest.raises(RuntimeError), meta.transaction():
        meta.put_image(image(1))
        meta.set_tag("a:1", image_id(1))
        raise RuntimeError("boom")
    assert meta.list_images() == [] and meta.list_tags() == {}


def test_nested_transactions_join_the_outer_one(meta, db_path):
    with meta.transaction():
        meta.put_image(image(1))
        with meta.transaction():
            meta.set_tag("a:1", image_id(1))
        # Not visible to another connection until the outermost commit.
        other = MetadataStore(db_path)
        assert other.list_images() == []
        other.close()
    assert meta.list_tags() == {"a:1": image_id(1)}


def test_an_inner_failure_the_caller_handles_undoes_only_the_inner_part(meta):
    with meta.transaction():
        meta.put_image(image(1))
        with pytest.raises(NotFound), meta.transaction():
            meta.set_tag("a:1", image_id(1))
            meta.set_tag("b:1", image_id(9))  # no such image
        meta.set_tag("c:1", image_id(1))
    assert meta.list_tags() == {"c:1": image_id(1)}


def test_an_outer_failure_undoes_committed_inner_work(meta):
    with pytest.raises(ValueError), meta.transaction():
        with meta.transaction():
            meta.put_image(image(1))
        raise ValueError
    assert meta.list_images() == []


def test_a_writer_that_cannot_get_the_lock_gets_unavailable(meta, db_path):
    impatient = MetadataStore(db_path, timeout=0.05)
    try:
        with meta.transaction():
            meta.put_image(image(1))
            with pytest.raises(Unavailable, match="busy"):
                impatient.put_image(image(2))
            # Readers are never blocked by a writer under WAL.
            assert impatient.list_images() == []
        impatient.put_image(image(2))
        assert len(meta.list_images()) == 2
    finally:
        impatient.close()


WRITER = textwrap.dedent(
    """
    import hashlib, sys, time
    from dockyard.metadata import ImageRecord, MetadataStore
    path, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    m = MetadataStore(path)
    for i in range(count):
        with m.transaction():
            image_id = "sha256:" + hashlib.sha256(f"{who}{i}".encode()).hexdigest()
            m.put_image(ImageRecord(image_id, image_id, "x", "", 0, 0.0))
            time.sleep(0.002)  # hold the write lock so the other process must wait
            m.set_tag(f"{who}:{i}", image_id)
            m.next_snapshot_number()
    m.close()
    """
)


def test_concurrent_writers_in_two_processes_wait_instead_of_failing(db_path):
    MetadataStore(db_path).close()
    env = dict(os.environ, PYTHONPATH=SRC)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_path, who, "60"], env=env, stderr=subprocess.PIPE
        )
        for who in ("a", "b")
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    meta = MetadataStore(db_path)
    try:
        assert len(meta.list_tags()) == 120
        assert meta.next_snapshot_number() == 121
    finally:
        meta.close()


def test_fresh_database_opened_by_many_processes_at_once(tmp_path):
    # the switch to WAL races between creators (sqlite may answer "locked" without waiting);
    # several rounds, since a single one often passes by luck
    env = dict(os.environ, PYTHONPATH=SRC)
    code = "import sys; from dockyard.metadata import MetadataStore; MetadataStore(sys.argv[1]).close()"
    for round_ in range(8):
        path = str(tmp_path / f"root{round_}" / "metadata.db")
        procs = [
            subprocess.Popen([sys.executable, "-c", code, path], env=env, stderr=subprocess.PIPE)
            for _ in range(6)
        ]
        errors = [p.communicate(timeout=60)[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0] * 6, errors
        meta = MetadataStore(path)
        assert meta.schema_version == schema.SCHEMA_VERSION
        meta.close()
