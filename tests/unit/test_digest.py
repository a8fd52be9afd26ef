"""`dockyard.digest`: the sha256 of in-memory bytes matches hashlib on both sides of the size
where it switches implementation, and digests are validated as go-digest does."""

import hashlib

import pytest

from dockyard import digest as D
from dockyard.errors import InvalidArgument


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 4096, (1 << 20) - 1, 1 << 20, (3 << 20) + 7])
def test_sha256_bytes_matches_hashlib(size):
    data = (bytes(range(256)) * (size // 256 + 1))[:size]
    assert D.sha256_bytes(data) == "sha256:" + hashlib.sha256(data).hexdigest()


def test_split_and_validate():
    good = "sha256:" + "a" * 64
    assert D.split(good) == ("sha256", "a" * 64)
    assert D.is_digest(good) and not D.is_digest("sha256:" + "A" * 64)
    with pytest.raises(InvalidArgument):
        D.validate("sha256:abc")
