"""certs.d: dockyard's client presents the client certificate and trusts the CA it finds in
`<certs.d>/<host:port>/` (`DOCKYARD_CERTS_D`; Docker's `/etc/docker/certs.d` otherwise), as
Docker does, against Debian's docker-registry requiring client certificates (mutual TLS)."""

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pem_key(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())  # fmt: skip


def _pem_cert(cert) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def _issue(name: str, issuer_key=None, issuer_name=None, *, ca=False, server=False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        b = b.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        b = b.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    cert = b.sign(issuer_key or key, hashes.SHA256())
    return key, cert


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    ca_key, ca = _issue("dockyard test CA", ca=True)
    files = {"ca.crt": _pem_cert(ca)}
    key, cert = _issue("127.0.0.1", ca_key, ca.subject, server=True)
    files |= {"server.crt": _pem_cert(cert), "server.key": _pem_key(key)}
    key, cert = _issue("client", ca_key, ca.subject)
    files |= {"client.cert": _pem_cert(cert), "client.key": _pem_key(key)}
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d


@pytest.fixture(scope="module")
def mtls_registry(tmp_path_factory, pki):
    """docker-registry over TLS that refuses clients without a certificate from the CA."""
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed (Debian package docker-registry)")
    base = tmp_path_factory.mktemp("mtls")
    port = _free_port()
    (base / "config.yml").write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {base / 'data'}}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}', tls: {{certificate: {pki / 'server.crt'}, "
        f"key: {pki / 'server.key'}, clientcas: [{pki / 'ca.crt'}]}}}}\n"
    )
    log = open(base / "registry.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(["docker-registry", "serve", str(base / "config.yml")],
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(pki / "client.cert", pki / "client.key")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=1) as s,
                    ctx.wrap_socket(s, server_hostname="127.0.0.1"),
                ):
                    break
            except OSError:
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
def dy(dy, tmp_path):
    dy.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    dy.env["DOCKYARD_CERTS_D"] = str(tmp_path / "certs.d")
    return dy


def _install(tmp_path: Path, host: str, pki: Path, names: list[str]) -> Path:
    d = tmp_path / "certs.d" / host
    d.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(pki / name, d / name)
    return d


def test_client_certificate_from_certs_d_push_and_pull(dy, mtls_registry, pki, tmp_path,
                                                       busybox_tar):  # fmt: skip
    ref = f"{mtls_registry}/certs/busybox:1"
    image_id = dy.out("import", str(busybox_tar), ref).strip()
    # no client certificate: the registry refuses the TLS handshake and nothing is pushed
    p = dy("push", ref, check=False)
    assert p.returncode != 0
    assert "cannot reach registry" in p.stderr.decode()
    _install(tmp_path, mtls_registry, pki, ["ca.crt", "client.cert", "client.key"])
    out = dy.out("push", ref)
    assert "1: digest: sha256:" in out
    other = type(dy)(tmp_path / "b" / "root", tmp_path / "b" / "state")
    other.env = dict(dy.env)
    assert other.out("pull", "-q", ref).strip() == ref
    assert other.out("image", "inspect", "--format", "{{.Id}}", ref).strip() == image_id


def test_a_client_certificate_without_its_key_is_refused(dy, mtls_registry, pki, tmp_path):
    _install(tmp_path, mtls_registry, pki, ["client.cert"])
    p = dy("pull", f"{mtls_registry}/certs/none:1", check=False)
    assert p.returncode != 0
    want = (
        "missing key client.key for client certificate client.cert. "
        "CA certificates must use the extension .crt"
    )
    assert p.stderr.decode().strip().endswith(want)


def test_the_ca_in_certs_d_verifies_the_server(pki, mtls_registry, tmp_path):
    """With verification on (a registry that is not on loopback gets it), the CA from
    certs.d is what makes the server's certificate trusted."""
    from dockyard.remote.certs import tls_files
    from dockyard.remote.http import HttpClient, TransportError

    url = f"https://{mtls_registry}/v2/"
    d = _install(tmp_path, mtls_registry, pki, ["client.cert", "client.key"])
    without_ca = HttpClient(True, 10, "t", tls_files(mtls_registry, str(tmp_path / "certs.d")))
    with pytest.raises(TransportError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
        without_ca.send("GET", url, {})
    without_ca.close()
    shutil.copy(pki / "ca.crt", d / "ca.crt")
    with_ca = HttpClient(True, 10, "t", tls_files(mtls_registry, str(tmp_path / "certs.d")))
    try:
        assert with_ca.send("GET", url, {}).status_code == 200
    finally:
        with_ca.close()
