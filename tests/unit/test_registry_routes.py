"""Routing of distribution API paths (names with slashes) and the access each needs."""

import pytest

from dockyard.registry.routes import Route, action, match

D = "sha256:" + "a" * 64

CASES = [
    ("/v2/", Route("base")),
    ("/v2", Route("base")),
    ("/v2/_catalog", Route("catalog")),
    ("/auth/token", Route("token")),
    ("/v2/a/b/tags/list", Route("tags", "a/b")),
    ("/v2/a/manifests/latest", Route("manifest", "a", "latest")),
    (f"/v2/a/b/c/manifests/{D}", Route("manifest", "a/b/c", D)),
    (f"/v2/a/blobs/{D}", Route("blob", "a", D)),
    ("/v2/a/blobs/uploads/", Route("uploads", "a")),
    ("/v2/a/blobs/uploads", Route("uploads", "a")),
    ("/v2/a/blobs/uploads/0123", Route("upload", "a", "0123")),
    (f"/v2/a/referrers/{D}", Route("referrers", "a", D)),
    # "blobs", "manifests" and "tags" are valid name components: the longest name wins.
    ("/v2/x/manifests/y/manifests/z", Route("manifest", "x/manifests/y", "z")),
    ("/v2/tags/tags/list", Route("tags", "tags")),
    ("/v3/a/tags/list", None),
    ("/v2/a/unknown", None),
    ("/", None),
]


@pytest.mark.parametrize("path,route", CASES)
def test_match(path, route):
    assert match(path) == route


def test_actions():
    assert action(Route("manifest", "a", "t"), "GET") == "pull"
    assert action(Route("manifest", "a", "t"), "PUT") == "push"
    assert action(Route("manifest", "a", "t"), "DELETE") == "delete"
    assert action(Route("blob", "a", D), "DELETE") == "delete"
    assert action(Route("upload", "a", "u"), "GET") == "push"
    assert action(Route("catalog"), "GET") == "catalog"
    assert action(Route("base"), "GET") == ""
    assert action(Route("token"), "GET") is None
