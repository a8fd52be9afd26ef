"""`layers.BlobJob`: a COPY layer's tar written on a thread while its RUN step runs, the
same blob as written in place, and its failure reported where it is waited for."""

import os
import time

import pytest

from dockyard.build.layers import BlobJob, write_blob
from dockyard.content.store import ContentStore
from dockyard.errors import DataLoss


class _Stores:
    def __init__(self, root):
        self.content = ContentStore(str(root / "content"))


def _layer(tmp_path, name: str) -> str:
    d = tmp_path / name
    (d / "app").mkdir(parents=True)
    (d / "app" / "big.bin").write_bytes(os.urandom(3 << 20))
    (d / "app" / "small").write_text("x\n")
    os.utime(d / "app" / "small", (1, 1))
    os.utime(d / "app" / "big.bin", (1, 1))
    return str(d)


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_a_started_job_writes_on_a_thread_the_blob_written_in_place(tmp_path):
    stores = _Stores(tmp_path)
    job = BlobJob(stores, _layer(tmp_path, "a"), 0)
    assert not job.started
    before = _threads()
    job.start()
    assert job.started
    digest, size, tree = job.wait()
    # the same dir written in place gives the same blob
    same = write_blob(stores, _layer_copy(tmp_path, "a", "b"), 0)
    assert (digest, size, tree) == same
    assert stores.content.has(digest)
    deadline = time.time() + 2
    while _threads() > before and time.time() < deadline:
        time.sleep(0.001)
    assert _threads() == before  # nothing outlives wait: a clone may follow


def _layer_copy(tmp_path, src: str, dst: str) -> str:
    import shutil

    shutil.copytree(tmp_path / src, tmp_path / dst)
    for p in (tmp_path / dst / "app" / "small", tmp_path / dst / "app" / "big.bin"):
        os.utime(p, (1, 1))
    return str(tmp_path / dst)


def test_a_job_never_started_is_written_by_wait(tmp_path):
    stores = _Stores(tmp_path)
    job = BlobJob(stores, _layer(tmp_path, "a"), 0)
    before = _threads()
    digest, _, _ = job.wait()
    assert stores.content.has(digest)
    assert _threads() == before and not job.started


def test_its_failure_is_raised_by_wait(tmp_path):
    job = BlobJob(_Stores(tmp_path), str(tmp_path / "no-such-dir"), 0)
    job.start()
    with pytest.raises(DataLoss, match="writing a build layer failed"):
        job.wait()
    job.start()  # once only: still the same failure
    with pytest.raises(DataLoss):
        job.wait()
