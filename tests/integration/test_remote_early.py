"""Requests sent early (with the ping) and answered later: a re-push asks what the tag holds
before it has worked out the manifest to push, and reads the answer only then. The answer is
used once, by the same request; anything else asked first still gets the ping from it."""

import pytest
from test_remote_support import HostileRegistry, make_image, sha256

from dockyard.remote.client import RegistryClient
from dockyard.remote.transfer import blobs_exist, manifest_digest, start_manifest_digest


@pytest.fixture
def reg():
    r = HostileRegistry().start()
    yield r
    r.stop()


def _paths(reg) -> list[str]:
    return [p for _, p, _ in reg.requests]


def test_the_early_head_is_the_answer_and_nothing_is_asked_twice(reg):
    img = make_image([{"a": b"1"}])
    reg.add("app", "1", img)
    reg.content_digest = img.digest
    with RegistryClient(reg.host, "app") as client:
        start_manifest_digest(client, "1")
        assert manifest_digest(client, "1") == img.digest
        assert client.requests == 2
    assert sorted(_paths(reg)) == ["/v2/", "/v2/app/manifests/1"]


def test_a_tag_the_registry_lacks_reads_as_none(reg):
    with RegistryClient(reg.host, "app") as client:
        start_manifest_digest(client, "nope")
        assert manifest_digest(client, "nope") == ""
    assert sorted(_paths(reg)) == ["/v2/", "/v2/app/manifests/nope"]


def test_other_requests_first_take_the_ping_and_ask_their_own(reg):
    img = make_image([{"a": b"1"}, {"b": b"2"}])
    reg.add("app", "1", img)
    missing = sha256(b"not there")
    with RegistryClient(reg.host, "app") as client:
        start_manifest_digest(client, "1")
        exist, _ = blobs_exist(client, [*img.layer_digests, missing])
        assert exist == [True, True, False]
        # the early answer was used up as the ping: asking the tag now goes out again
        manifest_digest(client, "1")
    paths = _paths(reg)
    assert paths.count("/v2/") == 1
    assert paths.count("/v2/app/manifests/1") == 2
    assert sorted(p for p in paths if "/blobs/" in p) == sorted(
        f"/v2/app/blobs/{d}" for d in [*img.layer_digests, missing]
    )


def test_a_plain_request_first_uses_the_early_ping(reg):
    img = make_image([{"a": b"1"}])
    reg.add("app", "1", img)
    with RegistryClient(reg.host, "app") as client:
        start_manifest_digest(client, "1")
        r = client.request("GET", f"blobs/{img.layer_digests[0]}")
        assert r.content == img.blobs[img.layer_digests[0]]
    assert _paths(reg).count("/v2/") == 1


def test_answers_nobody_reads_are_dropped_on_close():
    import socket

    # a registry that takes the connections and never answers: closing must not wait for it
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        host = f"127.0.0.1:{srv.getsockname()[1]}"
        with RegistryClient(host, "app", timeout=30) as client:
            start_manifest_digest(client, "1")
            assert client.requests == 2
        assert client._early is None and client._http is None


def test_a_failing_early_ping_falls_back_to_the_retrying_ping(reg):
    img = make_image([{"a": b"1"}])
    reg.add("app", "1", img)
    reg.content_digest = img.digest
    reg.fail_5xx["/v2/"] = 1
    with RegistryClient(reg.host, "app", backoff=0.01) as client:
        start_manifest_digest(client, "1")
        assert manifest_digest(client, "1") == img.digest
    assert _paths(reg).count("/v2/") == 2


def test_nothing_goes_early_with_credentials_or_after_the_ping(reg):
    from dockyard.remote.credentials import Credentials

    with RegistryClient(reg.host, "app", Credentials("u", "p")) as client:
        start_manifest_digest(client, "1")
        assert reg.requests == [] and client._early is None
    with RegistryClient(reg.host, "app") as client:
        client.ping()
        start_manifest_digest(client, "1")
        assert client._early is None
