"""save and load through ImageService: Docker 25+ archive shape, round trips, tampering,
hostile archives, and archives made by skopeo (docker-archive and oci-archive)."""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from dockyard.config import Config
from dockyard.errors import DataLoss, InvalidArgument, NotFound
from dockyard.services.images import ImageService


def make_svc(path) -> ImageService:
    return ImageService(Config(root=str(path / "root"), state_dir=str(path / "state")))


@pytest.fixture
def svc(tmp_path):
    s = make_svc(tmp_path / "a")
    yield s
    s.close()


@pytest.fixture
def fresh(tmp_path):
    s = make_svc(tmp_path / "b")
    yield s
    s.close()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def members(data: bytes) -> dict[str, bytes]:
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            if m.isfile():
                out[m.name] = t.extractfile(m).read()
    return out


def build_tar(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            t.addfile(info)
    return buf.getvalue()


def save_bytes(svc, names) -> bytes:
    out = io.BytesIO()
    svc.save(names, out)
    return out.getvalue()


@pytest.fixture
def busybox(svc, busybox_tar):
    with open(busybox_tar, "rb") as f:
        return svc.import_rootfs(f, "busybox", ['CMD ["sh"]'], "")


def test_saved_tar_is_a_docker_archive_and_an_oci_layout(svc, busybox, tmp_path):
    svc.tag("busybox", "me/bb:1")
    path = tmp_path / "out.tar"
    with open(path, "wb") as f:  # a real file: the sendfile path
        svc.save(["busybox:latest", "me/bb:1"], f)
    files = members(path.read_bytes())
    assert {"manifest.json", "index.json", "oci-layout", "repositories"} <= set(files)
    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert sha(data) == "sha256:" + name.rsplit("/", 1)[1], name
    manifest = json.loads(files["manifest.json"])
    assert manifest[0]["RepoTags"] == ["busybox:latest", "me/bb:1"]
    assert manifest[0]["Config"] == "blobs/sha256/" + busybox[7:]
    assert all(p in files for p in manifest[0]["Layers"])
    index = json.loads(files["index.json"])
    annotations = [m["annotations"] for m in index["manifests"]]
    assert annotations == [
        {"io.containerd.image.name": "docker.io/library/busybox:latest",
         "org.opencontainers.image.ref.name": "latest"},
        {"io.containerd.image.name": "docker.io/me/bb:1",
         "org.opencontainers.image.ref.name": "1"},
    ]  # fmt: skip
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    assert json.loads(files["repositories"])["busybox"]["latest"]
    # the same bytes through a pipe-like stream
    assert save_bytes(svc, ["busybox:latest", "me/bb:1"]) == path.read_bytes()


def test_save_by_id_has_no_tags_and_by_name_has_all_its_tags(svc, busybox):
    svc.tag("busybox", "busybox:2")
    by_id = json.loads(members(save_bytes(svc, [busybox[7:19]]))["manifest.json"])
    assert by_id[0]["RepoTags"] is None
    index = json.loads(members(save_bytes(svc, [busybox]))["index.json"])
    assert "annotations" not in index["manifests"][0]
    by_name = json.loads(members(save_bytes(svc, ["busybox"]))["manifest.json"])
    assert sorted(by_name[0]["RepoTags"]) == ["busybox:2", "busybox:latest"]
    with pytest.raises(NotFound):
        svc.save(["nothere"], io.BytesIO())


def test_save_load_round_trip_keeps_ids_and_tags(svc, fresh, busybox, busybox_tar):
    other = svc.import_rootfs(io.BytesIO(busybox_tar.read_bytes()), "me/two:x", ["ENV X=1"], "m")
    data = save_bytes(svc, ["busybox", "me/two:x"])
    lines = fresh.load(io.BytesIO(data))
    assert sorted(lines) == ["Loaded image: busybox:latest", "Loaded image: me/two:x"]
    for name, image_id in (("busybox", busybox), ("me/two:x", other)):
        a, b = svc.inspect(name), fresh.inspect(name)
        assert b["Id"] == image_id == a["Id"]
        assert b["RootFS"] == a["RootFS"]
        assert os.path.isfile(os.path.join(b["GraphDriver"]["Data"]["UpperDir"], "bin/busybox"))
    # loading the same archive again (blobs and snapshots present) is fine
    assert sorted(fresh.load(io.BytesIO(data))) == sorted(lines)


def test_load_from_a_compressed_pipe(svc, fresh, busybox):
    data = gzip.compress(save_bytes(svc, ["busybox"]), compresslevel=1)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        view = memoryview(data)
        while view:
            view = view[os.write(w, view[:65536]) :]
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as src:
        assert fresh.load(src) == ["Loaded image: busybox:latest"]
    os.waitpid(pid, 0)
    assert fresh.resolve("busybox").id == busybox


def test_untagged_image_loads_as_an_id(svc, fresh, busybox):
    assert fresh.load(io.BytesIO(save_bytes(svc, [busybox]))) == [f"Loaded image ID: {busybox}"]
    assert fresh.list(all=True)[0].RepoTags == []


def _tampered_layer(files: dict[str, bytes]) -> tuple[str, bytes]:
    manifest = json.loads(files["manifest.json"])
    path = manifest[0]["Layers"][0]
    with gzip.open(io.BytesIO(files[path])) as g:
        layer = bytearray(g.read())
    # flip bytes inside /bin/busybox's content (far from the headers)
    layer[len(layer) // 2 : len(layer) // 2 + 4] = b"EVIL"
    return path, gzip.compress(bytes(layer))


def test_a_tampered_blob_fails_its_digest_and_tags_nothing(svc, fresh, busybox):
    files = members(save_bytes(svc, ["busybox"]))
    path, evil = _tampered_layer(files)
    files[path] = evil  # same name, other bytes
    with pytest.raises(DataLoss, match="hashes to"):
        fresh.load(io.BytesIO(build_tar(files)))
    assert fresh.list(all=True) == []
    with pytest.raises(NotFound):
        fresh.resolve("busybox")
    # no lease outlives the failed load: GC takes every blob it wrote back
    assert fresh.meta.list_leases() == []
    fresh.gc()
    assert list(fresh.content.digests()) == []


def test_a_consistently_rewritten_layer_fails_its_diff_id(svc, fresh, busybox):
    """The attacker renames the blob and rewrites manifest.json: only the diff id catches it."""
    files = members(save_bytes(svc, ["busybox"]))
    path, evil = _tampered_layer(files)
    del files[path], files["index.json"], files["oci-layout"]
    new_path = "blobs/sha256/" + sha(evil)[7:]
    files[new_path] = evil
    manifest = json.loads(files["manifest.json"])
    manifest[0]["Layers"] = [new_path]
    files["manifest.json"] = json.dumps(manifest).encode()
    with pytest.raises(DataLoss, match="diff id"):
        fresh.load(io.BytesIO(build_tar(files)))
    assert fresh.list(all=True) == []
    assert (
        fresh.snapshots.get(json.loads(files[manifest[0]["Config"]])["rootfs"]["diff_ids"][0])
        is None
    )


def test_old_docker_save_layout_with_symlinked_layers(svc, fresh, busybox):
    files = members(save_bytes(svc, ["busybox"]))
    manifest = json.loads(files["manifest.json"])
    layer = files[manifest[0]["Layers"][0]]
    with gzip.open(io.BytesIO(layer)) as g:
        plain = g.read()
    config = files[manifest[0]["Config"]]
    old = {
        "aaaa/layer.tar": plain,
        "aaaa/VERSION": b"1.0",
        f"{busybox[7:]}.json": config,
        "manifest.json": json.dumps([{"Config": f"{busybox[7:]}.json", "RepoTags": ["old:1"],
                                      "Layers": ["bbbb/layer.tar"]}]).encode(),
    }  # fmt: skip
    data = build_tar(old, links={"bbbb/layer.tar": "../aaaa/layer.tar"})
    assert fresh.load(io.BytesIO(data)) == ["Loaded image: old:1"]
    assert fresh.resolve("old:1").id == busybox


@pytest.mark.parametrize(
    "files,links",
    [
        ({"../evil": b"x", "manifest.json": b"[]"}, {}),
        ({"manifest.json": json.dumps([{"Config": "../../etc/passwd", "Layers": []}]).encode()}, {}),
        ({"manifest.json": json.dumps([{"Config": "c.json", "Layers": []}]).encode()},
         {"c.json": "/etc/passwd"}),
        ({"manifest.json": json.dumps([{"Config": "c.json", "Layers": []}]).encode()},
         {"c.json": "d.json", "d.json": "c.json"}),
        ({"manifest.json": json.dumps([{"Config": "a/c.json", "Layers": []}]).encode()},
         {"a/c.json": "../../../etc/passwd"}),
        ({"hello.txt": b"not an image"}, {}),
        ({"manifest.json": b"{not json"}, {}),
        ({"index.json": b'{"schemaVersion": 2, "manifests": [{"mediaType": '
                        b'"application/vnd.oci.image.manifest.v1+json", "digest": "sha256:'
                        + b"0" * 64 + b'", "size": 2}]}'}, {}),
    ],
)  # fmt: skip
def test_hostile_archives_are_refused_cleanly(fresh, files, links):
    with pytest.raises((InvalidArgument, DataLoss, NotFound)):
        fresh.load(io.BytesIO(build_tar(files, links)))
    assert fresh.list(all=True) == []


def test_load_of_a_non_tar_is_invalid(fresh):
    with pytest.raises(InvalidArgument):
        fresh.load(io.BytesIO(b"\x01" * 4096))


needs_tools = pytest.mark.skipif(
    not (shutil.which("umoci") and shutil.which("skopeo")), reason="needs umoci and skopeo"
)


@pytest.fixture
def oci_layout(tmp_path, busybox_tar):
    """An OCI layout made by umoci from the busybox rootfs (as the anchors script does)."""
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    subprocess.run(["tar", "-C", str(rootfs), "-xf", str(busybox_tar)], check=True)
    layout = tmp_path / "oci"
    run = lambda *a: subprocess.run(list(a), check=True, capture_output=True)  # noqa: E731
    run("umoci", "init", "--layout", str(layout))
    run("umoci", "new", "--image", f"{layout}:bb")
    run("umoci", "insert", "--image", f"{layout}:bb", str(rootfs), "/")
    run("umoci", "config", "--image", f"{layout}:bb", "--config.cmd", "/bin/sh")
    return layout


@needs_tools
@pytest.mark.parametrize("transport", ["docker-archive", "oci-archive"])
def test_skopeo_archives_load_with_skopeos_ids(fresh, oci_layout, tmp_path, transport):
    archive = tmp_path / "out.tar"
    env = dict(os.environ, TMPDIR=str(tmp_path))
    subprocess.run(["skopeo", "copy", "-q", f"oci:{oci_layout}:bb",
                    f"{transport}:{archive}:busybox:latest"], check=True, env=env)  # fmt: skip
    raw_config = subprocess.run(["skopeo", "inspect", "--raw", "--config", f"oci:{oci_layout}:bb"],
                                check=True, capture_output=True, env=env).stdout  # fmt: skip
    with open(archive, "rb") as f:
        assert fresh.load(f) == ["Loaded image: busybox:latest"]
    info = fresh.inspect("busybox")
    assert info["Id"] == sha(raw_config)
    assert info["RootFS"]["Layers"] == json.loads(raw_config)["rootfs"]["diff_ids"]
    assert info["Config"]["Cmd"] == ["/bin/sh"]


@needs_tools
def test_skopeo_reads_what_we_save(svc, busybox, tmp_path):
    path = tmp_path / "saved.tar"
    with open(path, "wb") as f:
        svc.save(["busybox"], f)
    env = dict(os.environ, TMPDIR=str(tmp_path))
    out = subprocess.run(["skopeo", "inspect", "--config", f"docker-archive:{path}"],
                         check=True, capture_output=True, env=env).stdout  # fmt: skip
    assert json.loads(out)["rootfs"]["diff_ids"] == svc.inspect("busybox")["RootFS"]["Layers"]
    out = subprocess.run(["skopeo", "inspect", "--raw", "--config", f"oci-archive:{path}:latest"],
                         check=True, capture_output=True, env=env).stdout  # fmt: skip
    assert sha(out) == busybox


def test_nested_index_picks_the_host_platform(svc, fresh, busybox):
    files = members(save_bytes(svc, [busybox]))
    real = json.loads(files["index.json"])["manifests"][0]
    elsewhere = dict(real, digest="sha256:" + "e" * 64, platform={"os": "linux", "architecture": "arm64"})  # fmt: skip
    here = dict(real, platform={"os": "linux", "architecture": "amd64"})
    nested = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                         "manifests": [elsewhere, here]}).encode()  # fmt: skip
    files["blobs/sha256/" + sha(nested)[7:]] = nested
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(nested),
        "size": len(nested), "annotations": {"io.containerd.image.name": "docker.io/me/multi:1"},
    }]}).encode()  # fmt: skip
    del files["manifest.json"]
    assert fresh.load(io.BytesIO(build_tar(files))) == ["Loaded image: me/multi:1"]
    assert fresh.resolve("me/multi:1").id == busybox


@pytest.mark.skipif(not (shutil.which("podman") and shutil.which("umoci")), reason="needs podman")
@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_podman_save_loads_with_podmans_ids(fresh, oci_layout, tmp_path, fmt):
    import tempfile

    root = tmp_path / "proot"
    runroot = tempfile.mkdtemp(prefix="dyp-", dir="/tmp")  # podman wants a short runroot
    store = f"containers-storage:[overlay@{root}+{runroot}]busybox:latest"
    env = dict(os.environ, TMPDIR=str(tmp_path))
    podman = ["podman", "--root", str(root), "--runroot", str(runroot),
              "--storage-driver", "overlay"]  # fmt: skip
    try:
        subprocess.run(["skopeo", "copy", "-q", f"oci:{oci_layout}:bb", store], check=True, env=env)
        archive = tmp_path / "p.tar"
        subprocess.run([*podman, "save", "-q", "--format", fmt, "-o", str(archive),
                        "busybox:latest"], check=True, env=env)  # fmt: skip
        image_id = subprocess.run([*podman, "images", "--no-trunc", "--format", "{{.ID}}"],
                                  check=True, capture_output=True, env=env).stdout.decode().strip()  # fmt: skip
    finally:
        overlay = str(root / "overlay")
        with open("/proc/mounts") as f:
            if any(line.split()[1] == overlay for line in f):
                subprocess.run(["umount", overlay], check=False)
        shutil.rmtree(runroot, ignore_errors=True)
    with open(archive, "rb") as f:
        assert fresh.load(f) == ["Loaded image: busybox:latest"]
    assert fresh.resolve("busybox").id == "sha256:" + image_id.removeprefix("sha256:")


def test_concurrent_loads_and_gc_of_one_root(svc, busybox, tmp_path):
    """Several processes share a data root: two loads of one archive and a GC at once."""
    import threading

    data = save_bytes(svc, ["busybox"])
    services = [make_svc(tmp_path / "shared") for _ in range(3)]
    results: list = [None, None, None]

    def load(i: int) -> None:
        try:
            results[i] = services[i].load(io.BytesIO(data))
        except BaseException as e:
            results[i] = e

    def gc() -> None:
        try:
            for _ in range(3):
                services[2].gc()
            results[2] = "ok"
        except BaseException as e:
            results[2] = e

    threads = [threading.Thread(target=load, args=(0,)), threading.Thread(target=load, args=(1,)),
               threading.Thread(target=gc)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert results == [["Loaded image: busybox:latest"]] * 2 + ["ok"]
        services[2].gc()
        info = services[0].inspect("busybox")
        assert info["Id"] == busybox
        assert os.path.isfile(os.path.join(info["GraphDriver"]["Data"]["UpperDir"], "bin/busybox"))
        for d in services[0].content.digests():
            services[0].content.verify(d)
    finally:
        for s in services:
            s.close()
