"""One harness run: the work dir, the engines (dockyard, podman, docker) with their private
state, lazily started services, shared inputs, and the cleanup of everything it made."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field

from bench import anchors, inputs, procs
from bench.render import NOT_IN_DOCKYARD

DOCKER = "/usr/bin/docker"  # Debian's 20.10 CLI (a newer CLI may shadow it in /usr/local/bin)


def _quiet(argv: list[str], env: dict | None = None, timeout: float = 600) -> tuple[int, str]:
    p = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        timeout=timeout,
    )
    return p.returncode, p.stderr.decode(errors="replace").strip()


@dataclass
class Engine:
    """A CLI with its fixed leading arguments and environment."""

    name: str
    base: list[str]
    env: dict[str, str] | None = None

    def argv(self, *args: str) -> list[str]:
        return [*self.base, *args]

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> int:
        rc, err = _quiet(self.argv(*args), self.env, timeout)
        if check and rc != 0:
            raise RuntimeError(f"{self.name} {' '.join(args)} failed ({rc}): {err[-300:]}")
        return rc


@dataclass
class Ctx:
    repo: str
    workdir: str
    dockyard_bin: str
    quick: bool
    runs: int | None
    warmup: int | None
    log: object = print
    started: list[procs.Started] = field(default_factory=list)
    _engines: dict[str, Engine] = field(default_factory=dict)
    _probe: dict[str, str | None] = field(default_factory=dict)
    _registry_addr: str | None = None
    _cgroups_before: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._cgroups_before = set(_engine_cgroups())

    # ---------------------------------------------------------------- engines
    def dockyard(self) -> Engine:
        if "dockyard" not in self._engines:
            d = f"{self.workdir}/dockyard"
            # PYTHONDONTWRITEBYTECODE would make every run compile the modules changed since
            # the last .pyc was written: measure dockyard as installed, with its bytecode
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith("DOCKYARD_") and k != "PYTHONDONTWRITEBYTECODE"
            }
            self._engines["dockyard"] = Engine(
                "dockyard",
                [self.dockyard_bin, "--root", f"{d}/root", "--state-dir", f"{d}/state"],
                env,
            )
        return self._engines["dockyard"]

    def podman(self) -> Engine:
        if "podman" not in self._engines:
            self._engines["podman"] = Engine(
                "podman", ["podman", "--runtime", "runc"], anchors.podman_env(self.workdir)
            )
        return self._engines["podman"]

    def docker(self) -> Engine:
        """Debian's docker CLI talking to our own dockerd (started on first use)."""
        if "docker" not in self._engines:
            self._start_dockerd()
            self._engines["docker"] = Engine("docker", [DOCKER], anchors.docker_env(self.workdir))
        return self._engines["docker"]

    def missing_in_dockyard(self, *subcommands: str) -> str | None:
        """None when every subcommand exists in dockyard (``--help`` succeeds), else why not."""
        missing = []
        for sub in ("", *subcommands):
            if sub not in self._probe:
                args = [sub, "--help"] if sub else ["--help"]
                rc, err = _quiet(self.dockyard().argv(*args), self.dockyard().env, 60)
                last = err.splitlines()[-1][:140] if err else ""
                self._probe[sub] = (
                    None if rc == 0 else f"`dockyard {' '.join(args)}` exit {rc}: {last}"
                )
            if self._probe[sub]:
                if not sub:  # no CLI at all
                    return f"{NOT_IN_DOCKYARD} ({self._probe[sub]})"
                missing.append(sub)
        if not missing:
            return None
        return f"{NOT_IN_DOCKYARD} (needs {', '.join(missing)}; {self._probe[missing[0]]})"

    # ---------------------------------------------------------------- services
    def _start_dockerd(self) -> None:
        env = anchors.docker_env(self.workdir)
        argv = anchors.dockerd_argv(self.workdir, [self.registry_addr()])
        os.makedirs(f"{self.workdir}/logs", exist_ok=True)
        self.log("starting dockerd (own data-root, exec-root and socket)")
        s = procs.start(
            "dockerd",
            argv,
            f"{self.workdir}/logs/dockerd.log",
            marker=f"--data-root {anchors.docker_paths(self.workdir)['data']}",
        )
        self.started.append(s)

        def up() -> bool:
            return _quiet([DOCKER, "version"], env, 30)[0] == 0

        if not procs.wait_until(up, 60, 0.3):
            raise RuntimeError(f"dockerd did not come up; see {self.workdir}/logs/dockerd.log")

    def registry_addr(self) -> str:
        if self._registry_addr is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            self._registry_addr = f"127.0.0.1:{port}"
        return self._registry_addr

    def start_registry(self) -> str:
        """docker-registry on loopback with data under the work dir (fresh data every call)."""
        self.stop_registry()
        shutil.rmtree(f"{self.workdir}/registry/data", ignore_errors=True)
        cfg = anchors.registry_config(self.workdir, self.registry_addr())
        os.makedirs(f"{self.workdir}/logs", exist_ok=True)
        s = procs.start(
            "docker-registry",
            ["docker-registry", "serve", cfg],
            f"{self.workdir}/logs/registry.log",
            marker=f"docker-registry serve {cfg}",
            env=anchors.registry_env(),
        )
        self.started.append(s)
        url = f"http://{self.registry_addr()}/v2/"

        def up() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return True
            except OSError:
                return False

        if not procs.wait_until(up, 20, 0.1):
            raise RuntimeError(f"docker-registry did not come up; see {self.workdir}/logs")
        return self.registry_addr()

    def stop_registry(self) -> None:
        for s in [x for x in self.started if x.name == "docker-registry"]:
            self.log(procs.stop(s))
            self.started.remove(s)

    # ---------------------------------------------------------------- inputs
    def busybox_tar(self) -> str:
        return inputs.busybox_tar(self.repo, f"{self.workdir}/inputs/busybox-rootfs.tar")

    def big_archive(self, mb: int) -> tuple[str, str, int]:
        """(path, ref, size) of the multi-layer docker-archive of ``mb`` MB random data."""
        ref = f"localhost/dybench/big{mb}:latest"
        path = f"{self.workdir}/inputs/big-{mb}mb.tar"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path, ref, inputs.docker_archive(path, ref, mb * 1_000_000)

    def rounds(self, default_runs: int, default_warmup: int = 1) -> tuple[int, int]:
        if self.quick:
            return 1, 0
        runs = self.runs if self.runs is not None else default_runs
        warm = self.warmup if self.warmup is not None else default_warmup
        return runs, warm

    # ---------------------------------------------------------------- cleanup
    def cleanup(self, keep: bool) -> None:
        if "podman" in self._engines:
            # podman's overlay driver leaves its storage bind-mounted; let it undo that
            _quiet(["podman", "system", "reset", "-f"], self._engines["podman"].env, 300)
        for s in reversed(self.started):
            self.log(procs.stop(s))
        self.started.clear()
        self._umount_under_workdir()
        # cgroup parents the engines made for their containers (cgroupfs driver; BuildKit leaves
        # docker/buildkit): rmdir only succeeds on an empty cgroup, so one in use stays
        for cg in set(_engine_cgroups()) - self._cgroups_before:
            for d, _subdirs, _files in os.walk(cg, topdown=False):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
            if os.path.exists(self.workdir):
                self.log(f"could not remove all of {self.workdir}")

    def _umount_under_workdir(self) -> None:
        prefix = os.path.realpath(self.workdir) + "/"
        for _ in range(3):
            with open("/proc/self/mounts") as f:
                mnts = [line.split()[1].encode().decode("unicode_escape") for line in f]
            mine = sorted((m for m in mnts if (m + "/").startswith(prefix)), key=len, reverse=True)
            if not mine:
                return
            for m in mine:
                subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL, check=False)
            time.sleep(0.2)


def _engine_cgroups() -> list[str]:
    """The cgroup parents docker and podman create (in every v1 hierarchy and the unified one)."""
    out = []
    base = "/sys/fs/cgroup"
    try:
        hierarchies = [f"{base}/{h}" for h in os.listdir(base)] + [base]
    except OSError:
        return out
    for h in hierarchies:
        for name in ("docker", "libpod_parent"):
            if os.path.isdir(f"{h}/{name}"):
                out.append(f"{h}/{name}")
    return out


def default_dockyard_bin(repo: str) -> str:
    venv = f"{repo}/.venv/bin/dockyard"
    return venv if os.path.exists(venv) else shutil.which("dockyard") or sys.executable
