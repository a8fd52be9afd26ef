"""Shared helpers for the registry-client tests: images made in Python, dockyard's registry
in-process (with a request log), and a hostile registry that lies in controlled ways.

(No tests here; the name only makes it importable next to the test modules.)
"""

import asyncio
import gzip
import hashlib
import io
import json
import tarfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class Image:
    config: bytes
    manifest: bytes
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256(self.manifest)

    @property
    def config_digest(self) -> str:
        return sha256(self.config)

    @property
    def layer_digests(self) -> list[str]:
        return [d["digest"] for d in json.loads(self.manifest)["layers"]]


def make_image(
    layers: list[dict[str, bytes]], arch: str = "amd64", label: str = "", docker: bool = False
) -> Image:
    """An image with one gzip layer per dict of files (OCI media types, or Docker's)."""
    layer_type = DOCKER_LAYER if docker else OCI_LAYER_GZIP
    blobs: dict[str, bytes] = {}
    descs, diff_ids = [], []
    for files in layers:
        raw = layer_tar(files)
        gz = gzip.compress(raw, mtime=0)
        blobs[sha256(gz)] = gz
        diff_ids.append(sha256(raw))
        descs.append({"mediaType": layer_type, "digest": sha256(gz), "size": len(gz)})
    config = json.dumps({
        "architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/sh"], "Labels": {"test": label} if label else None},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()  # fmt: skip
    blobs[sha256(config)] = config
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                   "digest": sha256(config), "size": len(config)},
        "layers": descs,
    }).encode()  # fmt: skip
    return Image(config, manifest, blobs)


def make_index(images: dict[str, Image], docker: bool = False) -> bytes:
    """An OCI index (or Docker manifest list) over images keyed by "os/arch[/variant]"."""
    entries = []
    for plat, img in images.items():
        parts = plat.split("/")
        p = {"os": parts[0], "architecture": parts[1]}
        if len(parts) > 2:
            p["variant"] = parts[2]
        entries.append({"mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
                        "digest": img.digest,
                        "size": len(img.manifest), "platform": p})  # fmt: skip
    media_type = DOCKER_LIST if docker else OCI_INDEX
    return json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries}).encode()


def manifest_type(data: bytes) -> str:
    return json.loads(data)["mediaType"]


def upload(url: str, repo: str, image: Image, tag: str = "", headers=None) -> None:
    """Put an image into a registry with plain HTTP calls (monolithic uploads)."""
    with httpx.Client(base_url=url, timeout=60, headers=headers or {}) as c:
        for digest, data in image.blobs.items():
            r = c.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data)
            if r.status_code == 202:
                loc = r.headers["location"]
                r = c.put(loc, params={"digest": digest}, content=data)
            assert r.status_code == 201, r.text
        put_manifest(c, repo, tag or image.digest, image.manifest, manifest_type(image.manifest))


def put_manifest(c: httpx.Client, repo: str, ref: str, data: bytes, media_type: str) -> None:
    r = c.put(f"/v2/{repo}/manifests/{ref}", content=data, headers={"Content-Type": media_type})
    assert r.status_code == 201, r.text


# -- dockyard's registry in this process, logging every request ----------------------------


class InProcessRegistry:
    def __init__(self, base: Path, config: dict | None = None):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = base
        self.config = {"root": str(base / "data"), "addr": f"127.0.0.1:{self.port}"}
        self.config.update(config or {})
        self.log: list[tuple[str, str, str, int]] = []  # method, path, query, status
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "InProcessRegistry":
        from aiohttp import web

        from dockyard.registry.config import config_from_dict
        from dockyard.registry.server import make_app

        app = make_app(config_from_dict(self.config))
        log = self.log

        @web.middleware
        async def record(request, handler):
            try:
                resp = await handler(request)
            except web.HTTPException as e:
                log.append((request.method, request.path, request.query_string, e.status))
                raise
            log.append((request.method, request.path, request.query_string, resp.status))
            return resp

        app.middlewares.append(record)
        self._thread.start()

        async def up():
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        asyncio.run_coroutine_threadsafe(up(), self._loop).result(30)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def writes(self) -> list[tuple[str, str, str, int]]:
        """Requests that upload or mount blobs."""
        return [e for e in self.log if "/blobs/uploads" in e[1]]


# -- a registry that misbehaves on purpose ------------------------------------------------


class HostileRegistry:
    """Serves manifests and blobs from dicts; each fault is switched on by a test.

    - `corrupt[digest] = bytes`: serve these bytes for the blob instead
    - `truncate[digest] = n`: the next n GETs of the blob send half of what was asked, then hang up
    - `content_digest`: a Docker-Content-Digest header to send with every manifest
    - `fail_5xx[path] = n`: answer the next n requests for that path with 503
    - `basic = "user:password"`: demand these Basic credentials (401 otherwise)
    - `redirect[digest] = base URL`: send blob GETs there with a 307
    """

    def __init__(self):
        self.manifests: dict[str, tuple[str, bytes]] = {}  # "repo:ref" -> (media type, data)
        self.blobs: dict[str, bytes] = {}
        self.corrupt: dict[str, bytes] = {}
        self.truncate: dict[str, int] = {}
        self.fail_5xx: dict[str, int] = {}
        self.content_digest = ""
        self.basic = ""
        self.redirect: dict[str, str] = {}
        self.auth_seen: list[tuple[str, str]] = []  # path, Authorization header
        self.requests: list[tuple[str, str, str]] = []  # method, path, Range header
        self.served: dict[str, int] = {}  # blob digest -> body bytes sent
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def add(self, repo: str, tag: str, image: Image) -> None:
        self.blobs.update(image.blobs)
        mt = manifest_type(image.manifest)
        self.manifests[f"{repo}:{tag}"] = (mt, image.manifest)
        self.manifests[f"{repo}:{image.digest}"] = (mt, image.manifest)

    def start(self) -> "HostileRegistry":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def _handler(self):
        reg = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                reg.requests.append((self.command, self.path, self.headers.get("Range", "")))
                reg.auth_seen.append((self.path, self.headers.get("Authorization", "")))
                if reg.basic:
                    import base64

                    want = "Basic " + base64.b64encode(reg.basic.encode()).decode()
                    if self.headers.get("Authorization", "") != want:
                        return self._send(401, b"", {"WWW-Authenticate": 'Basic realm="hostile"'})
                if reg.fail_5xx.get(self.path, 0) > 0:
                    reg.fail_5xx[self.path] -= 1
                    return self._send(503, b"busy")
                if self.path == "/v2/":
                    return self._send(200, b"{}")
                parts = self.path[len("/v2/") :].rsplit("/", 2)
                if len(parts) != 3:
                    return self._send(404)
                repo, kind, ref = parts
                if kind == "manifests" and f"{repo}:{ref}" in reg.manifests:
                    mt, data = reg.manifests[f"{repo}:{ref}"]
                    h = {"Content-Type": mt}
                    if reg.content_digest:
                        h["Docker-Content-Digest"] = reg.content_digest
                    return self._send(200, data, h)
                if kind == "blobs" and ref in reg.redirect:
                    return self._send(307, b"", {"Location": reg.redirect[ref] + self.path})
                if kind == "blobs" and ref in reg.blobs:
                    return self._blob(ref)
                return self._send(404, b'{"errors":[{"code":"NOT_FOUND","message":"unknown"}]}')

            def _blob(self, digest):
                data = reg.corrupt.get(digest, reg.blobs[digest])
                start = 0
                rng = self.headers.get("Range", "")
                if rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                body = data[start:]
                status = 206 if start else 200
                headers = {"Content-Type": "application/octet-stream"}
                if start:
                    headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                if reg.truncate.get(digest, 0) > 0 and self.command == "GET":
                    reg.truncate[digest] -= 1
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    half = body[: max(1, len(body) // 2)]
                    self.wfile.write(half)
                    self.wfile.flush()
                    reg.served[digest] = reg.served.get(digest, 0) + len(half)
                    self.close_connection = True
                    return
                if self.command == "GET":
                    reg.served[digest] = reg.served.get(digest, 0) + len(body)
                self._send(status, body, headers)

        return Handler
