"""Facts about this host and build that `version` and `info` report (read, never guessed)."""

import os

API_VERSION = "1.44"
MIN_API_VERSION = "1.41"

_GO_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


def go_arch() -> str:
    machine = os.uname().machine
    return _GO_ARCH.get(machine, machine)


def os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.partition("=")[2].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def mem_total() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except OSError:
        return os.cpu_count() or 1


def cgroup_version() -> str:
    return "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"


def python_version() -> str:
    import sys

    return "python" + ".".join(str(p) for p in sys.version_info[:3])


def count_dirs(path: str) -> int:
    try:
        return sum(1 for e in os.scandir(path) if e.is_dir(follow_symlinks=False))
    except OSError:
        return 0
