"""Resolving mount targets inside a rootfs: hostile symlinks stay inside the root."""

import os

import pytest

from dockyard.errors import InvalidArgument, PermissionDenied
from dockyard.linux.paths import is_within, open_verified, resolve_in_root


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "root"
    (r / "etc").mkdir(parents=True)
    (r / "usr" / "lib").mkdir(parents=True)
    return str(r)


def test_plain_and_missing_paths(root):
    assert resolve_in_root(root, "/etc") == f"{root}/etc"
    assert resolve_in_root(root, "/etc/new/dir") == f"{root}/etc/new/dir"
    assert resolve_in_root(root, "/") == root


def test_absolute_symlink_is_rooted_in_the_container(root):
    os.symlink("/usr/lib", f"{root}/lib")
    assert resolve_in_root(root, "/lib/x") == f"{root}/usr/lib/x"


@pytest.mark.parametrize("target", ["/../../../../../../tmp", "../../../../tmp", "/tmp/../../.."])
def test_dotdot_symlinks_cannot_climb_out(root, target):
    os.symlink(target, f"{root}/evil")
    got = resolve_in_root(root, "/evil/mnt")
    assert is_within(root, got)


def test_dotdot_in_the_path_cannot_climb_out(root):
    assert resolve_in_root(root, "/../../etc/passwd") == f"{root}/etc/passwd"


def test_symlink_loops_are_refused(root):
    os.symlink("/b", f"{root}/a")
    os.symlink("/a", f"{root}/b")
    with pytest.raises(InvalidArgument, match="symbolic links"):
        resolve_in_root(root, "/a/x")


def test_chained_relative_symlinks(root):
    os.symlink("etc", f"{root}/e1")
    os.symlink("../e1", f"{root}/usr/e2")
    assert resolve_in_root(root, "/usr/e2/hosts") == f"{root}/etc/hosts"


def test_open_verified_refuses_a_path_outside(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    with pytest.raises(PermissionDenied, match="escapes"):
        open_verified(root, str(outside))
    fd = open_verified(root, f"{root}/etc")
    os.close(fd)


def test_is_within_is_not_fooled_by_prefixes(root):
    assert not is_within(root, root + "-other/x")
    assert is_within(root, root + "/x")
