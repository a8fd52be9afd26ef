"""Finding our init binary for `run --init`, and what the error says when it is missing."""

import os

import pytest

from dockyard.errors import FailedPrecondition
from dockyard.linux import initc


def test_missing_binary_says_how_to_build_it(monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(FailedPrecondition) as e:
        initc.binary_path()
    msg = str(e.value)
    assert "scripts/install.sh" in msg and "gcc -static -Os" in msg and initc.source_path() in msg
    assert "\n" not in msg


def test_source_is_next_to_the_module():
    assert os.path.isfile(initc.source_path())
    assert initc.CONTAINER_PATH == "/sbin/docker-init"
