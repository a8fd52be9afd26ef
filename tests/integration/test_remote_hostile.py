"""The client against a registry that lies or fails: corrupt blobs and manifests, a wrong
Docker-Content-Digest, bodies cut short (resumed with Range), and 503s (retried)."""

import json
import os

import pytest
from test_remote_support import HostileRegistry, make_image, sha256


@pytest.fixture
def dy(dy, tmp_path):
    dy.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    return dy


@pytest.fixture
def reg():
    r = HostileRegistry().start()
    yield r
    r.stop()


def _image():
    # a big first layer (random: gzip cannot shrink it) so that a cut-off body is mid-blob
    return make_image([{"big": os.urandom(3 << 20)}, {"small": b"hello\n"}])


def _blob_files(dy) -> set[str]:
    d = dy.root / "content" / "blobs" / "sha256"
    return {"sha256:" + p.name for p in d.iterdir()} if d.exists() else set()


def test_blob_not_matching_its_digest_stores_nothing(dy, reg):
    img = _image()
    reg.add("app", "1", img)
    bad = img.layer_digests[1]
    reg.corrupt[bad] = b"X" * len(img.blobs[bad])
    p = dy("pull", f"{reg.host}/app:1", check=False)
    assert p.returncode != 0
    err = p.stderr.decode().strip().splitlines()
    assert len(err) == 1 and bad in err[0] and "does not match its digest" in err[0]
    assert dy.out("images", "-qa") == ""
    assert bad not in _blob_files(dy)
    p = dy("image", "inspect", f"{reg.host}/app:1", check=False)
    assert p.returncode != 0


def test_wrong_docker_content_digest_header_is_ignored(dy, reg):
    img = _image()
    reg.add("app", "1", img)
    reg.content_digest = "sha256:" + "0" * 64
    out = dy.out("pull", f"{reg.host}/app:1")
    assert f"Digest: {img.digest}" in out
    info = json.loads(dy.out("image", "inspect", f"{reg.host}/app:1"))[0]
    assert info["RepoDigests"] == [f"{reg.host}/app@{img.digest}"]


def test_manifest_not_matching_the_digest_asked_for_is_refused(dy, reg):
    img, other = _image(), make_image([{"x": b"x"}])
    reg.add("app", "1", img)
    reg.blobs.update(other.blobs)
    reg.manifests[f"app:{img.digest}"] = ("application/vnd.oci.image.manifest.v1+json",
                                          other.manifest)  # fmt: skip
    p = dy("pull", f"{reg.host}/app@{img.digest}", check=False)
    assert p.returncode != 0 and b"hashes to " + sha256(other.manifest).encode() in p.stderr
    assert dy.out("images", "-qa") == ""


def test_cut_off_download_continues_with_range(dy, reg):
    img = _image()
    reg.add("app", "1", img)
    big = img.layer_digests[0]
    reg.truncate[big] = 1
    dy("pull", f"{reg.host}/app:1")
    gets = [rng for m, path, rng in reg.requests if m == "GET" and path.endswith(big)]
    assert len(gets) == 2 and gets[0] == "" and gets[1].startswith("bytes=")
    assert int(gets[1][6:-1]) > 0
    assert reg.served[big] == len(img.blobs[big])  # nothing was downloaded twice
    assert json.loads(dy.out("image", "inspect", f"{reg.host}/app:1"))[0]["Id"] == img.config_digest


def test_interrupted_pull_resumes_from_the_partial_ingest(dy, reg):
    img = _image()
    reg.add("app", "1", img)
    big = img.layer_digests[0]
    reg.truncate[big] = 100  # every attempt of this pull is cut off
    p = dy("pull", f"{reg.host}/app:1", check=False)
    assert p.returncode != 0 and big in p.stderr.decode()
    assert dy.out("images", "-qa") == ""
    got = reg.served[big]
    assert 0 < got < len(img.blobs[big])
    reg.truncate.clear()
    reg.requests.clear()
    dy("pull", f"{reg.host}/app:1")
    gets = [rng for m, path, rng in reg.requests if m == "GET" and path.endswith(big)]
    assert gets == [f"bytes={got}-"]


def test_server_errors_are_retried(dy, reg):
    img = _image()
    reg.add("app", "1", img)
    reg.fail_5xx["/v2/app/manifests/1"] = 2
    reg.fail_5xx[f"/v2/app/blobs/{img.layer_digests[1]}"] = 2
    out = dy.out("pull", f"{reg.host}/app:1")
    assert "Status: Downloaded newer image" in out
    assert reg.fail_5xx == {"/v2/app/manifests/1": 0, f"/v2/app/blobs/{img.layer_digests[1]}": 0}


def test_oversized_manifest_is_refused(dy, reg):
    reg.manifests["app:big"] = ("application/vnd.oci.image.manifest.v1+json",
                                b"{" + b" " * (5 << 20) + b"}")  # fmt: skip
    p = dy("pull", f"{reg.host}/app:big", check=False)
    assert p.returncode != 0 and b"limit" in p.stderr


def test_blob_longer_than_its_descriptor_is_refused(dy, reg):
    img = _image()
    reg.add("app", "1", img)
    small = img.layer_digests[1]
    reg.corrupt[small] = img.blobs[small] + b"\0" * 4096
    p = dy("pull", f"{reg.host}/app:1", check=False)
    assert p.returncode != 0 and small in p.stderr.decode()
    assert dy.out("images", "-qa") == ""
    assert small not in _blob_files(dy)


def test_redirected_blob_gets_no_credentials(dy, reg):
    storage = HostileRegistry().start()
    try:
        img = _image()
        reg.add("app", "1", img)
        storage.blobs.update(img.blobs)
        big = img.layer_digests[0]
        reg.redirect[big] = f"http://{storage.host}"
        reg.basic = "me:secret"
        p = dy("login", "-u", "me", "--password-stdin", reg.host, input=b"secret\n")
        assert p.returncode == 0
        dy("pull", f"{reg.host}/app:1")
        assert [a for path, a in storage.auth_seen if path.endswith(big)] == [""]
        assert any(path.endswith(big) and a.startswith("Basic ") for path, a in reg.auth_seen)
        info = json.loads(dy.out("image", "inspect", f"{reg.host}/app:1"))[0]
        assert info["Id"] == img.config_digest
    finally:
        storage.stop()


# -- the first round of HEADs goes out with the ping (an anonymous client saves a round trip)


def _heads(reg, img, tag: str = "1", creds=None):
    from dockyard.remote.client import RegistryClient
    from dockyard.remote.transfer import blobs_exist

    missing = sha256(b"not there")
    with RegistryClient(reg.host, "app", creds) as client:
        exist, remote = blobs_exist(client, [*img.layer_digests, missing], tag)
    return exist, remote


def test_heads_sent_with_the_ping_are_answered_once(reg):
    img = make_image([{"a": b"1"}, {"b": b"2"}])
    reg.add("app", "1", img)
    exist, remote = _heads(reg, img)
    assert exist == [True, True, False]
    assert remote == "" or remote == img.digest
    paths = [p for m, p, _ in reg.requests]
    assert paths.count("/v2/") == 1
    assert len(paths) == len(set(paths)) == 5  # the ping, three blobs, the manifest


def test_heads_sent_with_the_ping_are_asked_again_with_credentials(reg):
    from dockyard.errors import PermissionDenied
    from dockyard.remote.credentials import Credentials

    img = make_image([{"a": b"1"}])
    reg.add("app", "1", img)
    reg.basic = "u:p"
    with pytest.raises(PermissionDenied):
        _heads(reg, img)  # anonymous: the 401s are not taken for "missing"
    reg.requests.clear()
    exist, _ = _heads(reg, img, creds=Credentials("u", "p"))
    assert exist == [True, False]
    assert all(auth for _, auth in reg.auth_seen[-3:])


def test_ping_failing_on_the_first_try_falls_back_to_the_retrying_ping(reg):
    img = make_image([{"a": b"1"}])
    reg.add("app", "1", img)
    reg.fail_5xx["/v2/"] = 1
    exist, _ = _heads(reg, img)
    assert exist == [True, False]
    assert [p for m, p, _ in reg.requests].count("/v2/") == 2
