"""ImageService on a real data root: import, list, inspect, history, tag, remove, prune, df."""

import bz2
import hashlib
import io
import lzma
import os
import subprocess

import pytest
import zstandard

from dockyard.config import Config
from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.services.images import ImageService


@pytest.fixture
def svc(tmp_path):
    s = ImageService(Config(root=str(tmp_path / "root"), state_dir=str(tmp_path / "state")))
    yield s
    s.close()


@pytest.fixture(scope="module")
def rootfs(busybox_tar) -> bytes:
    return busybox_tar.read_bytes()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_files(root) -> dict[str, int]:
    base = os.path.join(str(root), "content", "blobs", "sha256")
    if not os.path.isdir(base):
        return {}
    return {n: os.path.getsize(os.path.join(base, n)) for n in os.listdir(base)}


def test_import_makes_what_docker_import_makes(svc, rootfs):
    image_id = svc.import_rootfs(io.BytesIO(rootfs), "busybox", ['CMD ["/bin/sh"]'], "")
    info = svc.inspect("busybox")
    assert info["Id"] == image_id
    assert info["RepoTags"] == ["busybox:latest"]
    assert info["RootFS"]["Layers"] == [sha(rootfs)]
    assert info["Config"]["Cmd"] == ["/bin/sh"]
    assert info["Comment"] == "Imported from -"
    assert info["Architecture"] == "amd64" and info["Os"] == "linux"
    assert info["Created"].endswith("Z") and "." in info["Created"]
    # the image id is the digest of the config bytes as stored
    cfg_path = os.path.join(svc.config.content_dir, "blobs", "sha256", image_id[7:])
    with open(cfg_path, "rb") as f:
        assert sha(f.read()) == image_id
    upper = info["GraphDriver"]["Data"]["UpperDir"]
    assert os.path.isfile(os.path.join(upper, "bin", "busybox"))
    assert os.readlink(os.path.join(upper, "bin", "sh")) == "busybox"


def test_import_message_platform_and_changes(svc, rootfs):
    svc.import_rootfs(io.BytesIO(rootfs), "me/app:1", ["ENV A=1", "LABEL k=v", "EXPOSE 80",
                      "WORKDIR /srv", "ENTRYPOINT /bin/sh"], "first import",
                      platform="linux/arm64")  # fmt: skip
    info = svc.inspect("me/app:1")
    assert info["Comment"] == "first import"
    assert info["Architecture"] == "arm64"
    c = info["Config"]
    assert c["Env"] == ["A=1"] and c["Labels"] == {"k": "v"}
    assert c["ExposedPorts"] == {"80/tcp": {}} and c["WorkingDir"] == "/srv"
    assert c["Entrypoint"] == ["/bin/sh", "-c", "/bin/sh"]


@pytest.mark.parametrize("kind", ["gzip", "zstd", "bzip2", "xz"])
def test_import_of_compressed_input_from_a_pipe_gives_the_same_layer(svc, rootfs, kind):
    if kind == "gzip":
        data = subprocess.run(["gzip", "-c"], input=rootfs, capture_output=True, check=True).stdout
    elif kind == "zstd":
        data = zstandard.ZstdCompressor().compress(rootfs)
    elif kind == "bzip2":
        data = bz2.compress(rootfs)
    else:
        data = lzma.compress(rootfs)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a writer process, so the input really is a non-seekable pipe
        os.close(r)
        view = memoryview(data)
        while view:
            view = view[os.write(w, view[:60000]) :]
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as src:
        svc.import_rootfs(src, "piped", [], "")
    os.waitpid(pid, 0)
    assert svc.inspect("piped")["RootFS"]["Layers"] == [sha(rootfs)]


def test_bad_change_fails_before_anything_is_stored(svc, rootfs):
    with pytest.raises(InvalidArgument, match="run is not a valid change command"):
        svc.import_rootfs(io.BytesIO(rootfs), "busybox", ["RUN rm -rf /"], "")
    assert svc.list(all=True) == []
    assert blob_files(svc.config.root) == {}


def test_import_of_garbage_leaves_nothing(svc):
    with pytest.raises(InvalidArgument):
        svc.import_rootfs(io.BytesIO(b"this is not a tar" * 100), "junk", [], "")
    with pytest.raises(InvalidArgument, match="empty"):
        svc.import_rootfs(io.BytesIO(b""), "junk", [], "")
    assert svc.list(all=True) == []
    with pytest.raises(NotFound):
        svc.resolve("junk")


def test_resolve_by_tag_id_prefix_and_errors(svc, rootfs):
    image_id = svc.import_rootfs(io.BytesIO(rootfs), "busybox", [], "")
    for name in ("busybox", "busybox:latest", "docker.io/library/busybox:latest", image_id,
                 image_id[7:], image_id[7:19], image_id[:19]):  # fmt: skip
        assert svc.resolve(name).id == image_id
    with pytest.raises(NotFound, match=r"^No such image: busybox:2$"):
        svc.resolve("busybox:2")
    with pytest.raises(NotFound, match=r"^No such image: nothere:latest$"):
        svc.resolve("nothere")
    with pytest.raises(InvalidArgument, match="invalid reference format"):
        svc.resolve("Bad:Name:x")


def test_list_history_and_filters(svc, rootfs):
    a = svc.import_rootfs(io.BytesIO(rootfs), "busybox", ["LABEL tier=base"], "")
    svc.tag("busybox", "me/tools:1")
    rows = svc.list()
    assert [r.Id for r in rows] == [a]
    assert sorted(rows[0].RepoTags) == ["busybox:latest", "me/tools:1"]
    assert rows[0].Labels == {"tier": "base"}
    assert rows[0].Size > 1_000_000
    assert [r.RepoTags for r in svc.list(filters={"reference": ["me/*"]})] == [["me/tools:1"]]
    assert svc.list(filters={"reference": ["busybox:9"]}) == []
    assert len(svc.list(filters={"label": ["tier=base"]})) == 1
    assert svc.list(filters={"label": ["tier=other"]}) == []
    assert svc.list(filters={"dangling": ["true"]}) == []
    with pytest.raises(InvalidArgument, match="invalid filter"):
        svc.list(filters={"colour": ["red"]})
    hist = svc.history("busybox")
    assert len(hist) == 1 and hist[0].Id == a and hist[0].Size == rows[0].Size
    assert hist[0].Comment == "Imported from -"


def test_reimport_leaves_a_dangling_image_that_prune_removes(svc, rootfs):
    first = svc.import_rootfs(io.BytesIO(rootfs), "busybox", [], "one")
    second = svc.import_rootfs(io.BytesIO(rootfs), "busybox", [], "two")
    assert first != second
    dangling = svc.list(filters={"dangling": ["true"]})
    assert [d.Id for d in dangling] == [first] and dangling[0].RepoTags == []
    deleted, _reclaimed = svc.prune()
    assert deleted == [{"Deleted": first}]
    assert [r.Id for r in svc.list(all=True)] == [second]
    # the shared layer stays: the remaining image still works
    upper = svc.inspect(second)["GraphDriver"]["Data"]["UpperDir"]
    assert os.path.isfile(os.path.join(upper, "bin", "busybox"))


def test_remove_untags_then_deletes_and_gives_the_disk_space_back(svc, rootfs):
    image_id = svc.import_rootfs(io.BytesIO(rootfs), "busybox", [], "")
    svc.tag(image_id, "busybox:2")
    snap_dir = svc.inspect("busybox")["GraphDriver"]["Data"]["UpperDir"]
    assert svc.remove("busybox:2") == [{"Untagged": "busybox:2"}]
    assert svc.remove("busybox") == [{"Untagged": "busybox:latest"}, {"Deleted": image_id}]
    assert svc.list(all=True) == []
    assert blob_files(svc.config.root) == {}
    assert not os.path.exists(snap_dir)


def test_remove_by_id_with_tags_in_two_repositories_needs_force(svc, rootfs):
    image_id = svc.import_rootfs(io.BytesIO(rootfs), "busybox", [], "")
    svc.tag("busybox", "other/name:x")
    with pytest.raises(Conflict, match=r"unable to delete \w{12} \(must be forced\) - image is "
                       "referenced in multiple repositories"):  # fmt: skip
        svc.remove(image_id[7:19])
    assert svc.resolve("busybox").id == image_id
    out = svc.remove(image_id[7:19], force=True)
    assert {"Untagged": "busybox:latest"} in out and {"Untagged": "other/name:x"} in out
    assert out[-1] == {"Deleted": image_id}


def test_remove_by_id_with_tags_in_one_repository_needs_no_force(svc, rootfs):
    image_id = svc.import_rootfs(io.BytesIO(rootfs), "busybox", [], "")
    svc.tag("busybox", "busybox:1")
    out = svc.remove(image_id)
    assert out[-1] == {"Deleted": image_id} and len(out) == 3


def test_prune_all_removes_tagged_images_and_reports_space(svc, rootfs):
    svc.import_rootfs(io.BytesIO(rootfs), "busybox", [], "")
    assert svc.prune() == ([], 0)  # nothing dangling
    deleted, reclaimed = svc.prune(all=True)
    assert deleted[0] == {"Untagged": "busybox:latest"}
    assert reclaimed > 1_000_000
    assert svc.list(all=True) == []


def test_tag_validation(svc, rootfs):
    svc.import_rootfs(io.BytesIO(rootfs), "busybox", [], "")
    with pytest.raises(InvalidArgument):
        svc.tag("busybox", "me/Upper")
    with pytest.raises(InvalidArgument, match="digest"):
        svc.tag("busybox", "x@sha256:" + "a" * 64)
    with pytest.raises(NotFound):
        svc.tag("nothere", "x:1")


def test_disk_usage_counts_shared_layers(svc, rootfs):
    a = svc.import_rootfs(io.BytesIO(rootfs), "a", [], "1")
    b = svc.import_rootfs(io.BytesIO(rootfs), "b", [], "2")
    du = svc.disk_usage()
    images = {i["Id"]: i for i in du["Images"]}
    assert set(images) == {a, b}
    assert images[a]["SharedSize"] == images[a]["Size"] > 0
    assert du["LayersSize"] == images[a]["Size"]  # one layer, stored once


def test_before_and_since_filters(svc, rootfs):
    first = svc.import_rootfs(io.BytesIO(rootfs), "first", [], "1")
    second = svc.import_rootfs(io.BytesIO(rootfs), "second", [], "2")
    assert [r.Id for r in svc.list()] == [second, first]  # newest first
    assert [r.Id for r in svc.list(filters={"since": ["first"]})] == [second]
    assert [r.Id for r in svc.list(filters={"before": ["second"]})] == [first]
    with pytest.raises(NotFound):
        svc.list(filters={"since": ["nothere"]})


def test_private_unpack_dirs_of_dead_imports_are_swept(svc, tmp_path):
    import time

    from dockyard.images.pipeunpack import BackgroundApply, sweep_stale

    tmp_root = str(tmp_path / "tmp")
    dead = os.path.join(tmp_root, "import-deadbeef")
    os.makedirs(os.path.join(dead, "fs", "bin"))
    live = BackgroundApply(tmp_root)
    try:
        sweep_stale(tmp_root, now=time.time() + 3600)
        assert not os.path.exists(dead)
        assert os.path.isdir(live.dir)  # its owner holds the lock
    finally:
        live.discard()
    assert os.listdir(tmp_root) == []
