"""Reading the image's /etc/passwd from its layers: overlay's precedence, and no escape."""

import os

import pytest

from dockyard.errors import LimitExceeded
from dockyard.runtime import rootfs


def layer(base, name, files: dict) -> str:
    d = os.path.join(base, name)
    os.makedirs(d)
    for path, content in files.items():
        full = os.path.join(d, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if isinstance(content, tuple):
            os.symlink(content[0], full)
        else:
            with open(full, "w") as f:
                f.write(content)
    return d


def test_top_layer_wins_and_missing_is_none(tmp_path):
    low = layer(tmp_path, "low", {"etc/passwd": "low", "etc/group": "g"})
    top = layer(tmp_path, "top", {"etc/passwd": "top"})
    assert rootfs.read_file([top, low], "/etc/passwd") == "top"
    assert rootfs.read_file([top, low], "/etc/group") == "g"
    assert rootfs.read_file([top, low], "/etc/shadow") is None


def test_symlinks_cannot_reach_the_host(tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_text("host")
    hostile = layer(
        tmp_path, "l", {"etc/passwd": (str(secret),), "etc/group": ("../../../../" + str(secret),)}
    )
    assert rootfs.read_file([hostile], "/etc/passwd") is None
    assert rootfs.read_file([hostile], "/etc/group") is None


def test_fifo_and_huge_files_are_refused(tmp_path):
    d = layer(tmp_path, "l", {"etc/group": "x" * 100})
    os.mkfifo(os.path.join(d, "etc", "passwd"))
    assert rootfs.read_file([d], "/etc/passwd") is None  # would block forever if opened
    with pytest.raises(LimitExceeded):
        rootfs.read_file([d], "/etc/group", limit=10)


def test_ensure_dir_creates_only_missing_workdirs(tmp_path):
    low = layer(tmp_path, "low", {"srv/keep": "x"})
    upper = str(tmp_path / "upper")
    os.mkdir(upper)
    rootfs.ensure_dir([low], upper, "/srv")
    assert os.listdir(upper) == []
    rootfs.ensure_dir([low], upper, "/app/x")
    assert os.path.isdir(os.path.join(upper, "app", "x"))
