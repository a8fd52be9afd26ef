"""Hostile images against the container's own mount targets: /etc/hostname and
/etc/resolv.conf are bind-mounted into the image at start, and their targets are resolved
inside the rootfs (openat2 RESOLVE_IN_ROOT, or the Python resolver where that cannot answer).
An image whose /etc/hostname or /etc/resolv.conf is a symlink that leaves the image, by an
absolute path or by `..`, must get the bind inside its own tree, never on the host's file.

Every attack aims at a sentinel directory under the test's tmp dir and runs through
`confined` (a child that can write only below the test dir); the sentinel must stay
byte-for-byte unchanged.
"""

from pathlib import Path

import pytest
from hostile_support import cli, image_tar, snapshot


@pytest.fixture
def sentinel(tmp_path):
    d = tmp_path / "sentinel"
    d.mkdir()
    (d / "hostname").write_text("HOST-HOSTNAME\n")
    (d / "resolv").write_text("HOST-RESOLV\n")
    return d


def _scenario(root: Path, image: Path) -> list:
    cli(root, "import", str(image), "evil")
    show = "cat /etc/hostname /etc/resolv.conf; echo overwrite > /etc/hostname; echo done"
    return [
        cli(root, "run", "--rm", "--hostname", "inside", "evil", "sh", "-c", show),
        cli(root, "run", "--rm", "--network", "none", "evil", "true"),
        cli(root, "ps", "-aq"),
    ]


def test_etc_file_links_out_of_the_image_get_the_bind_inside(
    tmp_path, sentinel, busybox_tar, confined
):
    before = snapshot(sentinel)
    escape = "../" * 12
    image = image_tar(busybox_tar, tmp_path / "img.tar", {
        "etc/hostname": str(sentinel / "hostname"),
        "etc/resolv.conf": escape + str(sentinel / "resolv").lstrip("/"),
    })  # fmt: skip
    shown, quiet, ps = confined(str(tmp_path), _scenario, tmp_path, image)
    assert shown[0] == 0, shown[2]
    # the container sees its own files through the links ...
    assert shown[1].splitlines()[0] == "inside"
    assert "HOST-" not in shown[1]
    assert shown[1].rstrip().endswith("done")
    assert quiet[0] == 0, quiet[2]
    assert ps == (0, "", "")
    # ... and the host's files behind the same paths were never touched
    assert snapshot(sentinel) == before
