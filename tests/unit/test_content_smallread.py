"""`read_small` returns a small blob only when it hashes to its name; anything unusual is
None, left to the content store (which raises the right error)."""

import hashlib
import subprocess
import sys

from dockyard.content.smallread import read_small


def _put(root, data: bytes) -> str:
    hexd = hashlib.sha256(data).hexdigest()
    d = root / "blobs" / "sha256"
    d.mkdir(parents=True, exist_ok=True)
    (d / hexd).write_bytes(data)
    return "sha256:" + hexd


def test_small_blob_verified(tmp_path):
    digest = _put(tmp_path, b'{"a":1}')
    assert read_small(str(tmp_path), digest, 1 << 20) == b'{"a":1}'


def test_unusual_blobs_are_left_to_the_store(tmp_path):
    digest = _put(tmp_path, b"x" * 100)
    assert read_small(str(tmp_path), digest, 99) is None  # over the limit
    (tmp_path / "blobs" / "sha256" / digest[7:]).write_bytes(b"y" * 100)
    assert read_small(str(tmp_path), digest, 1 << 20) is None  # corrupt
    assert read_small(str(tmp_path), "sha256:" + "0" * 64, 1 << 20) is None  # missing
    assert read_small(str(tmp_path), "sha512:" + "0" * 128, 1 << 20) is None
    assert read_small(str(tmp_path), "sha256:ABC", 1 << 20) is None


def test_importing_it_leaves_the_store_unloaded():
    code = (
        "import sys, dockyard.content.smallread\n"
        "print('dockyard.content.store' in sys.modules, 'hashlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
