"""A build answers before its layers are flushed: the data root is marked first and the mark is
cleared by the flush that follows. A power cut in between (simulated: the mark of another
boot, a torn blob and a torn snapshot file) is found by the next command, which repairs
the store before anything reads it: the torn blob and the image naming it go, the torn
snapshot is made again from its blob, and a rebuild makes a complete image again."""

import os

from crash_support import check_consistent, late_mark, sha256_file, wait_mark_clear

from dockyard.config import Config
from dockyard.content import lateflush
from dockyard.oci.ids import chain_ids
from dockyard.oci.image import parse_image_config
from dockyard.services.images import ImageService

TAG = "late/built:1"
DOCKERFILE = """\
FROM late/base:1
COPY a.bin /a.bin
RUN echo made > /made.txt
"""


def _layers(root: str, image_id: str):
    """(diff ids, snapshot dirs) of the image, base first."""
    svc = ImageService(Config(root=root, state_dir=root + "-state"))
    try:
        diff_ids = list(parse_image_config(svc.content.read(image_id)).diff_ids)
        dirs = [svc.meta.get_snapshot(c).dir for c in chain_ids(diff_ids)]
    finally:
        svc.close()
    return diff_ids, dirs


def _build(dy, tmp_path, busybox_tar):
    dy("import", busybox_tar, "late/base:1")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "a.bin").write_bytes(os.urandom(3 << 20))
    return ctx, dy.out("build", "-q", "-t", TAG, str(ctx)).strip()


def test_the_mark_is_cleared_by_the_flush_after_the_build(dy, tmp_path, busybox_tar):
    _ctx, image_id = _build(dy, tmp_path, busybox_tar)
    root = str(dy.root)
    assert wait_mark_clear(root) == ""
    assert dy.out("images", "-q", "--no-trunc", TAG).strip() == image_id
    assert lateflush.crashed(root) is None


def test_after_a_power_cut_torn_objects_are_repaired_before_use(dy, tmp_path, busybox_tar):
    ctx, image_id = _build(dy, tmp_path, busybox_tar)
    root = str(dy.root)
    assert wait_mark_clear(root) == ""
    diff_ids, dirs = _layers(root, image_id)
    copy_file = os.path.join(dirs[1], "a.bin")
    run_blob = os.path.join(root, "content", "blobs", "sha256", diff_ids[2].split(":")[1])
    # what a power cut before the flush can leave: a file of the right size but zeros, a
    # blob cut short, and the mark of the boot that wrote them
    size = os.path.getsize(copy_file)
    with open(copy_file, "r+b") as f:
        f.write(bytes(size))
    os.chmod(run_blob, 0o644)
    with open(run_blob, "r+b") as f:
        f.truncate(os.path.getsize(run_blob) // 2)
    with open(os.path.join(root, lateflush.MARK), "w") as f:
        f.write("00000000-0000-0000-0000-000000000000 0 1\n")

    listed = dy.out("images", "--format", "{{.Repository}}:{{.Tag}}")  # the first command
    assert TAG not in listed.split()  # its RUN layer's blob was torn: the image is gone
    assert "late/base:1" in listed.split()
    assert not os.path.exists(run_blob)
    assert sha256_file(copy_file) == sha256_file(str(ctx / "a.bin"))  # made again
    assert late_mark(root) == ""
    check_consistent(root)

    plain = dy("build", "--progress=plain", "-t", TAG, str(ctx)).stderr.decode()
    assert "CACHED" in plain.split("COPY a.bin")[1].split("RUN")[0]  # the repaired layer
    new_id = dy.out("images", "-q", "--no-trunc", TAG).strip()
    _, dirs = _layers(root, new_id)
    with open(os.path.join(dirs[2], "made.txt")) as f:
        assert f.read() == "made\n"
    assert wait_mark_clear(root) == ""
    check_consistent(root)
