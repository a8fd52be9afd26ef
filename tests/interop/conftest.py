"""Real peers for interop tests: podman with a private storage and config, and skopeo."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def _umount_under(path: Path) -> None:
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for m in sorted((m for m in mounts if m.startswith(str(path))), reverse=True):
        subprocess.run(["umount", "-l", m], check=False)


class Podman:
    def __init__(self, base: Path):
        self.base = base
        (base / "net").mkdir(parents=True)
        hard = subprocess.run(
            ["sh", "-c", "ulimit -Hn"], capture_output=True, text=True
        ).stdout.strip()
        (base / "containers.conf").write_text(
            "[containers]\n"
            f'default_ulimits = ["nofile={hard}:{hard}", "nproc=32768:32768"]\n'
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{base}/events.log"\n'
            'runtime = "runc"\n'
            "[network]\n"
            f'network_config_dir = "{base}/net"\n'
        )
        (base / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{base}/root"\nrunroot = "{base}/run"\n'
        )
        (base / "registries.conf").write_text("unqualified-search-registries = []\n")
        self.env = dict(
            os.environ,
            CONTAINERS_CONF=str(base / "containers.conf"),
            CONTAINERS_STORAGE_CONF=str(base / "storage.conf"),
            CONTAINERS_REGISTRIES_CONF=str(base / "registries.conf"),
            TMPDIR=str(base),
        )

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run(["podman", *args], capture_output=True, text=True, env=self.env)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    def close(self) -> None:
        self("rm", "-af", check=False)
        self("rmi", "-af", check=False)
        _umount_under(self.base)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def podman(tmp_path_factory):
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed (scripts/install.sh installs it)")
    p = Podman(tmp_path_factory.mktemp("podman"))
    yield p
    p.close()


@pytest.fixture
def skopeo():
    if shutil.which("skopeo") is None:
        pytest.fail("skopeo is not installed (scripts/install.sh installs it)")

    def run(*args: str) -> str:
        p = subprocess.run(["skopeo", *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise AssertionError(f"skopeo {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p.stdout

    return run
