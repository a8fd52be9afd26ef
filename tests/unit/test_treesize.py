"""`tree_size`: apparent bytes of the files below a directory, links not followed."""

import os

from dockyard.treesize import tree_size


def test_sums_files_at_every_depth_and_does_not_follow_links(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "b").write_bytes(b"y" * 5)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "big").write_bytes(b"z" * 1000)
    os.symlink(outside, tmp_path / "link")  # a link to a dir: not walked into
    os.symlink("a", tmp_path / "short")  # a link to a file: its own size, not the file's
    assert tree_size(str(tmp_path)) == 15 + 1
    assert tree_size(str(tmp_path), one_device=True) == 15 + 1


def test_a_missing_directory_is_empty(tmp_path):
    assert tree_size(str(tmp_path / "gone")) == 0
    assert tree_size(str(tmp_path / "gone"), one_device=True) == 0
