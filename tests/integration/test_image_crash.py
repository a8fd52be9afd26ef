"""kill -9 during `dockyard import`, `load` and `pull`, at random moments: the data root stays
consistent (every blob hashes to its name, every tag reaches a complete image, every snapshot
record has its directory) and a retry succeeds."""

import io
import os
import random
import signal
import subprocess
import tarfile
import time

import pytest
from crash_support import check_consistent

from dockyard.config import Config
from dockyard.services.images import ImageService

ROUNDS = 8


@pytest.fixture(scope="module")
def big_rootfs(tmp_path_factory, busybox_tar) -> str:
    """The busybox rootfs plus 24 MB of incompressible data: long enough to be interrupted."""
    path = tmp_path_factory.mktemp("crash") / "rootfs.tar"
    with tarfile.open(busybox_tar) as src, tarfile.open(path, "w") as dst:
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
        for i in range(3):
            info = tarfile.TarInfo(f"data/blob{i}")
            info.size = 8 << 20
            dst.addfile(info, io.BytesIO(os.urandom(info.size)))
    return str(path)


@pytest.fixture(scope="module")
def saved_archive(tmp_path_factory, big_rootfs) -> str:
    base = tmp_path_factory.mktemp("crash-save")
    svc = ImageService(Config(root=str(base / "root"), state_dir=str(base / "state")))
    try:
        with open(big_rootfs, "rb") as f:
            svc.import_rootfs(f, "crash/big:1", [], "")
        with open(big_rootfs, "rb") as f:
            svc.import_rootfs(f, "crash/other:2", ["ENV A=1"], "")
        out = base / "saved.tar"
        with open(out, "wb") as f:
            svc.save(["crash/big:1", "crash/other:2"], f)
    finally:
        svc.close()
    return str(out)


def kill_at_random(dy, rng: random.Random, *args: str) -> None:
    p = subprocess.Popen(dy.argv(*args), env=dy.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    time.sleep(rng.uniform(0.05, 1.2))
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
    p.wait()


@pytest.fixture
def registry(tmp_path):
    from test_remote_support import InProcessRegistry

    r = InProcessRegistry(tmp_path / "reg").start()
    yield r
    r.stop()


def _pushed(dy, tmp_path, registry, big_rootfs) -> str:
    """crash/big:1 on the registry, pushed from another data root."""
    ref = f"{registry.host}/crash/big:1"
    src = type(dy)(tmp_path / "src" / "root", tmp_path / "src" / "state")
    src.env = dict(dy.env, DOCKER_CONFIG=str(tmp_path / "docker-config"))
    src("import", big_rootfs, ref)
    src("push", "-q", ref)
    return ref


@pytest.mark.parametrize("verb", ["import", "load", "pull"])
def test_kill_9_at_random_moments_leaves_a_consistent_root(
    dy, big_rootfs, saved_archive, verb, request, tmp_path
):
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    if verb == "import":
        args = ("import", big_rootfs, "crash/big:1")
    elif verb == "load":
        args = ("load", "-i", saved_archive)
    else:
        dy.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
        ref = _pushed(dy, tmp_path, request.getfixturevalue("registry"), big_rootfs)
        args = ("pull", "-q", ref)
    root = str(dy.root)
    for _ in range(ROUNDS):
        kill_at_random(dy, rng, *args)
        if os.path.isdir(root):
            check_consistent(root)
    dy(*args)  # a retry succeeds
    check_consistent(root)
    out = dy.out("images", "--format", "{{.Repository}}:{{.Tag}}")
    if verb == "pull":
        assert ref in out.split()
        return
    assert "crash/big:1" in out.split()
    if verb == "load":
        assert "crash/other:2" in out.split()
