"""make_top_dir: the data root's parents of short-lived trees carry ext4's top-dir flag."""

import fcntl
import os
import sys

from dockyard.topdir import make_top_dir, mark_top

FS_IOC_GETFLAGS = 0x80086601
FS_TOPDIR_FL = 0x00020000


def _flags(path: str) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return int.from_bytes(fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 8)[:4], sys.byteorder)
    finally:
        os.close(fd)


def _fs_type(path: str) -> str:
    """The type of the filesystem holding `path` (the longest mount point prefix)."""
    best, kind = "", ""
    with open("/proc/self/mounts") as f:
        for line in f:
            _dev, mnt, typ = line.split()[:3]
            inside = path == mnt or path.startswith(mnt.rstrip("/") + "/")
            if inside and len(mnt) >= len(best):
                best, kind = mnt, typ
    return kind


def test_makes_the_dir_with_its_parents_and_mode(tmp_path):
    path = str(tmp_path / "a" / "b")
    assert make_top_dir(path, 0o711) is True
    assert os.path.isdir(path)
    assert os.stat(path).st_mode & 0o777 == 0o711


def test_an_existing_dir_is_left_alone(tmp_path):
    path = str(tmp_path / "d")
    os.mkdir(path, 0o755)
    os.chmod(path, 0o755)
    assert make_top_dir(path, 0o700) is False
    assert os.stat(path).st_mode & 0o777 == 0o755


def test_the_flag_is_set_on_ext4_and_not_inherited(tmp_path):
    path = str(tmp_path / "top")
    make_top_dir(path)
    if not _fs_type(str(tmp_path)).startswith("ext"):
        # elsewhere the directory is made all the same, only without the hint
        assert mark_top(path) is False or _flags(path) & FS_TOPDIR_FL
        return
    assert _flags(path) & FS_TOPDIR_FL
    child = os.path.join(path, "child")
    os.mkdir(child)
    assert not _flags(child) & FS_TOPDIR_FL  # only the parent spreads its children


def test_mark_top_says_false_where_there_are_no_flags():
    assert mark_top("/proc") is False
