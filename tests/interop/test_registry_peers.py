"""dockyard's registry client against Debian's docker-registry (distribution 2.8, htpasswd with
bcrypt), side by side with skopeo: what one pushes the other pulls with identical digests."""

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time

import httpx
import pytest

USER, PASSWORD = "peer", "peer-pw"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def distribution(tmp_path_factory):
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed (Debian package docker-registry)")
    import bcrypt

    base = tmp_path_factory.mktemp("distribution")
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(5)).decode()
    (base / "htpasswd").write_text(f"{USER}:{hashed}\n")
    port = _free_port()
    (base / "config.yml").write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {base / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
        f"auth: {{htpasswd: {{realm: peers, path: {base / 'htpasswd'}}}}}\n"
    )
    log = open(base / "registry.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(["docker-registry", "serve", str(base / "config.yml")],
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((base / "registry.log").read_text())
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def dy(dy, tmp_path, distribution):
    dy.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    dy("login", "-u", USER, "--password-stdin", distribution, input=PASSWORD.encode() + b"\n")
    return dy


def _other(dy, tmp_path, name):
    other = type(dy)(tmp_path / name / "root", tmp_path / name / "state")
    other.env = dict(dy.env)
    return other


def _skopeo(*args: str) -> str:
    p = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)}: {p.stderr}")
    return p.stdout


CREDS = f"{USER}:{PASSWORD}"


def _remote_digest(host: str, repo_tag: str) -> str:
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", CREDS,
         f"docker://{host}/{repo_tag}"], capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return _sha(raw)


def _oci_layout(path, layers: list[dict[str, bytes]]) -> tuple[str, str]:
    """Write an OCI layout with one image; return (manifest digest, config digest)."""
    blobs = path / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        d = _sha(data)
        (blobs / d.split(":")[1]).write_bytes(data)
        return d

    descs, diff_ids = [], []
    for files in layers:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        raw = buf.getvalue()
        gz = gzip.compress(raw, mtime=0)
        diff_ids.append(_sha(raw))
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": put(gz), "size": len(gz)})  # fmt: skip
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()  # fmt: skip
    manifest = json.dumps({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put(config), "size": len(config)},
        "layers": descs}).encode()  # fmt: skip
    mdigest = put(manifest)
    (path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest,
         "size": len(manifest)}]}))  # fmt: skip
    return mdigest, _sha(config)


def test_dockyard_push_then_pull_identical_digests(dy, distribution, tmp_path, busybox_tar):
    ref = f"{distribution}/dy/busybox:1"
    image_id = dy.out("import", str(busybox_tar), ref).strip()
    out = dy.out("push", ref)
    digest = next(ln.split()[2] for ln in out.splitlines() if ln.startswith("1: digest:"))
    assert _remote_digest(distribution, "dy/busybox:1") == digest
    assert "Layer already exists" in dy.out("push", ref)

    other = _other(dy, tmp_path, "b")
    pulled = other.out("pull", ref)
    assert f"Digest: {digest}" in pulled
    info = json.loads(other.out("image", "inspect", ref))[0]
    assert info["Id"] == image_id
    assert info["RepoDigests"] == [f"{distribution}/dy/busybox@{digest}"]


def test_skopeo_push_dockyard_pull(dy, distribution, tmp_path):
    layout = tmp_path / "layout"
    mdigest, config_digest = _oci_layout(layout, [{"a": os.urandom(200_000)}, {"b": b"bee\n"}])
    _skopeo("copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", CREDS,
            f"oci:{layout}", f"docker://{distribution}/from/skopeo:v1")  # fmt: skip
    assert _remote_digest(distribution, "from/skopeo:v1") == mdigest
    out = dy.out("pull", f"{distribution}/from/skopeo:v1")
    assert f"Digest: {mdigest}" in out
    info = json.loads(dy.out("image", "inspect", f"{distribution}/from/skopeo:v1"))[0]
    assert info["Id"] == config_digest
    # pushed back unchanged: the same manifest digest
    dy("tag", f"{distribution}/from/skopeo:v1", f"{distribution}/from/dockyard:v1")
    out = dy.out("push", f"{distribution}/from/dockyard:v1")
    assert f"v1: digest: {mdigest}" in out and "Mounted from from/skopeo" in out


def test_dockyard_push_skopeo_pull(dy, distribution, tmp_path, busybox_tar):
    ref = f"{distribution}/to/skopeo:2"
    dy("import", str(busybox_tar), ref)
    out = dy.out("push", ref)
    digest = next(ln.split()[2] for ln in out.splitlines() if ln.startswith("2: digest:"))
    dest = tmp_path / "copied"
    _skopeo("copy", "--preserve-digests", "--src-tls-verify=false", "--src-creds", CREDS,
            f"docker://{ref}", f"oci:{dest}")  # fmt: skip
    index = json.loads((dest / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [digest]
    manifest = json.loads((dest / "blobs" / "sha256" / digest.split(":")[1]).read_bytes())
    for desc in [manifest["config"], *manifest["layers"]]:
        blob = (dest / "blobs" / "sha256" / desc["digest"].split(":")[1]).read_bytes()
        assert _sha(blob) == desc["digest"] and len(blob) == desc["size"]
