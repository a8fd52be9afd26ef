"""Fetching manifests and indexes: every media type accepted, bytes checked, a platform picked.

A manifest's digest is always computed from the bytes received: `Docker-Content-Digest` is
never trusted, and a manifest fetched by digest must hash to that digest.
"""

from dockyard import digest as _digest
from dockyard.errors import DataLoss, InvalidArgument, LimitExceeded, NotFound
from dockyard.oci import mediatypes as mt
from dockyard.record import Record

MAX_MANIFEST = 4 << 20
MAX_CONFIG = 16 << 20
ACCEPT = ", ".join((mt.OCI_INDEX, mt.OCI_MANIFEST, mt.DOCKER_MANIFEST_LIST, mt.DOCKER_MANIFEST))


class Fetched(Record):
    digest: str  # sha256 of `data`
    media_type: str
    data: bytes


def _read_limited(r, limit: int, what: str) -> bytes:
    declared = r.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise LimitExceeded(f"{what} is {declared} bytes, more than the limit of {limit}")
    chunks, total = [], 0
    for chunk in r.iter_bytes(1 << 16):
        total += len(chunk)
        if total > limit:
            raise LimitExceeded(f"{what} is more than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_manifest(client, reference: str, expected_digest: str = "") -> Fetched:
    """GET a manifest or index by tag or digest; its bytes are checked against the digest."""
    from dockyard.oci.manifest import detect_media_type

    what = f"manifest {client.repository}:{reference}" if ":" not in reference else (
        f"manifest {client.repository}@{reference}")  # fmt: skip
    r = client.request("GET", f"manifests/{reference}", headers={"Accept": ACCEPT}, stream=True,
                       what=what)  # fmt: skip
    try:
        data = _read_limited(r, MAX_MANIFEST, what)
        header_type = r.headers.get("content-type", "").partition(";")[0].strip()
    finally:
        r.close()
    actual = _digest.sha256_bytes(data)
    want = expected_digest or (reference if _digest.is_digest(reference) else "")
    if want and actual != want:
        raise DataLoss(f"{what}: the registry sent content that hashes to {actual}")
    declared = detect_media_type(data)
    media_type = declared if declared in mt.MANIFESTS | mt.INDEXES else header_type
    if media_type not in mt.MANIFESTS | mt.INDEXES:
        raise InvalidArgument(f"{what}: unsupported media type {media_type or declared!r}")
    return Fetched(actual, media_type, data)


def fetch_small_blob(client, digest: str, size: int, limit: int = MAX_CONFIG) -> bytes:
    """A config or other small blob, in memory, checked against digest and size."""
    if size > limit:
        raise LimitExceeded(f"blob {digest} is {size} bytes, more than the limit of {limit}")
    r = client.request("GET", f"blobs/{digest}", stream=True, what=f"blob {digest}")
    try:
        data = _read_limited(r, limit, f"blob {digest}")
    finally:
        r.close()
    alg = _digest.split(digest)[0]
    h = _digest.new_hasher(alg)
    h.update(data)
    if f"{alg}:{h.hexdigest()}" != digest or len(data) != size:
        raise DataLoss(f"blob {digest} from {client.host}: content does not match its digest")
    return data


# Go's known GOOS and GOARCH values (containerd checks a lone word against them)
_KNOWN_OS = frozenset(("aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos",
                       "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris",
                       "windows", "zos"))  # fmt: skip
_KNOWN_ARCH = frozenset(("386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be",
                         "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32",
                         "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv", "riscv64", "s390",
                         "s390x", "sparc", "sparc64", "wasm"))  # fmt: skip


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """containerd's normalizeArch: Docker's aliases for architectures and their variants."""
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        return "arm64", "v8" if variant in ("8", "v8") else variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            return "arm", "v7"
        if variant in ("5", "6", "8"):
            return "arm", "v" + variant
    return arch, variant


def _component_ok(part: str) -> bool:
    return bool(part) and part.isascii() and all(c.isalnum() or c in "_-" for c in part)


def parse_platform(spec: str, host: tuple[str, str, str] = ("linux", "amd64", "")):
    """`--platform` as Docker (containerd's platforms.Parse) reads it: `os/arch[/variant]`,
    `os` or `arch` alone (the rest from `host`), with its aliases (x86_64, aarch64, armhf...).
    InvalidArgument with Docker's messages."""
    if "*" in spec:
        raise InvalidArgument(f'"{spec}": wildcards not yet supported: invalid argument')
    parts = spec.split("/")
    for part in parts:
        if not _component_ok(part):
            raise InvalidArgument(
                f'"{part}" is an invalid component of "{spec}": platform specifier component '
                'must match "^[A-Za-z0-9_-]+$": invalid argument'
            )
    if len(parts) == 1:
        os_ = parts[0].lower()
        os_ = "darwin" if os_ == "macos" else os_
        if os_ in _KNOWN_OS:
            return os_, host[1], host[2] if os_ == host[0] else ""
        arch, variant = _normalize_arch(parts[0], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        if arch in _KNOWN_ARCH:
            return host[0], arch, variant
        raise InvalidArgument(f'"{spec}": unknown operating system or architecture: '
                              "invalid argument")  # fmt: skip
    if len(parts) > 3:
        raise InvalidArgument(f'"{spec}": cannot parse platform specifier: invalid argument')
    os_ = parts[0].lower()
    os_ = "darwin" if os_ == "macos" else os_
    arch, variant = _normalize_arch(parts[1], parts[2] if len(parts) == 3 else "")
    if len(parts) == 2 and arch == "arm" and variant == "v7":
        variant = ""  # v7 is arm's default: not asked for explicitly
    return os_, arch, variant


def _default_variant(arch: str) -> str:
    return {"arm64": "v8", "arm": "v7"}.get(arch, "")


def pick_platform(index, want: tuple[str, str, str]):
    """The descriptor of `index` for platform `want` (os, arch, variant); NotFound if none.

    An entry without a variant matches any wanted variant, as does the architecture's
    default variant (arm64 -> v8); an exact variant match is preferred.
    """
    os_, arch, variant = want
    best = None
    for d in index.manifests:
        p = d.platform
        if d.media_type not in mt.MANIFESTS | mt.INDEXES or p is None:
            continue
        if p.os != os_ or p.architecture != arch:
            continue
        if p.variant == variant or (not variant and p.variant == _default_variant(arch)):
            return d
        if best is None and (not p.variant or not variant):
            best = d
    if best is not None:
        return best
    plat = "/".join(x for x in want if x)
    raise NotFound(f"no matching manifest for {plat} in the manifest list entries")
