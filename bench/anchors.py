"""The reference tools: which Debian package provides each, installing the missing ones, and the
private configuration (podman, docker CLI, dockerd, docker-registry) the harness runs them with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

# executable -> Debian package
PACKAGES = {
    "/usr/bin/docker": "docker.io",
    "dockerd": "docker.io",
    "podman": "podman",
    "runc": "runc",
    "buildah": "buildah",
    "skopeo": "skopeo",
    "docker-registry": "docker-registry",
    "/bin/busybox": "busybox-static",
}


def _present(exe: str) -> bool:
    if exe.startswith("/"):
        return os.access(exe, os.X_OK)
    return shutil.which(exe) is not None


def missing_packages(exes: list[str]) -> list[str]:
    out = []
    for exe in exes:
        pkg = PACKAGES[exe]
        if not _present(exe) and pkg not in out:
            out.append(pkg)
    return out


def ensure(exes: list[str], log) -> None:
    """apt-get install the packages of the missing executables (apt-get update on first failure)."""
    pkgs = missing_packages(exes)
    if not pkgs:
        return
    log(f"installing {' '.join(pkgs)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *pkgs]
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL, check=False)
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
    still = missing_packages(exes)
    if still:
        raise RuntimeError(f"still missing after apt-get install: {' '.join(still)}")


def _hard_nofile() -> int:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 1048576 if hard == resource.RLIM_INFINITY else hard


def podman_env(w: str) -> dict[str, str]:
    """Environment that points podman/buildah/skopeo at storage and config under ``w``.

    Root here lacks CAP_SYS_RESOURCE, so the default ulimits must fit the hard limits; crun refuses
    this host's hybrid cgroups, so callers pass ``--runtime runc``.
    """
    d = f"{w}/podman"
    for sub in ("root", "run", "tmp", "net", "imgtmp"):
        os.makedirs(f"{d}/{sub}", exist_ok=True)
    nofile = _hard_nofile()
    files = {
        "storage.conf": f'[storage]\ndriver = "overlay"\ngraphroot = "{d}/root"\n'
        f'runroot = "{d}/run"\n',
        "containers.conf": (
            "[containers]\n"
            f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc=32768:32768"]\n'
            "[network]\n"
            f'network_config_dir = "{d}/net"\n'
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{d}/events.log"\n'
            f'tmp_dir = "{d}/tmp"\n'
            f'image_copy_tmp_dir = "{d}/imgtmp"\n'
        ),
        "registries.conf": 'unqualified-search-registries = []\nshort-name-mode = "permissive"\n',
    }
    for name, text in files.items():
        with open(f"{d}/{name}", "w") as f:
            f.write(text)
    return dict(
        os.environ,
        CONTAINERS_CONF=f"{d}/containers.conf",
        CONTAINERS_STORAGE_CONF=f"{d}/storage.conf",
        CONTAINERS_REGISTRIES_CONF=f"{d}/registries.conf",
        TMPDIR=f"{d}/imgtmp",
    )


def docker_paths(w: str) -> dict[str, str]:
    d = f"{w}/docker"
    return {
        "dir": d,
        "sock": f"{d}/docker.sock",
        "config": f"{d}/daemon.json",
        "data": f"{d}/data",
        "exec": f"{d}/exec",
        "pidfile": f"{d}/dockerd.pid",
        "cli": f"{d}/cli",
    }


def docker_env(w: str) -> dict[str, str]:
    p = docker_paths(w)
    os.makedirs(p["cli"], exist_ok=True)
    if not os.path.exists(f"{p['cli']}/config.json"):
        with open(f"{p['cli']}/config.json", "w") as f:
            f.write("{}")
    return dict(os.environ, DOCKER_HOST=f"unix://{p['sock']}", DOCKER_CONFIG=p["cli"])


def dockerd_argv(w: str, insecure_registries: list[str]) -> list[str]:
    """dockerd in its own directories, with no iptables/bridge (loopback-only machine)."""
    p = docker_paths(w)
    os.makedirs(p["dir"], exist_ok=True)
    with open(p["config"], "w") as f:
        json.dump(
            {
                "deprecated-key-path": f"{p['dir']}/key.json",
                "insecure-registries": insecure_registries,
            },
            f,
        )
    return [
        "dockerd",
        "--config-file",
        p["config"],
        "--data-root",
        p["data"],
        "--exec-root",
        p["exec"],
        "--pidfile",
        p["pidfile"],
        "-H",
        f"unix://{p['sock']}",
        "--iptables=false",
        "--ip-masq=false",
        "--ip6tables=false",
        "--bridge=none",
    ]


def registry_config(w: str, addr: str) -> str:
    d = f"{w}/registry"
    os.makedirs(f"{d}/data", exist_ok=True)
    path = f"{d}/config.yml"
    with open(path, "w") as f:
        f.write(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  cache:\n    blobdescriptor: inmemory\n"
            f"  filesystem:\n    rootdirectory: {d}/data\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {addr}\n"
        )
    return path


def registry_env() -> dict[str, str]:
    # docker-registry reads REGISTRY_* variables as configuration overrides: keep them out
    return {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
