"""Facts about the machine and the versions of every tool, recorded with each result."""

from __future__ import annotations

import os
import platform
import subprocess


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def facts() -> dict:
    cpu = ""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    os_name = ""
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            os_name = line.split("=", 1)[1].strip('"')
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu,
        "kernel": platform.release(),
        "mem_gib": mem_kib / 1024 / 1024,
        "os": os_name,
        "python": platform.python_version(),
        "hostname": platform.node(),
    }


def version_of(argv: list[str], env: dict | None = None) -> str:
    """First non-empty output line of a version command, or why it failed."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e.__class__.__name__})"
    text = (p.stdout or p.stderr).decode(errors="replace").strip()
    first = text.splitlines()[0].strip() if text else ""
    if p.returncode != 0:
        return f"unavailable (exit {p.returncode}: {first[:120]})"
    return first[:160]


VERSION_COMMANDS = {
    "docker (CLI)": ["/usr/bin/docker", "--version"],
    "dockerd": ["dockerd", "--version"],
    "podman": ["podman", "--version"],
    "runc": ["runc", "--version"],
    "buildah": ["buildah", "--version"],
    "skopeo": ["skopeo", "--version"],
    "docker-registry": ["docker-registry", "--version"],
    "busybox": ["/bin/busybox", "--help"],
}


def versions(dockyard_argv: list[str], env: dict | None = None) -> dict:
    out = {name: version_of(argv, env) for name, argv in VERSION_COMMANDS.items()}
    out["dockyard"] = version_of([*dockyard_argv, "--version"], env)
    out["python"] = platform.python_version()
    return out
