"""Fixtures shared by every test tier: a private data root, a CLI runner, a busybox rootfs tar."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"


def pytest_collection_modifyitems(config, items):
    # Tests in these folders need root; CI is root, so they always run there.
    needs_root = ("integration", "interop", "security")
    for item in items:
        parts = Path(str(item.fspath)).parts
        if any(p in parts for p in needs_root) and os.geteuid() != 0:
            item.add_marker(pytest.mark.skip(reason="needs root"))


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory) -> Path:
    """A busybox root filesystem as a plain tar, made from the host's busybox-static."""
    out = tmp_path_factory.mktemp("busybox") / "busybox-rootfs.tar"
    subprocess.run([str(REPO / "scripts" / "make-busybox-rootfs.sh"), str(out)], check=True)
    return out


class Dockyard:
    """Runs the real `dockyard` CLI in a subprocess against a private data root."""

    def __init__(self, root: Path, state: Path):
        self.root = root
        self.state = state
        self.env = dict(os.environ, PYTHONPATH=str(SRC))
        self.env.pop("DOCKYARD_ROOT", None)
        self.env.pop("DOCKYARD_STATE", None)

    def argv(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "dockyard",
            "--root",
            str(self.root),
            "--state-dir",
            str(self.state),
            *args,
        ]

    def __call__(
        self, *args: str, input: bytes | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        p = subprocess.run(
            self.argv(*args), input=input, capture_output=True, env=self.env, timeout=timeout
        )
        if check and p.returncode != 0:
            raise AssertionError(
                f"dockyard {' '.join(args)} exited {p.returncode}\n"
                f"stdout: {p.stdout.decode(errors='replace')}\nstderr: {p.stderr.decode(errors='replace')}"
            )
        return p

    def out(self, *args: str, **kw) -> str:
        return self(*args, **kw).stdout.decode()


@pytest.fixture
def dy(tmp_path) -> Dockyard:
    return Dockyard(tmp_path / "root", tmp_path / "state")


@pytest.fixture(scope="session")
def busybox_root(busybox_tar):
    """A factory: `busybox_root(dir)` is a `Config` on `dir/root` and `dir/state` with busybox
    imported (CMD /bin/sh), for tests that drive the services in-process."""

    def make(d: Path):
        from dockyard.config import Config
        from dockyard.services.images import ImageService

        cfg = Config(root=str(d / "root"), state_dir=str(d / "state"))
        im = ImageService(cfg)
        try:
            with open(busybox_tar, "rb") as f:
                im.import_rootfs(f, "busybox", ['CMD ["/bin/sh"]'], "")
        finally:
            im.close()
        return cfg

    return make
