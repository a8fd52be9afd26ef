"""resolve_in_root: paths seen from inside a root, symlinks followed like a chroot would."""

import os

import pytest

from dockyard.archive.safepath import resolve_in_root
from dockyard.errors import InvalidArgument


@pytest.fixture
def root(tmp_path) -> str:
    r = tmp_path / "root"
    (r / "usr" / "lib").mkdir(parents=True)
    (r / "etc").mkdir()
    (r / "etc" / "passwd").write_text("x")
    os.symlink("usr/lib", r / "lib")
    os.symlink("/", r / "rootlink")
    os.symlink("../../../../..", r / "usr" / "climb")
    os.symlink("/etc/passwd", r / "abs")
    os.symlink(str(tmp_path), r / "host")
    os.symlink("loop2", r / "loop1")
    os.symlink("loop1", r / "loop2")
    return str(r)


@pytest.mark.parametrize(
    "path,expected",
    [
        ("/", ""),
        ("", ""),
        ("etc/passwd", "etc/passwd"),
        ("/etc/passwd", "etc/passwd"),
        ("../../../etc/passwd", "etc/passwd"),
        ("lib/x", "usr/lib/x"),
        ("/lib", "usr/lib"),
        ("rootlink/etc", "etc"),
        ("usr/climb/etc/passwd", "etc/passwd"),
        ("abs", "etc/passwd"),
        ("new/dir/../file", "new/file"),
        ("lib/../etc", "usr/etc"),  # like the kernel: .. after a symlink applies to its target
    ],
)
def test_resolves_inside_root(root, path, expected):
    got = resolve_in_root(root, path)
    assert got == os.path.join(root, expected) if expected else got == root
    assert os.path.commonpath([root, got]) == root


def test_symlink_to_a_host_path_stays_inside(root, tmp_path):
    got = resolve_in_root(root, "host/outside-file")
    assert got.startswith(root + "/")
    assert got == root + str(tmp_path) + "/outside-file"


def test_loops_are_an_error(root):
    with pytest.raises(InvalidArgument, match="symbolic links"):
        resolve_in_root(root, "loop1/x")


def test_file_in_the_middle_is_an_error(root):
    with pytest.raises(InvalidArgument, match="not a directory"):
        resolve_in_root(root, "etc/passwd/x")
