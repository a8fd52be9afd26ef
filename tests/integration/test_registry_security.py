"""Hostile input and faults against a real registry process: digest mismatches, path
traversal, oversized manifests, absurd pagination, unauthenticated writes, forged tokens,
and a server killed in the middle of an upload.
"""

import base64
import http.client
import json
import os
import threading
import time

import httpx
import pytest
from test_registry_support import (
    OCI_MANIFEST,
    Client,
    RegistryProcess,
    bcrypt_line,
    image,
    sha256,
)


@pytest.fixture
def server(tmp_path):
    s = RegistryProcess(tmp_path / "reg", {"max_page_entries": 3}).start()
    yield s
    s.kill()


def _files(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def raw(server, method: str, path: str, body: bytes = b"", headers=None):
    """A request whose path is sent exactly as written (no client-side normalization)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_digest_mismatch_leaves_nothing_behind(server):
    c = Client(server.url)
    data = os.urandom(5000)
    claimed = sha256(b"something else")
    r = c.post("/v2/sec/blobs/uploads/", params={"digest": claimed}, content=data)
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "DIGEST_INVALID"
    blobs = server.root / "content" / "blobs"
    assert not blobs.exists() or not any(blobs.rglob("*" + sha256(data)[7:]))
    assert not any((server.root / "uploads").iterdir())
    assert c.head(f"/v2/sec/blobs/{claimed}").status_code == 404
    assert c.head(f"/v2/sec/blobs/{sha256(data)}").status_code == 404


TRAVERSALS = [
    ("GET", "/v2/..%2F..%2Fetc/tags/list"),
    ("GET", "/v2/foo/..%2F..%2F..%2Fetc/manifests/latest"),
    ("POST", "/v2/%2e%2e/blobs/uploads/"),
    ("POST", "/v2/a/%2e%2e/%2e%2e/x/blobs/uploads/"),
    ("GET", "/v2/Upper/tags/list"),
    ("GET", "/v2/a//b/tags/list"),
    ("GET", "/v2/a%00b/tags/list"),
    ("GET", "/v2/" + "a" * 256 + "/tags/list"),
    ("PUT", "/v2/ok/manifests/..%2F..%2F..%2Fevil"),
    ("GET", "/v2/ok/blobs/sha256:..%2F..%2F..%2Fetc%2Fpasswd"),
    ("GET", "/v2/ok/blobs/uploads/..%2F..%2F..%2Fetc"),
    ("GET", "/v2/ok/referrers/sha256:..%2Fx"),
]


@pytest.mark.parametrize("method,path", TRAVERSALS)
def test_path_traversal_is_impossible(server, tmp_path, method, path):
    before = _files(tmp_path)
    status, body = raw(server, method, path, b"{}" if method == "PUT" else b"")
    assert status in (400, 404), body
    if body:
        code = json.loads(body)["errors"][0]["code"]
        assert code in ("NAME_INVALID", "DIGEST_INVALID", "MANIFEST_INVALID",
                        "BLOB_UPLOAD_UNKNOWN", "NOT_FOUND")  # fmt: skip
    created = _files(tmp_path) - before
    assert not any("etc" in p or "evil" in p for p in created), created
    assert not (tmp_path.parent / "etc").exists()


def test_dot_segments_never_leave_the_api(server):
    # "/v2/x/../../etc/..." is either an invalid name or nothing at all, never a path out.
    for path in ("/v2/x/../../etc/tags/list", "/v2/x/./y/tags/list"):
        status, body = raw(server, "GET", path)
        assert status in (400, 404)
        if status == 400:
            assert json.loads(body)["errors"][0]["code"] == "NAME_INVALID"


def test_manifest_over_the_limit_is_refused(server):
    c = Client(server.url)
    manifest, _ = image(c, "big", layers=1)
    limit = 4 << 20
    base = json.dumps(manifest).encode()
    # Pad with an annotation so that the document is exactly at, then one byte over, the limit.
    manifest["annotations"] = {"pad": ""}
    pad = limit - len(json.dumps(manifest).encode())
    manifest["annotations"]["pad"] = "x" * pad
    at_limit = json.dumps(manifest).encode()
    assert len(at_limit) == limit and len(base) < limit
    r = c.put("/v2/big/manifests/at", content=at_limit, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 201
    over = at_limit[:-1] + b" }"
    r = c.put("/v2/big/manifests/over", content=over, headers={"Content-Type": OCI_MANIFEST})
    assert r.status_code == 413
    assert r.json()["errors"][0]["code"] == "SIZE_INVALID"

    def chunks():  # no Content-Length: the limit holds for streamed bodies too
        for i in range(0, len(over), 65536):
            yield over[i : i + 65536]

    r = c.http.put(
        "/v2/big/manifests/over", content=chunks(), headers={"Content-Type": OCI_MANIFEST}
    )
    assert r.status_code == 413
    assert c.get("/v2/big/manifests/over").status_code == 404


def test_deeply_nested_json_is_invalid_not_a_crash(server):
    c = Client(server.url)
    r = c.put("/v2/x/manifests/deep", content=b"[" * 200000 + b"]" * 200000,
              headers={"Content-Type": OCI_MANIFEST})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "MANIFEST_INVALID"


def test_huge_n_is_clamped_and_bad_n_refused(server):
    c = Client(server.url)
    for i in range(5):
        c.push_blob(f"page/r{i}", b"x")
    r = c.get("/v2/_catalog", params={"n": "9" * 40})
    assert r.status_code == 200
    assert r.json()["repositories"] == ["page/r0", "page/r1", "page/r2"]
    assert "last=page%2Fr2" in r.headers["Link"] and "n=3" in r.headers["Link"]
    r = c.get("/v2/_catalog")  # no n: still at most the clamp
    assert len(r.json()["repositories"]) == 3
    for bad in ("-1", "abc", "1e9", "²"):
        r = c.get("/v2/_catalog", params={"n": bad})
        assert r.status_code == 400, bad
        assert r.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"


def test_huge_n_on_tag_lists_is_clamped(server):
    c = Client(server.url)
    manifest, _ = image(c, "page/tags", layers=1)
    for t in ("a", "b", "c", "d"):
        c.push_manifest("page/tags", t, manifest, OCI_MANIFEST)
    r = c.get("/v2/page/tags/tags/list", params={"n": str(10**40)})
    assert r.status_code == 200
    assert r.json()["tags"] == ["a", "b", "c"]
    assert r.headers["Link"] == '</v2/page/tags/tags/list?last=c&n=3>; rel="next"'
    r = c.get("/v2/page/tags/tags/list", params={"n": "-5"})
    assert r.status_code == 400


def test_upload_belongs_to_its_repository(server):
    c = Client(server.url)
    loc = c.post("/v2/one/blobs/uploads/").headers["Location"]
    uid = loc.rsplit("/", 1)[1]
    r = c.patch(f"/v2/two/blobs/uploads/{uid}", content=b"data")
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
    assert c.get(loc).headers["Range"] == "0-0"


def test_blob_is_visible_only_in_repositories_that_have_it(server):
    c = Client(server.url)
    digest = c.push_blob("owner", b"private bytes")
    assert c.get(f"/v2/owner/blobs/{digest}").status_code == 200
    assert c.get(f"/v2/other/blobs/{digest}").status_code == 404
    # ... nor can another repository's manifest reference it without mounting it.
    cfg = b"{}"
    c.push_blob("other", cfg)
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
         "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(cfg), "size": 2},
         "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": 13}]}  # fmt: skip
    r = c.put("/v2/other/manifests/steal", content=json.dumps(m).encode(),
              headers={"Content-Type": OCI_MANIFEST})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_server_killed_mid_upload_then_resumed(tmp_path):
    server = RegistryProcess(tmp_path / "reg").start()
    data = os.urandom(6 << 20)
    half = 2 << 20
    try:
        c = Client(server.url)
        loc = c.post("/v2/crash/blobs/uploads/").headers["Location"]
        r = c.patch(loc, content=data[:half], headers={"Content-Range": f"0-{half - 1}"})
        assert r.status_code == 202
        # Killed while the next chunk is streaming in.
        sent = []

        def body():
            for i in range(half, len(data), 256 << 10):
                sent.append(i)
                if len(sent) == 5:
                    time.sleep(0.3)
                    threading.Thread(target=server.kill).start()
                    time.sleep(0.5)
                yield data[i : i + (256 << 10)]

        with pytest.raises(httpx.TransportError):
            c.http.patch(loc, content=body())
        server.start()
        c = Client(server.url)
        assert c.head(f"/v2/crash/blobs/{sha256(data)}").status_code == 404
        r = c.get(loc)
        assert r.status_code == 204
        offset = int(r.headers["Range"].split("-")[1]) + 1
        assert half <= offset < len(data)
        r = c.patch(
            loc, content=data[offset:], headers={"Content-Range": f"{offset}-{len(data) - 1}"}
        )
        assert r.status_code == 202, r.text
        r = c.put(r.headers["Location"], params={"digest": sha256(data)})
        assert r.status_code == 201, r.text
        assert c.get(f"/v2/crash/blobs/{sha256(data)}").content == data
        assert not any((server.root / "uploads").iterdir())
    finally:
        assert server.stop() == 0


def test_restarted_upload_can_be_cancelled_and_restarted(tmp_path):
    server = RegistryProcess(tmp_path / "reg").start()
    try:
        c = Client(server.url)
        loc = c.post("/v2/crash/blobs/uploads/").headers["Location"]
        c.patch(loc, content=b"a" * 1000)
        server.kill()
        server.start()
        assert c.get(loc).headers["Range"] == "0-999"
        assert c.delete(loc).status_code == 204
        data = os.urandom(3000)
        assert c.push_blob("crash", data) == sha256(data)
    finally:
        assert server.stop() == 0


@pytest.fixture
def secured(tmp_path):
    (tmp_path / "htpasswd").write_text(
        bcrypt_line("admin", "adminpw") + bcrypt_line("reader", "readerpw")
    )
    auth = {
        "htpasswd": str(tmp_path / "htpasswd"),
        "anonymous_pull": True,
        "access": [
            {"repository": "*", "users": ["admin"], "actions": ["pull", "push", "delete"]},
            {"repository": "*", "users": ["reader"], "actions": ["pull"]},
        ],
    }
    s = RegistryProcess(tmp_path / "reg", {"auth": auth}).start()
    yield s
    assert s.stop() == 0


def _basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def test_unauthenticated_writes_are_refused(secured):
    c = httpx.Client(base_url=secured.url, verify=False)
    for method, path in [("POST", "/v2/app/blobs/uploads/"), ("PUT", "/v2/app/manifests/v1"),
                         ("DELETE", "/v2/app/manifests/v1"), ("DELETE", f"/v2/app/blobs/{sha256(b'x')}")]:  # fmt: skip
        r = c.request(method, path, content=b"{}")
        assert r.status_code == 401, (method, path)
        assert r.headers["WWW-Authenticate"] == 'Basic realm="dockyard"'
        assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"
        r = c.request(method, path, content=b"{}", headers=_basic("admin", "wrong"))
        assert r.status_code == 401
    assert not (secured.root / "uploads").exists() or not any((secured.root / "uploads").iterdir())
    # A user with pull only is denied (403), not asked to log in again.
    r = c.post("/v2/app/blobs/uploads/", headers=_basic("reader", "readerpw"))
    assert r.status_code == 403
    assert r.json()["errors"][0]["code"] == "DENIED"
    # The admin may push; anonymous pull then works, anonymous push still does not.
    r = c.post("/v2/app/blobs/uploads/", params={"digest": sha256(b"x")}, content=b"x",
               headers=_basic("admin", "adminpw"))  # fmt: skip
    assert r.status_code == 201
    assert c.get(f"/v2/app/blobs/{sha256(b'x')}").content == b"x"
    assert c.post("/v2/app/blobs/uploads/").status_code == 401


def test_read_only_mode_refuses_writes(tmp_path):
    s = RegistryProcess(tmp_path / "rw").start()
    c = Client(s.url)
    digest = c.push_blob("ro", b"kept")
    assert s.stop() == 0
    s.config["read_only"] = True
    s.config_path.write_text(json.dumps(s.config))
    s.start()
    try:
        r = c.post("/v2/ro/blobs/uploads/")
        assert r.status_code == 405
        assert r.json()["errors"][0]["code"] == "UNSUPPORTED"
        assert c.delete(f"/v2/ro/blobs/{digest}").status_code == 405
        assert c.get(f"/v2/ro/blobs/{digest}").content == b"kept"
    finally:
        assert s.stop() == 0


def test_clients_that_hang_up_mid_blob_leak_nothing(server):
    """Downloads cut off after a few bytes (or never read) release their file and socket;
    the server keeps serving the whole blob to the next client."""
    import socket

    c = Client(server.url)
    data = os.urandom(8 << 20)
    digest = c.push_blob("cut/off", data)
    fds = f"/proc/{server.proc.pid}/fd"
    request = (f"GET /v2/cut/off/blobs/{digest} HTTP/1.1\r\nHost: x\r\n\r\n").encode()
    c.get(f"/v2/cut/off/blobs/{digest}")  # warm: the server's lazy imports and threads
    before = len(os.listdir(fds))
    for i in range(20):
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(request)
            if i % 2:
                s.recv(1000)  # read a little, then hang up; else hang up without reading
    deadline = time.monotonic() + 10
    while len(os.listdir(fds)) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(os.listdir(fds)) <= before
    r = c.get(f"/v2/cut/off/blobs/{digest}")
    assert r.status_code == 200 and r.content == data
