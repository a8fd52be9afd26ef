"""The start path reads the image config without the content store (`content.smallread`,
sha256 through `_sha256`, not hashlib): it must accept exactly what the store's verified
`read` accepts, and give the store's errors for the rest."""

import os

import pytest

from dockyard.config import Config
from dockyard.content.store import ContentStore
from dockyard.errors import DataLoss, LimitExceeded, NotFound
from dockyard.services.containers import ContainerService

CONFIG = b'{"config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[]}}'


@pytest.fixture
def svc(tmp_path):
    s = ContainerService(Config(root=str(tmp_path / "root"), state_dir=str(tmp_path / "state")))
    yield s
    s.close()


@pytest.fixture
def content(svc):
    return ContentStore(svc.config.content_dir)


def _image_config(svc, digest: str, limit: int = 16 << 20) -> bytes:
    return svc._image_config(digest, limit)


def test_a_stored_config_is_read_back(svc, content):
    digest = content.put(CONFIG)
    assert _image_config(svc, digest) == CONFIG


def test_a_corrupt_config_is_data_loss(svc, content):
    digest = content.put(CONFIG)
    with open(content.path(digest), "r+b") as f:
        f.write(b"[")
    with pytest.raises(DataLoss):
        _image_config(svc, digest)


def test_a_missing_config_is_not_found(svc):
    with pytest.raises(NotFound):
        _image_config(svc, "sha256:" + "a" * 64)


def test_an_oversized_config_is_refused_before_hashing(svc, content):
    digest = content.put(CONFIG)
    with pytest.raises(LimitExceeded):
        _image_config(svc, digest, limit=len(CONFIG) - 1)


def test_a_grown_config_does_not_pass(svc, content):
    digest = content.put(CONFIG)
    with open(content.path(digest), "ab") as f:
        f.write(b" ")
    assert os.path.getsize(content.path(digest)) == len(CONFIG) + 1
    with pytest.raises(DataLoss):
        _image_config(svc, digest)
