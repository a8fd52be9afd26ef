"""Repository names and tags: the distribution grammar, and nothing that could be a path escape."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.registry.names import is_tag, validate_repository

GOOD = ["a", "library/busybox", "a/b/c/d", "x.com/y", "foo-bar__baz.q/x--y", "0/1", "a" * 255]
BAD = ["", "A", "Foo/bar", "..", "../x", "a/../b", "a/./b", "a//b", "/a", "a/", ".a", "a.",
       "-a", "_a", "a/_layers", "host:5000/x", "a:b", "a@sha256:" + "0" * 64, "a\x00b",
       "a b", "a\n", "a" * 256, "é"]  # fmt: skip


@pytest.mark.parametrize("name", GOOD)
def test_valid_names(name):
    assert validate_repository(name) == name


@pytest.mark.parametrize("name", BAD)
def test_invalid_names(name):
    with pytest.raises(InvalidArgument):
        validate_repository(name)


@pytest.mark.parametrize(
    "tag,ok",
    [
        ("latest", True),
        ("v1.0-rc_1", True),
        ("_x", True),
        ("A" * 128, True),
        ("A" * 129, False),
        ("", False),
        (".hidden", False),
        ("-x", False),
        ("a/b", False),
        ("..", False),
        ("sha256:abc", False),
        ("a b", False),
    ],
)
def test_tags(tag, ok):
    assert is_tag(tag) is ok
