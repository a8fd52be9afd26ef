"""Hostile images against the container's own mount targets: /etc/hostname and
/etc/resolv.conf are bind-mounted into the image at start, and their targets are resolved
inside the rootfs (openat2 RESOLVE_IN_ROOT, or the Python resolver where that cannot answer).
An image whose /etc/hostname or /etc/resolv.conf is a symlink that leaves the image, by an
absolute path or by `..`, must get the bind inside its own tree, never on the host's file.

Every attack aims at a sentinel directory under the test's tmp dir and runs through
`confined` (a child that can write only below the test dir); the sentinel must stay
byte-for-byte unchanged.
"""

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                out[p] = ("link", os.readlink(p))
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    out[p] = ("file", hashlib.sha256(f.read()).hexdigest(), os.stat(p).st_mode)
            else:
                out[p] = ("dir", os.stat(p).st_mode)
    return out


@pytest.fixture
def sentinel(tmp_path):
    d = tmp_path / "sentinel"
    d.mkdir()
    (d / "hostname").write_text("HOST-HOSTNAME\n")
    (d / "resolv").write_text("HOST-RESOLV\n")
    return d


def _image_tar(busybox_tar: Path, out: Path, links: dict[str, str]) -> Path:
    """The busybox rootfs plus the given symlinks (name -> target)."""
    with open(busybox_tar, "rb") as f:
        base = f.read()
    with tarfile.open(out, "w") as dst, tarfile.open(fileobj=io.BytesIO(base)) as src:
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            dst.addfile(info)
    return out


def _cli(root: Path, *args: str) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    p = subprocess.run(
        [sys.executable, "-m", "dockyard", "--root", str(root / "root"),
         "--state-dir", str(root / "state"), *args],
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def _scenario(root: Path, image: Path) -> list:
    _cli(root, "import", str(image), "evil")
    show = "cat /etc/hostname /etc/resolv.conf; echo overwrite > /etc/hostname; echo done"
    return [
        _cli(root, "run", "--rm", "--hostname", "inside", "evil", "sh", "-c", show),
        _cli(root, "run", "--rm", "--network", "none", "evil", "true"),
        _cli(root, "ps", "-aq"),
    ]


def test_etc_file_links_out_of_the_image_get_the_bind_inside(
    tmp_path, sentinel, busybox_tar, confined
):
    before = snapshot(sentinel)
    escape = "../" * 12
    image = _image_tar(busybox_tar, tmp_path / "img.tar", {
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
