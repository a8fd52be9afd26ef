"""The start path reads the image config itself (sha256 through `_sha256`, not hashlib):
it must accept exactly what the content store's verified `read` accepts."""

import os

import pytest

from dockyard.content.store import ContentStore
from dockyard.errors import DataLoss, LimitExceeded, NotFound
from dockyard.services.containers import _image_config

CONFIG = b'{"config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[]}}'


@pytest.fixture
def content(tmp_path):
    return ContentStore(str(tmp_path / "content"))


def test_a_stored_config_is_read_back(content):
    digest = content.put(CONFIG)
    assert _image_config(content, digest) == CONFIG


def test_a_corrupt_config_is_data_loss(content):
    digest = content.put(CONFIG)
    with open(content.path(digest), "r+b") as f:
        f.write(b"[")
    with pytest.raises(DataLoss):
        _image_config(content, digest)


def test_a_missing_config_is_not_found(content):
    with pytest.raises(NotFound):
        _image_config(content, "sha256:" + "a" * 64)


def test_an_oversized_config_is_refused_before_hashing(content):
    digest = content.put(CONFIG)
    with pytest.raises(LimitExceeded):
        _image_config(content, digest, limit=len(CONFIG) - 1)


def test_a_grown_config_does_not_pass(content):
    digest = content.put(CONFIG)
    with open(content.path(digest), "ab") as f:
        f.write(b" ")
    assert os.path.getsize(content.path(digest)) == len(CONFIG) + 1
    with pytest.raises(DataLoss):
        _image_config(content, digest)
