"""The OCI distribution-spec conformance workflows (pull, push, content discovery, content
management), ported from opencontainers/distribution-spec `conformance/` as pytest cases, run
against a real dockyard registry process: without auth, with htpasswd Basic auth and with
the Docker token flow.
"""

import json
import os

import pytest
from test_registry_support import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
    Client,
    RegistryProcess,
    bcrypt_line,
    descriptor,
    image,
    sha256,
    sha512,
)

REPO = "conformance/repo1"
REPO2 = "conformance/repo2"
ARTIFACT_TYPE = "application/vnd.example.config.v1+json"


@pytest.fixture(scope="module", params=["noauth", "htpasswd", "token"])
def client(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"reg-{request.param}")
    cfg: dict = {}
    user, password = "", ""
    if request.param != "noauth":
        user, password = "alice", "s3cret-pw"
        (base / "htpasswd").write_text(bcrypt_line(user, password))
        cfg["auth"] = {"htpasswd": str(base / "htpasswd")}
        if request.param == "token":
            cfg["auth"]["token"] = {"service": "conformance", "key": str(base / "key.pem")}
    server = RegistryProcess(base, cfg).start()
    c = Client(server.url, user, password)
    yield c
    c.close()
    assert server.stop() == 0


def _blob_ok(c: Client, repo: str, data: bytes, digest: str | None = None) -> None:
    digest = digest or sha256(data)
    h = c.head(f"/v2/{repo}/blobs/{digest}")
    assert h.status_code == 200
    assert int(h.headers["Content-Length"]) == len(data)
    assert h.headers["Docker-Content-Digest"] == digest
    g = c.get(f"/v2/{repo}/blobs/{digest}")
    assert g.status_code == 200 and g.content == data


def _delete_blob(c: Client, repo: str, digest: str) -> None:
    assert c.delete(f"/v2/{repo}/blobs/{digest}").status_code == 202
    assert c.head(f"/v2/{repo}/blobs/{digest}").status_code == 404


# -- ping and empty repository


def test_ping(client):
    r = client.get("/v2/")
    assert r.status_code == 200
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_empty_repository_tag_list_and_referrers(client):
    r = client.get("/v2/conformance/empty/tags/list")
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    r = client.get(f"/v2/conformance/empty/referrers/{sha256(os.urandom(8))}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OCI_INDEX
    assert r.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}


# -- blob pushes


def test_get_missing_blob(client):
    r = client.get(f"/v2/{REPO}/blobs/{sha256(os.urandom(16))}")
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_blob_post_only(client):
    data = os.urandom(512)
    r = client.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": sha256(data)}, content=data)
    assert r.status_code == 201
    assert r.headers["Docker-Content-Digest"] == sha256(data)
    assert client.get(r.headers["Location"]).content == data
    _blob_ok(client, REPO, data)
    _delete_blob(client, REPO, sha256(data))


def test_blob_post_put(client):
    data = os.urandom(512)
    r = client.post(f"/v2/{REPO}/blobs/uploads/")
    assert r.status_code == 202
    loc = r.headers["Location"]
    r = client.put(loc, params={"digest": sha256(data)}, content=data)
    assert r.status_code == 201, r.text
    _blob_ok(client, REPO, data)
    _delete_blob(client, REPO, sha256(data))


def _chunked(client, data: bytes, nchunks: int, put_last: bool) -> None:
    r = client.post(f"/v2/{REPO}/blobs/uploads/", headers={"Content-Length": "0"})
    assert r.status_code == 202
    loc = r.headers["Location"]
    size = len(data) // nchunks + 1
    for start in range(0, len(data), size):
        chunk = data[start : start + size]
        last = start + len(chunk) == len(data)
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(chunk) - 1}",
        }
        if last and put_last:
            r = client.put(loc, params={"digest": sha256(data)}, content=chunk, headers=headers)
            assert r.status_code == 201, r.text
            return
        r = client.patch(loc, content=chunk, headers=headers)
        assert r.status_code == 202, r.text
        assert r.headers["Range"] == f"0-{start + len(chunk) - 1}"
        loc = r.headers["Location"]
    r = client.put(loc, params={"digest": sha256(data)}, headers={"Content-Length": "0"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("nchunks,put_last", [(1, False), (3, False), (3, True)])
def test_blob_chunked(client, nchunks, put_last):
    data = os.urandom(3 * 1024 - 5)
    _chunked(client, data, nchunks, put_last)
    _blob_ok(client, REPO, data)
    _delete_blob(client, REPO, sha256(data))


@pytest.mark.parametrize("put_last", [False, True])
def test_blob_chunked_out_of_order(client, put_last):
    data = os.urandom(3 * 1024 - 5)
    size = len(data) // 3 + 1
    r = client.post(f"/v2/{REPO}/blobs/uploads/")
    loc = r.headers["Location"]
    r = client.patch(loc, content=data[:size], headers={"Content-Range": f"0-{size - 1}"})
    assert r.status_code == 202
    # Skip the second chunk: the registry refuses and says where the upload stands.
    bad_start = 2 * size
    method = client.put if put_last else client.patch
    kw = {"params": {"digest": sha256(data)}} if put_last else {}
    r = method(
        loc,
        content=data[bad_start:],
        headers={"Content-Range": f"{bad_start}-{len(data) - 1}"},
        **kw,
    )
    assert r.status_code == 416
    assert r.headers["Range"] == f"0-{size - 1}"
    r = client.get(loc)
    assert r.status_code == 204
    assert r.headers["Range"] == f"0-{size - 1}"
    r = client.patch(
        loc, content=data[size:bad_start], headers={"Content-Range": f"{size}-{bad_start - 1}"}
    )
    assert r.status_code == 202
    r = client.put(
        r.headers["Location"],
        params={"digest": sha256(data)},
        content=data[bad_start:],
        headers={"Content-Range": f"{bad_start}-{len(data) - 1}"},
    )
    assert r.status_code == 201, r.text
    _blob_ok(client, REPO, data)


def test_blob_stream(client):
    data = os.urandom(300_000)
    r = client.post(f"/v2/{REPO}/blobs/uploads/")
    loc = r.headers["Location"]

    def body():
        for i in range(0, len(data), 7000):
            yield data[i : i + 7000]

    r = client.http.patch(loc, content=body(), headers=_auth(client, loc))
    assert r.status_code == 202, r.text
    assert r.headers["Range"] == f"0-{len(data) - 1}"
    r = client.put(r.headers["Location"], params={"digest": sha256(data)})
    assert r.status_code == 201
    _blob_ok(client, REPO, data)


def _auth(client: Client, url: str) -> dict:
    a = client._auth_for(url)
    return {"Authorization": a} if a else {}


def test_blob_mount_from_other_repository(client):
    data = os.urandom(512)
    client.push_blob(REPO2, data)
    auth = client.auth_header(f"repository:{REPO}:pull,push", f"repository:{REPO2}:pull")
    r = client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": sha256(data), "from": REPO2},
                    headers=auth)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/v2/{REPO}/blobs/{sha256(data)}"
    _blob_ok(client, REPO, data)
    _delete_blob(client, REPO, sha256(data))
    _blob_ok(client, REPO2, data)  # the source repository keeps it


def test_blob_mount_anonymous(client):
    data = os.urandom(512)
    client.push_blob(REPO2, data)
    auth = client.auth_header(f"repository:{REPO}:pull,push", f"repository:{REPO2}:pull")
    r = client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": sha256(data)}, headers=auth)
    assert r.status_code == 201
    _blob_ok(client, REPO, data)


def test_blob_mount_missing_falls_back_to_upload(client):
    data = os.urandom(512)
    r = client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": sha256(data), "from": REPO2})
    assert r.status_code == 202
    r = client.put(r.headers["Location"], params={"digest": sha256(data)}, content=data)
    assert r.status_code == 201
    _blob_ok(client, REPO, data)
    assert client.head(f"/v2/{REPO2}/blobs/{sha256(data)}").status_code == 404


def test_blob_post_cancel(client):
    r = client.post(f"/v2/{REPO}/blobs/uploads/")
    loc = r.headers["Location"]
    client.patch(loc, content=b"partial")
    assert client.delete(loc).status_code == 204
    r = client.get(loc)
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


RANGES = [
    ("bytes=500-1499", 206, (500, 1500), "bytes 500-1499/2048"),
    ("bytes=500-", 206, (500, 2048), "bytes 500-2047/2048"),
    ("bytes=-500", 206, (1548, 2048), "bytes 1548-2047/2048"),
    ("bytes=2000-5000", 206, (2000, 2048), "bytes 2000-2047/2048"),
    ("bytes=500-0", 416, None, None),
    ("bytes=5000-10000", 416, None, None),
]


def test_blob_range_requests(client):
    data = os.urandom(2048)
    digest = client.push_blob(REPO, data)
    for header, status, span, content_range in RANGES:
        r = client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Range": header})
        assert r.status_code == status, header
        if span:
            assert r.content == data[span[0] : span[1]]
            assert r.headers["Content-Length"] == str(span[1] - span[0])
            assert r.headers["Content-Range"] == content_range


def test_whole_blob_and_conditional_get(client):
    """A blob of several 1 MiB pieces comes whole with its headers; the validators it carries
    work on a later conditional request (answered 304), as do HEAD's."""
    data = os.urandom((3 << 20) + 12345)
    digest = client.push_blob(REPO, data)
    r = client.get(f"/v2/{REPO}/blobs/{digest}")
    assert r.status_code == 200 and r.content == data
    assert r.headers["Content-Length"] == str(len(data))
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Accept-Ranges"] == "bytes"
    head = client.head(f"/v2/{REPO}/blobs/{digest}")
    assert head.headers["ETag"] == r.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(data))
    again = client.get(f"/v2/{REPO}/blobs/{digest}", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    tail = client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Range": f"bytes={len(data) - 5}-"})
    assert tail.status_code == 206 and tail.content == data[-5:]


@pytest.mark.parametrize("data", [b"", b"{}"], ids=["empty", "emptyJSON"])
def test_well_known_blobs(client, data):
    client.push_blob(REPO, data)
    _blob_ok(client, REPO, data)
    _delete_blob(client, REPO, sha256(data))


@pytest.mark.parametrize("method", ["post only", "post+put", "chunked", "chunked put", "stream"])
def test_blob_bad_digest(client, method):
    good = os.urandom(3000)
    digest = sha256(good)
    bad = good + b"oh no"
    if method == "post only":
        r = client.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": digest}, content=bad)
    else:
        loc = client.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
        if method == "post+put":
            r = client.put(loc, params={"digest": digest}, content=bad)
        elif method == "chunked":
            loc = client.patch(loc, content=bad[:1000], headers={"Content-Range": "0-999"})
            loc = client.patch(loc.headers["Location"], content=bad[1000:],
                               headers={"Content-Range": f"1000-{len(bad) - 1}"})  # fmt: skip
            r = client.put(loc.headers["Location"], params={"digest": digest})
        elif method == "chunked put":
            loc = client.patch(loc, content=bad[:1000], headers={"Content-Range": "0-999"})
            r = client.put(loc.headers["Location"], params={"digest": digest},
                           content=bad[1000:], headers={"Content-Range": f"1000-{len(bad) - 1}"})  # fmt: skip
        else:
            loc = client.patch(loc, content=bad)
            r = client.put(loc.headers["Location"], params={"digest": digest})
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert client.head(f"/v2/{REPO}/blobs/{digest}").status_code == 404


def test_blob_sha512(client):
    data = os.urandom(1000)
    digest = sha512(data)
    loc = client.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
    r = client.put(loc, params={"digest": digest}, content=data)
    assert r.status_code == 201
    assert r.headers["Docker-Content-Digest"] == digest
    _blob_ok(client, REPO, data, digest)
    _delete_blob(client, REPO, digest)


# -- manifests: push, list, head, pull, delete for each kind of content


def _pull_ok(client, repo, ref, body: bytes, media_type: str) -> None:
    for method in (client.head, client.get):
        r = method(
            f"/v2/{repo}/manifests/{ref}", headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"}
        )
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == media_type
        assert r.headers["Docker-Content-Digest"] == sha256(body) or ref.startswith("sha512")
        assert r.headers["Content-Length"] == str(len(body))
        if method == client.get:
            assert r.content == body


def _push(client, repo, ref, doc, media_type) -> tuple[bytes, str]:
    body = json.dumps(doc).encode()
    r = client.put(
        f"/v2/{repo}/manifests/{ref}", content=body, headers={"Content-Type": media_type}
    )
    assert r.status_code == 201, r.text
    digest = sha256(body)
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Location"] == f"/v2/{repo}/manifests/{digest}"
    return body, digest


def _delete_manifest(client, repo, digest) -> None:
    assert client.delete(f"/v2/{repo}/manifests/{digest}").status_code == 202
    r = client.get(f"/v2/{repo}/manifests/{digest}")
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


@pytest.mark.parametrize(
    "layer_type", [OCI_LAYER_GZIP_ := "application/vnd.oci.image.layer.v1.tar+gzip", OCI_LAYER]
)
def test_image(client, layer_type):
    repo = "conformance/image"
    tag = "image-gz" if "gzip" in layer_type else "image-uncompressed"
    manifest, _ = image(client, repo, layer_type=layer_type)
    body, digest = _push(client, repo, tag, manifest, OCI_MANIFEST)
    assert tag in client.get(f"/v2/{repo}/tags/list").json()["tags"]
    _pull_ok(client, repo, tag, body, OCI_MANIFEST)
    _pull_ok(client, repo, digest, body, OCI_MANIFEST)
    _delete_manifest(client, repo, digest)
    assert client.get(f"/v2/{repo}/manifests/{tag}").status_code == 404


def test_large_manifest(client):
    repo = "conformance/large"
    annotations = {f"large-annotation-{i}": "A" * 10000 for i in range(390)}
    manifest, _ = image(client, repo, annotations=annotations)
    body, _digest = _push(client, repo, "large-manifest", manifest, OCI_MANIFEST)
    assert len(body) > 3_900_000
    _pull_ok(client, repo, "large-manifest", body, OCI_MANIFEST)


def _platform_manifest(client, repo, arch):
    manifest, _ = image(client, repo, platform=arch)
    body, digest = _push(
        client, repo, sha256(json.dumps(manifest).encode()), manifest, OCI_MANIFEST
    )
    return {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body),
            "platform": {"architecture": arch, "os": "linux"}}  # fmt: skip


def test_index_and_nested_index(client):
    repo = "conformance/index"
    children = [_platform_manifest(client, repo, a) for a in ("amd64", "arm64")]
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}
    body, digest = _push(client, repo, "index", index, OCI_INDEX)
    _pull_ok(client, repo, "index", body, OCI_INDEX)
    outer = {"schemaVersion": 2, "mediaType": OCI_INDEX,
             "manifests": [{"mediaType": OCI_INDEX, "digest": digest, "size": len(body)}]}  # fmt: skip
    obody, odigest = _push(client, repo, "nested", outer, OCI_INDEX)
    _pull_ok(client, repo, "nested", obody, OCI_INDEX)
    _delete_manifest(client, repo, odigest)
    _delete_manifest(client, repo, digest)


def test_empty_index(client):
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    body, _ = _push(client, "conformance/index", "empty-index", index, OCI_INDEX)
    _pull_ok(client, "conformance/index", "empty-index", body, OCI_INDEX)


def test_docker_schema2_manifest_and_list(client):
    repo = "conformance/docker"
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    layer = os.urandom(700)
    client.push_blob(repo, config)
    client.push_blob(repo, layer)
    m = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
         "config": descriptor(DOCKER_CONFIG, config), "layers": [descriptor(DOCKER_LAYER, layer)]}  # fmt: skip
    body, digest = _push(client, repo, "v1", m, DOCKER_MANIFEST)
    _pull_ok(client, repo, "v1", body, DOCKER_MANIFEST)
    lst = {"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": [
        {"mediaType": DOCKER_MANIFEST, "digest": digest, "size": len(body),
         "platform": {"architecture": "amd64", "os": "linux"}}]}  # fmt: skip
    lbody, _ = _push(client, repo, "list", lst, DOCKER_LIST)
    _pull_ok(client, repo, "list", lbody, DOCKER_LIST)


def _empty_config(client, repo) -> dict:
    client.push_blob(repo, b"{}")
    return {"mediaType": OCI_EMPTY, "digest": sha256(b"{}"), "size": 2}


def test_artifact_and_artifact_without_layers(client):
    repo = "conformance/artifact"
    cfg = _empty_config(client, repo)
    payload = os.urandom(100)
    client.push_blob(repo, payload)
    art = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
           "config": cfg, "layers": [descriptor(ARTIFACT_TYPE, payload)]}  # fmt: skip
    body, _ = _push(client, repo, "artifact", art, OCI_MANIFEST)
    _pull_ok(client, repo, "artifact", body, OCI_MANIFEST)
    bare = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
            "config": cfg, "layers": [cfg]}  # fmt: skip
    body, _ = _push(client, repo, "artifact-without-layers", bare, OCI_MANIFEST)
    _pull_ok(client, repo, "artifact-without-layers", body, OCI_MANIFEST)


def test_artifact_index(client):
    repo = "conformance/artifact"
    children = [_platform_manifest(client, repo, a) for a in ("amd64", "arm64")]
    idx = {"schemaVersion": 2, "mediaType": OCI_INDEX, "artifactType": ARTIFACT_TYPE,
           "manifests": children}  # fmt: skip
    body, _ = _push(client, repo, "artifact-index", idx, OCI_INDEX)
    _pull_ok(client, repo, "artifact-index", body, OCI_INDEX)


def _referrers(client, repo, subject, artifact_type=None):
    params = {"artifactType": artifact_type} if artifact_type else {}
    r = client.get(f"/v2/{repo}/referrers/{subject}", params=params)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OCI_INDEX
    doc = r.json()
    assert doc["schemaVersion"] == 2 and doc["mediaType"] == OCI_INDEX
    return r, doc["manifests"]


def test_artifacts_with_subject_and_referrers(client):
    repo = "conformance/subject"
    manifest, _ = image(client, repo)
    sbody, sdigest = _push(client, repo, "image", manifest, OCI_MANIFEST)
    subject = {"mediaType": OCI_MANIFEST, "digest": sdigest, "size": len(sbody)}
    cfg = _empty_config(client, repo)
    types = [ARTIFACT_TYPE, "application/vnd.example.sbom.v1", ARTIFACT_TYPE]
    pushed = []
    for i, at in enumerate(types):
        layer = os.urandom(64)
        client.push_blob(repo, layer)
        art = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": at, "config": cfg,
               "layers": [descriptor(at, layer)], "subject": subject,
               "annotations": {"org.example.n": str(i)}}  # fmt: skip
        body = json.dumps(art).encode()
        r = client.put(f"/v2/{repo}/manifests/{sha256(body)}", content=body,
                       headers={"Content-Type": OCI_MANIFEST})  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.headers["OCI-Subject"] == sdigest
        pushed.append((sha256(body), len(body), at, i))
    _, entries = _referrers(client, repo, sdigest)
    got = {(e["digest"], e["size"], e["artifactType"], e["annotations"]["org.example.n"])
           for e in entries}  # fmt: skip
    assert got == {(d, s, a, str(i)) for d, s, a, i in pushed}
    assert all(e["mediaType"] == OCI_MANIFEST for e in entries)
    r, entries = _referrers(client, repo, sdigest, ARTIFACT_TYPE)
    assert r.headers["OCI-Filters-Applied"] == "artifactType"
    assert sorted(e["digest"] for e in entries) == sorted(
        d for d, _, a, _ in pushed if a == ARTIFACT_TYPE
    )
    # Deleting a referrer removes it from the list.
    _delete_manifest(client, repo, pushed[0][0])
    _, entries = _referrers(client, repo, sdigest)
    assert pushed[0][0] not in {e["digest"] for e in entries} and len(entries) == 2


def test_referrer_artifact_type_defaults_to_config_media_type(client):
    repo = "conformance/subject"
    manifest, _ = image(client, repo)
    sbody, sdigest = _push(client, repo, "image2", manifest, OCI_MANIFEST)
    sig_cfg = b'{"sig": 1}'
    client.push_blob(repo, sig_cfg)
    ref = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
           "config": descriptor("application/vnd.example.sig.config", sig_cfg), "layers": [],
           "subject": {"mediaType": OCI_MANIFEST, "digest": sdigest, "size": len(sbody)}}  # fmt: skip
    _push(client, repo, "sig", ref, OCI_MANIFEST)
    _, entries = _referrers(client, repo, sdigest)
    assert [e["artifactType"] for e in entries] == ["application/vnd.example.sig.config"]


def test_index_with_subject(client):
    repo = "conformance/subject"
    children = [_platform_manifest(client, repo, "amd64")]
    idx = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}
    sbody, sdigest = _push(client, repo, "subject-index", idx, OCI_INDEX)
    ref = {"schemaVersion": 2, "mediaType": OCI_INDEX, "artifactType": ARTIFACT_TYPE,
           "manifests": children,
           "subject": {"mediaType": OCI_INDEX, "digest": sdigest, "size": len(sbody)}}  # fmt: skip
    _body, digest = _push(client, repo, "referring-index", ref, OCI_INDEX)
    _, entries = _referrers(client, repo, sdigest)
    assert [(e["digest"], e["mediaType"]) for e in entries] == [(digest, OCI_INDEX)]


def test_missing_subject_is_accepted(client):
    repo = "conformance/subject"
    cfg = _empty_config(client, repo)
    missing = sha256(os.urandom(32))
    art = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
           "config": cfg, "layers": [cfg],
           "subject": {"mediaType": OCI_MANIFEST, "digest": missing, "size": 1234}}  # fmt: skip
    body = json.dumps(art).encode()
    r = client.put(f"/v2/{repo}/manifests/{sha256(body)}", content=body,
                   headers={"Content-Type": OCI_MANIFEST})  # fmt: skip
    assert r.status_code == 201
    assert r.headers["OCI-Subject"] == missing
    _, entries = _referrers(client, repo, missing)
    assert [e["digest"] for e in entries] == [sha256(body)]


def test_data_field_custom_fields_and_no_layers(client):
    repo = "conformance/fields"
    config = b'{"architecture":"amd64","os":"linux"}'
    client.push_blob(repo, config)
    import base64

    with_data = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                 "config": descriptor(OCI_CONFIG, config, data=base64.b64encode(config).decode()),
                 "layers": [], "org.example.custom": {"x": [1, 2]}}  # fmt: skip
    # Whitespace and unknown fields survive byte for byte.
    body = json.dumps(with_data, indent=3).encode()
    r = client.put(
        f"/v2/{repo}/manifests/custom", content=body, headers={"Content-Type": OCI_MANIFEST}
    )
    assert r.status_code == 201
    _pull_ok(client, repo, "custom", body, OCI_MANIFEST)


def test_non_distributable_layers_need_not_be_pushed(client):
    repo = "conformance/nondist"
    config = b'{"architecture":"amd64","os":"linux"}'
    client.push_blob(repo, config)
    foreign = {"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
               "digest": sha256(b"elsewhere"), "size": 9,
               "urls": ["https://example.com/layer.tar.gz"]}  # fmt: skip
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
         "config": descriptor(OCI_CONFIG, config), "layers": [foreign]}  # fmt: skip
    body, _ = _push(client, repo, "nondist", m, OCI_MANIFEST)
    _pull_ok(client, repo, "nondist", body, OCI_MANIFEST)


def test_sha512_index_by_digest(client):
    repo = "conformance/sha512"
    children = [_platform_manifest(client, repo, "amd64")]
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}).encode()
    r = client.put(
        f"/v2/{repo}/manifests/{sha512(body)}", content=body, headers={"Content-Type": OCI_INDEX}
    )
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == sha512(body)
    r = client.get(f"/v2/{repo}/manifests/{sha512(body)}")
    assert r.status_code == 200 and r.content == body


def test_tag_parameters_on_push_by_digest(client):
    repo = "conformance/tagparam"
    manifest, _ = image(client, repo)
    body = json.dumps(manifest).encode()
    r = client.put(f"/v2/{repo}/manifests/{sha256(body)}", content=body,
                   params=[("tag", "tp-0"), ("tag", "tp-1")], headers={"Content-Type": OCI_MANIFEST})  # fmt: skip
    assert r.status_code == 201
    assert {t.strip() for t in r.headers["OCI-Tag"].split(",")} == {"tp-0", "tp-1"}
    assert client.get(f"/v2/{repo}/tags/list").json()["tags"] == ["tp-0", "tp-1"]
    _pull_ok(client, repo, "tp-1", body, OCI_MANIFEST)


def test_bad_digest_manifest(client):
    repo = "conformance/baddigest"
    manifest, _ = image(client, repo)
    body = json.dumps(manifest).encode()
    r = client.put(f"/v2/{repo}/manifests/{sha256(body)}", content=body + b"  ",
                   headers={"Content-Type": OCI_MANIFEST})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert client.get(f"/v2/{repo}/manifests/{sha256(body + b'  ')}").status_code == 404


# -- manifest error conditions


def test_missing_manifest_by_digest_and_tag(client):
    for ref in (sha256(os.urandom(1024)), "missing-abcdef"):
        r = client.get(f"/v2/{REPO}/manifests/{ref}")
        assert r.status_code == 404
        assert r.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_invalid_digest_format(client):
    repo = "conformance/invalid"
    manifest, _ = image(client, repo, layers=1)
    body = json.dumps(manifest).encode()
    r = client.put(f"/v2/{repo}/manifests/sha256:baddigeststring", content=body,
                   headers={"Content-Type": OCI_MANIFEST})  # fmt: skip
    assert r.status_code == 400
    assert client.get(f"/v2/{repo}/manifests/sha256:baddigeststring").status_code in (400, 404)


def test_manifest_blob_unknown(client):
    repo = "conformance/unknown-blob"
    manifest, _blobs = image(client, repo, layers=1)
    manifest["layers"].append(descriptor(OCI_LAYER, os.urandom(10)))
    r = client.put(f"/v2/{repo}/manifests/x", content=json.dumps(manifest).encode(),
                   headers={"Content-Type": OCI_MANIFEST})  # fmt: skip
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert err["code"] == "MANIFEST_BLOB_UNKNOWN"
    assert err["detail"]["digest"] == manifest["layers"][-1]["digest"]


def test_index_with_unknown_child_is_refused(client):
    idx = {"schemaVersion": 2, "mediaType": OCI_INDEX,
           "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha256(b"nope"), "size": 4}]}  # fmt: skip
    r = client.put("/v2/conformance/index/manifests/bad", content=json.dumps(idx).encode(),
                   headers={"Content-Type": OCI_INDEX})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


@pytest.mark.parametrize("content_type", ["", OCI_MANIFEST, OCI_INDEX])
def test_ambiguous_manifest_or_index_is_refused(client, content_type):
    repo = "conformance/ambiguous"
    manifest, _ = image(client, repo, layers=1)
    doc = dict(manifest)
    doc.pop("mediaType")
    doc["manifests"] = []
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.put(f"/v2/{repo}/manifests/amb", content=json.dumps(doc).encode(), headers=headers)
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "MANIFEST_INVALID"
    assert client.get(f"/v2/{repo}/manifests/amb").status_code == 404


def test_media_type_mismatch_is_refused(client):
    repo = "conformance/ambiguous"
    manifest, _ = image(client, repo, layers=1)
    r = client.put(f"/v2/{repo}/manifests/mm", content=json.dumps(manifest).encode(),
                   headers={"Content-Type": DOCKER_MANIFEST})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "MANIFEST_INVALID"


# -- content discovery


def test_tag_list_pagination(client):
    repo = "conformance/tags"
    manifest, _ = image(client, repo, layers=1)
    tags = [f"t{i:02d}" for i in range(7)]
    for t in tags:
        _push(client, repo, t, manifest, OCI_MANIFEST)
    assert client.get(f"/v2/{repo}/tags/list").json() == {"name": repo, "tags": tags}
    seen, url, params = [], f"/v2/{repo}/tags/list", {"n": 3}
    while True:
        r = client.get(url, params=params)
        assert r.status_code == 200
        page = r.json()["tags"]
        assert len(page) <= 3
        seen += page
        link = r.headers.get("Link")
        if not link:
            break
        assert link.endswith('>; rel="next"')
        url, params = link[1 : link.index(">")], None
    assert seen == tags
    r = client.get(f"/v2/{repo}/tags/list", params={"last": "t03"})
    assert r.json()["tags"] == tags[4:]
    r = client.get(f"/v2/{repo}/tags/list", params={"n": 2, "last": "t01"})
    assert r.json()["tags"] == ["t02", "t03"]
    assert client.get(f"/v2/{repo}/tags/list", params={"n": 0}).json()["tags"] == []


def test_catalog_pagination(client):
    names = [f"catalog/r{i}" for i in range(5)]
    for n in names:
        client.push_blob(n, b"catalog")
    r = client.get("/v2/_catalog")
    assert r.status_code == 200
    everything = r.json()["repositories"]
    assert set(names) <= set(everything) and everything == sorted(everything)
    seen, url, params = [], "/v2/_catalog", {"n": 2}
    while True:
        r = client.get(url, params=params)
        seen += r.json()["repositories"]
        link = r.headers.get("Link")
        if not link:
            break
        url, params = link[1 : link.index(">")], None
    assert seen == everything


# -- content management


def test_delete_tag_keeps_manifest(client):
    repo = "conformance/delete"
    manifest, _ = image(client, repo, layers=1)
    body, digest = _push(client, repo, "keep", manifest, OCI_MANIFEST)
    _push(client, repo, "drop", manifest, OCI_MANIFEST)
    assert client.delete(f"/v2/{repo}/manifests/drop").status_code == 202
    assert client.get(f"/v2/{repo}/manifests/drop").status_code == 404
    _pull_ok(client, repo, digest, body, OCI_MANIFEST)
    assert client.get(f"/v2/{repo}/tags/list").json()["tags"] == ["keep"]
    _delete_manifest(client, repo, digest)
    assert client.get(f"/v2/{repo}/tags/list").json()["tags"] == []
    assert client.delete(f"/v2/{repo}/manifests/{digest}").status_code == 404


def test_delete_blob_then_missing(client):
    digest = client.push_blob(REPO, os.urandom(99))
    _delete_blob(client, REPO, digest)
    r = client.delete(f"/v2/{REPO}/blobs/{digest}")
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
