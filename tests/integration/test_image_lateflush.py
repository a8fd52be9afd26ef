"""`import` and `load` answer before their blobs and snapshots are flushed, as a build does
(content.lateflush): the mark is cleared by the flush that follows, and after a power cut
(simulated: another boot's mark and a torn layer blob) the next command drops the image
that names the torn blob before anything reads it."""

import os

from crash_support import check_consistent, late_mark, wait_mark_clear

from dockyard.content import lateflush


def test_import_and_load_clear_their_mark_and_a_torn_blob_drops_the_image(dy, busybox_tar,
                                                                          tmp_path):  # fmt: skip
    root = str(dy.root)
    image_id = dy.out("import", str(busybox_tar), "late/imported:1").strip()
    assert wait_mark_clear(root) == ""
    archive = tmp_path / "saved.tar"
    dy("save", "-o", str(archive), "late/imported:1")
    dy("rmi", "late/imported:1")
    assert "late/imported:1" in dy.out("load", "-i", str(archive))
    assert wait_mark_clear(root) == ""
    assert dy.out("images", "-q", "--no-trunc", "late/imported:1").strip() == image_id

    # a power cut before the flush: the layer's blob is cut short, another boot's mark left
    blobs = os.path.join(root, "content", "blobs", "sha256")
    layer = next(n for n in os.listdir(blobs) if os.path.getsize(os.path.join(blobs, n)) > 100_000)
    path = os.path.join(blobs, layer)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 3)
    with open(os.path.join(root, lateflush.MARK), "w") as f:
        f.write("00000000-0000-0000-0000-000000000000 0 1\n")

    assert dy.out("images", "-q").strip() == ""  # the image named the torn blob: gone
    assert not os.path.exists(path) and late_mark(root) == ""
    check_consistent(root)
    dy("import", str(busybox_tar), "late/imported:1")  # the layer is written whole again
    assert os.path.exists(path)
    check_consistent(root)
