"""The inputs every tool gets: the busybox rootfs tar, a multi-layer docker-archive of random
(incompressible) data, and the 6-step build context."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tarfile

CHUNK = 1 << 20
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def busybox_tar(repo: str, out: str) -> str:
    """scripts/make-busybox-rootfs.sh OUT (busybox-static + applet links), made once."""
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([f"{repo}/scripts/make-busybox-rootfs.sh", out], check=True)
    return out


def _go_arch() -> str:
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(m, m)


def _random_layer(path: str, name: str, size: int) -> str:
    """A layer tar holding one file of ``size`` random bytes; returns its sha256 hex."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 1704067200
    h = hashlib.sha256()

    class _Tee:
        def __init__(self, f):
            self.f = f

        def write(self, b):
            h.update(b)
            return self.f.write(b)

    with open(path, "wb") as raw:
        tee = _Tee(raw)
        with tarfile.open(fileobj=tee, mode="w|", format=tarfile.PAX_FORMAT) as t:
            t.addfile(info, _RandomReader(size))
    return h.hexdigest()


class _RandomReader:
    """A file-like object of n random bytes, read in chunks."""

    def __init__(self, n: int):
        self.left = n

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self.left:
            size = self.left
        self.left -= size
        return os.urandom(size)


def docker_archive(out: str, ref: str, total_bytes: int, layers: int = 4) -> int:
    """Write a docker-archive (manifest.json + config + ``layers`` layer tars of random data)
    holding ``total_bytes`` of file data under tag ``ref``. Returns the archive's size in bytes."""
    if os.path.exists(out):
        return os.path.getsize(out)
    work = out + ".d"
    os.makedirs(work, exist_ok=True)
    per = total_bytes // layers
    diff_ids, paths = [], []
    for i in range(layers):
        tmp = f"{work}/layer{i}.tar"
        hexd = _random_layer(tmp, f"data/layer{i}.bin", per)
        os.makedirs(f"{work}/{hexd}", exist_ok=True)
        os.replace(tmp, f"{work}/{hexd}/layer.tar")
        diff_ids.append(f"sha256:{hexd}")
        paths.append(f"{hexd}/layer.tar")
    config = {
        "architecture": _go_arch(),
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Env": [PATH_ENV], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created": "2024-01-01T00:00:00Z", "created_by": f"bench layer {i}"}
            for i in range(layers)
        ],
    }
    cbytes = json.dumps(config, separators=(",", ":")).encode()
    chex = hashlib.sha256(cbytes).hexdigest()
    with open(f"{work}/{chex}.json", "wb") as f:
        f.write(cbytes)
    with open(f"{work}/manifest.json", "w") as f:
        json.dump([{"Config": f"{chex}.json", "RepoTags": [ref], "Layers": paths}], f)
    with tarfile.open(out + ".tmp", "w", format=tarfile.PAX_FORMAT) as t:
        for name in ("manifest.json", f"{chex}.json", *paths):
            t.add(f"{work}/{name}", arcname=name, recursive=False)
    os.replace(out + ".tmp", out)
    import shutil

    shutil.rmtree(work)
    return os.path.getsize(out)


DOCKERFILE = """\
FROM {base}
ENV APP_ENV=bench APP_VERSION=1
WORKDIR /app
COPY big.bin /app/big.bin
RUN for i in $(seq 1 200); do echo "line $i" > /app/f$i.txt; done && ls /app | wc -l
CMD ["sh", "-c", "ls -la /app | head"]
"""


def build_context(d: str, base: str, big_bytes: int = 10 << 20) -> str:
    """The 6-step build context (FROM, ENV, WORKDIR, COPY 10 MB, RUN, CMD)."""
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/Dockerfile", "w") as f:
        f.write(DOCKERFILE.format(base=base))
    if not os.path.exists(f"{d}/big.bin"):
        with open(f"{d}/big.bin", "wb") as f:
            left = big_bytes
            while left:
                n = min(CHUNK, left)
                f.write(os.urandom(n))
                left -= n
    return d


def touch_big(d: str) -> None:
    """Change the COPY'd file (first bytes) so the COPY step and all after it rebuild."""
    with open(f"{d}/big.bin", "r+b") as f:
        f.write(os.urandom(16))
