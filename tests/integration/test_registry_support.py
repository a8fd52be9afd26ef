"""Shared helpers for the registry tests: a real server process and an auth-aware client.

(No tests here; the name only makes it importable next to the test modules.)
"""

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[2] / "src"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bcrypt_line(user: str, password: str) -> str:
    import bcrypt

    return f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()}\n"


class RegistryProcess:
    """`dockyard.registry.server.serve` in a subprocess, with a config file of its own."""

    def __init__(self, base: Path, config: dict | None = None, scheme: str = "http"):
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.scheme = scheme
        self.config = {"root": str(base / "data"), "addr": f"127.0.0.1:{self.port}"}
        self.config.update(config or {})
        self.config_path = base / "config.json"
        self.config_path.write_text(json.dumps(self.config))
        self.proc: subprocess.Popen | None = None
        self.log = base / "server.log"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def root(self) -> Path:
        return Path(self.config["root"])

    def start(self) -> "RegistryProcess":
        code = (
            "import sys\n"
            "from dockyard.registry.server import serve, load_config\n"
            "serve(load_config(sys.argv[1]))\n"
        )
        env = dict(os.environ, PYTHONPATH=str(SRC))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"registry exited: {self.log.read_text()}")
            try:
                httpx.get(self.url + "/v2/", verify=False, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("registry did not start")

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit status (0 = closed cleanly)."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class Client:
    """An httpx client that answers Basic and Bearer challenges like Docker clients do."""

    def __init__(self, base: str, user: str = "", password: str = ""):
        self.base = base
        self.user = user
        self.password = password
        self.http = httpx.Client(base_url=base, verify=False, timeout=60)
        self.tokens: dict[str, str] = {}
        self.basic = False

    def close(self) -> None:
        self.http.close()

    def _basic_header(self) -> str:
        raw = f"{self.user}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def token(self, realm: str, service: str, scope: str) -> str:
        headers = {"Authorization": self._basic_header()} if self.user else {}
        params = {"service": service}
        if scope:
            params["scope"] = scope
        r = httpx.get(realm, params=params, headers=headers, verify=False)
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        explicit = "Authorization" in headers
        auth = "" if explicit else self._auth_for(url)
        if auth:
            headers["Authorization"] = auth
        r = self.http.request(method, url, headers=headers, **kw)
        if r.status_code != 401 or explicit:
            return r
        challenge = r.headers.get("WWW-Authenticate", "")
        if challenge.startswith("Basic") and self.user and not self.basic:
            self.basic = True
        elif challenge.startswith("Bearer"):
            params = parse_challenge(challenge)
            self.tokens[params.get("scope", "")] = self.token(
                params["realm"], params.get("service", ""), params.get("scope", "")
            )
            self._last_scope = params.get("scope", "")
        else:
            return r
        headers["Authorization"] = self._auth_for(url, getattr(self, "_last_scope", None))
        return self.http.request(method, url, headers=headers, **kw)

    def auth_header(self, *scopes: str) -> dict[str, str]:
        """Credentials for a request needing several scopes (as Docker asks for a mount)."""
        r = self.http.get("/v2/")
        challenge = r.headers.get("WWW-Authenticate", "")
        if challenge.startswith("Basic"):
            return {"Authorization": self._basic_header()}
        if not challenge.startswith("Bearer"):
            return {}
        params = parse_challenge(challenge)
        query = [("service", params.get("service", ""))] + [("scope", s) for s in scopes]
        headers = {"Authorization": self._basic_header()} if self.user else {}
        t = httpx.get(params["realm"], params=query, headers=headers, verify=False)
        return {"Authorization": "Bearer " + t.json()["token"]}

    def _auth_for(self, url: str, scope: str | None = None) -> str:
        if self.basic:
            return self._basic_header()
        if scope is not None and scope in self.tokens:
            return "Bearer " + self.tokens[scope]
        # The token whose scope names this repository with the most actions.
        best = ""
        for s, t in self.tokens.items():
            name = s.split(":")[1] if s.count(":") >= 2 else ""
            if name and f"/v2/{name}/" in url and (not best or len(s) > len(best[0])):
                best = (s, t)
        return "Bearer " + best[1] if best else ""

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def head(self, url, **kw):
        return self.request("HEAD", url, **kw)

    def put(self, url, **kw):
        return self.request("PUT", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    # -- conveniences

    def push_blob(self, repo: str, data: bytes, digest: str | None = None) -> str:
        digest = digest or sha256(data)
        r = self.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data)
        assert r.status_code == 201, r.text
        return digest

    def push_manifest(self, repo: str, ref: str, doc: dict | bytes, media_type: str) -> str:
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        r = self.put(
            f"/v2/{repo}/manifests/{ref}", content=body, headers={"Content-Type": media_type}
        )
        assert r.status_code == 201, r.text
        return r.headers["Docker-Content-Digest"]


def parse_challenge(header: str) -> dict[str, str]:
    _, _, rest = header.partition(" ")
    out = {}
    for part in _split_params(rest):
        k, _, v = part.partition("=")
        out[k.strip()] = v.strip().strip('"')
    return out


def _split_params(text: str) -> list[str]:
    parts, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        parts.append(cur)
    return parts


def descriptor(media_type: str, blob: bytes, **extra) -> dict:
    return {"mediaType": media_type, "digest": sha256(blob), "size": len(blob), **extra}


def image(client: Client, repo: str, layers: int = 2, *, layer_type: str = OCI_LAYER_GZIP,
          annotations: dict | None = None, platform: str = "amd64") -> tuple[dict, list[bytes]]:  # fmt: skip
    """Push a config and random layers; return the (unpushed) manifest and the blobs."""
    config = json.dumps(
        {"architecture": platform, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    blobs = [config] + [os.urandom(256 + i) for i in range(layers)]
    for b in blobs:
        client.push_blob(repo, b)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config),
        "layers": [descriptor(layer_type, b) for b in blobs[1:]],
    }
    if annotations:
        manifest["annotations"] = annotations
    return manifest, blobs
