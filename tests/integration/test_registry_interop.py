"""Interop: skopeo pushes an OCI layout (made by umoci from the busybox rootfs) to dockyard's
registry and copies it back; digests stay identical. With Basic auth, token auth and TLS.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_registry_support import Client, RegistryProcess, bcrypt_line, free_port

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        not (shutil.which("skopeo") and shutil.which("umoci")), reason="needs skopeo and umoci"
    ),
]


@pytest.fixture(scope="module")
def layout(busybox_tar, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("layout")
    rootfs = base / "rootfs"
    rootfs.mkdir()
    # (tar(1): the interpreter may be a 3.11 without tarfile's extraction filters)
    subprocess.run(["tar", "-xf", str(busybox_tar), "-C", str(rootfs)], check=True)
    oci = base / "oci"
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("umoci", "init", "--layout", str(oci))
    run("umoci", "new", "--image", f"{oci}:busybox")
    run("umoci", "insert", "--image", f"{oci}:busybox", str(rootfs), "/")
    run("umoci", "config", "--image", f"{oci}:busybox", "--config.cmd", "/bin/sh")
    return oci


def _layout_manifest(oci: Path, tag: str) -> str:
    index = json.loads((oci / "index.json").read_text())
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m["digest"]
    raise AssertionError(f"{tag} not in {oci}")


_POLICY: list[Path] = []


@pytest.fixture(autouse=True, scope="module")
def policy(tmp_path_factory):
    """A private trust policy (accept anything): the host may have none."""
    path = tmp_path_factory.mktemp("policy") / "policy.json"
    path.write_text('{"default": [{"type": "insecureAcceptAnything"}]}')
    _POLICY[:] = [path]
    yield path


def skopeo(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    argv = ["skopeo", f"--policy={_POLICY[0]}", *args]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)}: {p.stderr}")
    return p


def _round_trip(layout: Path, server: RegistryProcess, tmp_path: Path, creds: list[str]) -> None:
    host = f"127.0.0.1:{server.port}"
    want = _layout_manifest(layout, "busybox")
    skopeo("copy", "--dest-tls-verify=false", *[f"--dest-{c}" for c in creds],
           f"oci:{layout}:busybox", f"docker://{host}/interop/busybox:1.0")  # fmt: skip
    info = json.loads(
        skopeo(
            "inspect",
            "--tls-verify=false",
            *[f"--{c}" for c in creds],
            f"docker://{host}/interop/busybox:1.0",
        ).stdout
    )
    assert info["Digest"] == want
    raw = json.loads((layout / "blobs" / "sha256" / want.split(":")[1]).read_bytes())
    assert info["Layers"] == [layer["digest"] for layer in raw["layers"]]
    out = tmp_path / "pulled"
    skopeo("copy", "--src-tls-verify=false", *[f"--src-{c}" for c in creds],
           f"docker://{host}/interop/busybox:1.0", f"oci:{out}:copy")  # fmt: skip
    assert _layout_manifest(out, "copy") == want
    for layer in raw["layers"]:
        blob = out / "blobs" / "sha256" / layer["digest"].split(":")[1]
        assert blob.read_bytes() == (layout / "blobs" / "sha256" / blob.name).read_bytes()


def test_skopeo_round_trip_without_auth(layout, tmp_path):
    server = RegistryProcess(tmp_path / "reg").start()
    try:
        _round_trip(layout, server, tmp_path, [])
        tags = Client(server.url).get("/v2/interop/busybox/tags/list").json()
        assert tags == {"name": "interop/busybox", "tags": ["1.0"]}
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("mode", ["htpasswd", "token"])
def test_skopeo_with_auth(layout, tmp_path, mode):
    (tmp_path / "htpasswd").write_text(bcrypt_line("bob", "hunter22"))
    auth: dict = {"htpasswd": str(tmp_path / "htpasswd")}
    if mode == "token":
        auth["token"] = {"service": "interop"}
    server = RegistryProcess(tmp_path / "reg", {"auth": auth}).start()
    try:
        host = f"127.0.0.1:{server.port}"
        refused = skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:busybox",
                         f"docker://{host}/interop/busybox:anon", check=False)  # fmt: skip
        assert refused.returncode != 0
        assert "unauthorized" in refused.stderr.lower() or "401" in refused.stderr
        wrong = skopeo("copy", "--dest-tls-verify=false", "--dest-creds=bob:wrong",
                       f"oci:{layout}:busybox", f"docker://{host}/interop/busybox:x", check=False)  # fmt: skip
        assert wrong.returncode != 0
        _round_trip(layout, server, tmp_path, ["creds=bob:hunter22"])
    finally:
        assert server.stop() == 0


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_skopeo_over_tls(layout, tmp_path):
    import httpx

    cert, key = _self_signed(tmp_path)
    server = RegistryProcess(
        tmp_path / "reg", {"tls": {"cert": str(cert), "key": str(key)}}, scheme="https"
    ).start()
    try:
        # The certificate verifies against itself; plain HTTP is not spoken.
        import ssl

        r = httpx.get(server.url + "/v2/", verify=ssl.create_default_context(cafile=str(cert)))
        assert r.status_code == 200
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{server.port}/v2/", timeout=5, verify=False)
        certs = tmp_path / "certs.d"
        certs.mkdir()
        shutil.copy(cert, certs / "ca.crt")
        host = f"127.0.0.1:{server.port}"
        skopeo("copy", f"--dest-cert-dir={certs}", f"oci:{layout}:busybox",
               f"docker://{host}/interop/tls:1")  # fmt: skip
        info = json.loads(
            skopeo("inspect", f"--cert-dir={certs}", f"docker://{host}/interop/tls:1").stdout
        )
        assert info["Digest"] == _layout_manifest(layout, "busybox")
    finally:
        assert server.stop() == 0


def test_free_port_helper_gives_distinct_ports():
    assert free_port() > 0


class _Podman:
    """podman with a private storage, config and trust policy under `base`."""

    def __init__(self, base: Path, policy: Path):
        import os

        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.policy = policy
        (base / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{base}/root"\nrunroot = "{base}/run"\n'
        )
        (base / "containers.conf").write_text(
            '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
            f'events_logfile_path = "{base}/events.log"\nruntime = "runc"\n'
        )
        (base / "registries.conf").write_text("unqualified-search-registries = []\n")
        self.env = dict(
            os.environ,
            CONTAINERS_CONF=str(base / "containers.conf"),
            CONTAINERS_STORAGE_CONF=str(base / "storage.conf"),
            CONTAINERS_REGISTRIES_CONF=str(base / "registries.conf"),
            TMPDIR=str(base),
        )

    def __call__(self, *args: str) -> str:
        argv = ["podman", *args]
        if args[0] in ("pull", "push"):
            argv[2:2] = [f"--signature-policy={self.policy}", "--tls-verify=false"]
        p = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=180)
        if p.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {p.stderr}")
        return p.stdout

    def close(self) -> None:
        subprocess.run(["podman", "rmi", "-af"], capture_output=True, env=self.env)
        mounts = Path("/proc/mounts").read_text().splitlines()
        for m in sorted((line.split()[1] for line in mounts), reverse=True):
            if m.startswith(str(self.base)):
                subprocess.run(["umount", "-l", m], check=False)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.mark.skipif(not shutil.which("podman"), reason="needs podman")
def test_podman_pull_and_push(layout, tmp_path, policy):
    server = RegistryProcess(tmp_path / "reg").start()
    podman = None
    try:
        podman = _Podman(tmp_path / "podman", policy)
        host = f"127.0.0.1:{server.port}"
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:busybox",
               f"docker://{host}/interop/busybox:1.0")  # fmt: skip
        podman("pull", f"{host}/interop/busybox:1.0")
        image_id = podman("image", "inspect", "--format", "{{.Id}}", f"{host}/interop/busybox:1.0")
        podman("push", f"{host}/interop/busybox:1.0", f"{host}/interop/pushed:podman")
        podman("rmi", "-af")
        podman("pull", f"{host}/interop/pushed:podman")
        again = podman("image", "inspect", "--format", "{{.Id}}", f"{host}/interop/pushed:podman")
        assert again == image_id  # same config, so the same image ID after the round trip
        tags = Client(server.url).get("/v2/interop/pushed/tags/list").json()["tags"]
        assert tags == ["podman"]
    finally:
        if podman is not None:
            podman.close()
        assert server.stop() == 0
