"""dockyard.rmtree: a tree goes whole, and nothing a symlink in it points at goes with it."""

import os

from dockyard.rmtree import quietly, remove_at, remove_tree


def _tree(root):
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "f").write_text("x")
    (root / "a" / "b" / "c" / "g").write_text("y")
    os.mkfifo(root / "a" / "fifo")  # opening it would block: it must only be unlinked
    (root / "empty").mkdir()


def test_a_tree_goes_whole(tmp_path):
    target = tmp_path / "t"
    target.mkdir()
    _tree(target)
    remove_tree(str(target))
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_symlinks_inside_are_removed_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("sentinel")
    target = tmp_path / "t"
    target.mkdir()
    _tree(target)
    (target / "a" / "to-dir").symlink_to(outside)
    (target / "a" / "b" / "to-file").symlink_to(outside / "keep")
    (target / "dangling").symlink_to(tmp_path / "nowhere")
    remove_tree(str(target))
    assert not target.exists()
    assert (outside / "keep").read_text() == "sentinel"


def test_a_symlink_given_as_the_tree_is_removed_itself(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("sentinel")
    link = tmp_path / "link"
    link.symlink_to(outside)
    remove_tree(str(link))
    assert not os.path.lexists(link)
    assert (outside / "keep").read_text() == "sentinel"


def test_missing_is_fine_and_remove_at_works_from_a_descriptor(tmp_path):
    remove_tree(str(tmp_path / "nothing"))
    quietly(str(tmp_path / "nothing" / "deeper"))
    target = tmp_path / "t"
    target.mkdir()
    _tree(target)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        remove_at(fd, "t")
    finally:
        os.close(fd)
    assert not target.exists()


def test_a_deep_tree(tmp_path):
    cur = tmp_path / "deep"
    top = cur
    for i in range(200):
        cur = cur / f"d{i}"
    cur.mkdir(parents=True)
    (cur / "leaf").write_text("z")
    remove_tree(str(top))
    assert not top.exists()
