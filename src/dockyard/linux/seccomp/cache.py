"""A file cache of compiled seccomp BPF, keyed by the sha256 of the resolved profile.

Layout: `<cache_dir>/bpfgen-<n>-libseccomp-<version>/<sha256>.bpf`: a program depends on
libseccomp's version and on `bpfgen`'s rewrite (`GENERATOR`, raised whenever its output
changes), so neither reuses the other's entries. Entries are written to a temp
name, fsynced and renamed, so a reader sees a whole program or none; a damaged entry is
rebuilt. The runtime records the digest at create time and the start path reads the file
with `read` — no hashing, no libseccomp.
"""

import os

GENERATOR = 1  # bpfgen's output version: part of the cache location
TYPE_CHECKING = False
if TYPE_CHECKING:  # the profile module costs ~2 ms to import; the start path only reads
    from dockyard.linux.seccomp.profile import Resolved


def path_for(cache_dir: str, digest: str, version: str | None = None) -> str:
    if version is None:
        from dockyard.linux.seccomp.compile import libseccomp_version

        version = libseccomp_version()
    return os.path.join(cache_dir, f"bpfgen-{GENERATOR}-libseccomp-{version}", digest + ".bpf")


def default_program(cache_dir: str, caps: "frozenset[int]") -> tuple[str, bytes]:
    """(cache path, BPF bytes) of Docker's default profile for a container holding `caps`,
    compiled on first use. A small index, keyed by what the program depends on besides the
    profile (capabilities, kernel, machine, generator), names the cached program: neither a
    start nor a build step has to build the profile to find it."""
    from dockyard.linux import caps as C

    u = os.uname()
    key = f"{GENERATOR}-{C.mask(caps):x}-{u.release}-{u.machine}"
    index = os.path.join(cache_dir, "default-index", key)
    try:
        with open(index) as f:
            path = f.read(4096)
        data = read(path)
        if data is not None:
            return path, data
    except OSError:
        pass
    from dockyard.linux.seccomp import profile
    from dockyard.linux.seccomp.default import default_profile

    path, data = get_or_compile(cache_dir, profile.resolve(default_profile(), C.names(caps)))
    _store(index, path.encode())
    return path, data


def read(path: str) -> bytes | None:
    """The cached program at `path`, or None when missing or not a whole BPF program."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    if not data or len(data) % 8:
        return None
    return data


def get_or_compile(cache_dir: str, resolved: "Resolved") -> tuple[str, bytes]:
    """(cache path, BPF bytes) for `resolved`, compiling and storing it on a miss."""
    path = path_for(cache_dir, resolved.digest())
    data = read(path)
    if data is not None:
        return path, data
    from dockyard.linux.seccomp.compile import compile_bpf

    data = compile_bpf(resolved)
    _store(path, data)
    return path, data


def _store(path: str, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (temp name, fsync, rename)."""
    d = os.path.dirname(path)
    os.makedirs(d, mode=0o700, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.rename(tmp, path)
