"""What the hostile-input tests share (not a test module): a fingerprint of a tree to prove
nothing outside the target changed, a busybox image with planted symlinks, and the real CLI
on a private data root."""

import hashlib
import io
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def snapshot(top) -> dict[str, tuple]:
    """Everything observable about a tree: type, mode, owner, size, mtime, content, link text."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            extra: object = None
            if stat.S_ISLNK(st.st_mode):
                extra = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    extra = hashlib.sha256(f.read()).hexdigest()
            out[os.path.relpath(p, top)] = (
                st.st_mode,
                st.st_uid,
                st.st_gid,
                st.st_size,
                st.st_mtime_ns,
                st.st_nlink,
                extra,
            )
    return out


def image_tar(busybox_tar: Path, out: Path, links: dict[str, str]) -> Path:
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


def cli(root: Path, *args: str) -> tuple[int, str, str]:
    """`dockyard ARGS` on the data root under `root`: (status, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    p = subprocess.run(
        [sys.executable, "-m", "dockyard", "--root", str(root / "root"),
         "--state-dir", str(root / "state"), *args],
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    return p.returncode, p.stdout.decode(), p.stderr.decode()
