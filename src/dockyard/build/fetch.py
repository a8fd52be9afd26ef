"""`ADD http(s)://...`: one download into a private temp file, hashed while it is written.

The body is read in 1 MiB chunks and stops at a size limit (a larger Content-Length is
refused before reading). Redirects are followed only to the same scheme, host and port —
a server cannot send the builder to another address (a metadata service, a host on the
inside). The file's name comes from the URL path, its mtime from Last-Modified, and a
`--checksum` is checked before anything is used.
"""

import os

from dockyard.errors import InvalidArgument, Unavailable, Unsupported

CHUNK = 1 << 20
MAX_REDIRECTS = 10
DEFAULT_LIMIT = 4 << 30
CHECKSUM_ALGOS = ("sha256", "sha384", "sha512")


class Download:
    __slots__ = ("digest", "mtime", "name", "path")

    def __init__(self, path: str, name: str, mtime: int | None, digest: str):
        self.path = path  # the temp file
        self.name = name  # file name from the URL path ("" when it has none)
        self.mtime = mtime  # seconds, from Last-Modified
        self.digest = digest  # "sha256:..."


def is_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def is_git(src: str) -> bool:
    low = src.lower()
    return low.startswith(("git@", "git://", "ssh://")) or (
        is_url(src) and (low.split("#", 1)[0].endswith(".git") or "#" in src)
    )


def check_checksum(text: str, line: int) -> tuple[str, str]:
    """(algorithm, hex) of a --checksum value, or InvalidArgument naming the line."""
    algo, colon, hexdigest = text.partition(":")
    sizes = {"sha256": 64, "sha384": 96, "sha512": 128}
    if (
        not colon
        or algo not in CHECKSUM_ALGOS
        or len(hexdigest) != sizes[algo]
        or any(c not in "0123456789abcdef" for c in hexdigest)
    ):
        raise InvalidArgument(
            f"Dockerfile:{line}: invalid checksum {text!r}: want sha256:<64 hex digits>"
        )
    return algo, hexdigest


def url_name(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(url).path)
    return path.rstrip("/").rsplit("/", 1)[-1] if path.strip("/") else ""


def download(url: str, work_dir: str, limit: int, line: int, checksum: str = "") -> Download:
    """Fetch `url` into a new file in `work_dir`; errors name the Dockerfile line."""
    import hashlib
    from urllib.parse import urljoin

    where = f"Dockerfile:{line}: ADD {url}"
    origin = _origin(url)
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        conn, resp = _request(current, where)
        try:
            if resp.status in (301, 302, 303, 307, 308):
                loc = resp.getheader("Location") or ""
                nxt = urljoin(current, loc)
                if _origin(nxt) != origin:
                    raise Unsupported(f"{where}: redirect to another host is not followed: {nxt}")
                current = nxt
                continue
            if resp.status != 200:
                raise Unavailable(f"{where}: server answered {resp.status} {resp.reason}")
            length = resp.getheader("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                raise InvalidArgument(f"{where}: the file is larger than the limit ({limit} bytes)")
            algo = check_checksum(checksum, line)[0] if checksum else "sha256"
            h = hashlib.new(algo)
            sha = hashlib.sha256() if algo != "sha256" else h
            path = os.path.join(work_dir, "dl-" + os.urandom(8).hex())
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            total = 0
            try:
                while data := resp.read(CHUNK):
                    total += len(data)
                    if total > limit:
                        raise InvalidArgument(
                            f"{where}: the file is larger than the limit ({limit} bytes)"
                        )
                    h.update(data)
                    if sha is not h:
                        sha.update(data)
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
            except BaseException:
                os.close(fd)
                os.unlink(path)
                raise
            os.close(fd)
            if checksum and f"{algo}:{h.hexdigest()}" != checksum:
                os.unlink(path)
                raise InvalidArgument(
                    f"{where}: checksum mismatch: expected {checksum}, got {algo}:{h.hexdigest()}"
                )
            mtime = _mtime(resp.getheader("Last-Modified"))
            return Download(path, url_name(url), mtime, "sha256:" + sha.hexdigest())
        finally:
            conn.close()
    raise Unavailable(f"{where}: too many redirects")


def _origin(url: str) -> tuple[str, str, int | None]:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    try:
        port = u.port or (443 if u.scheme == "https" else 80)
    except ValueError:
        raise InvalidArgument(f"invalid URL {url!r}") from None
    return u.scheme, (u.hostname or "").lower(), port


def _request(url: str, where: str):
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise InvalidArgument(f"{where}: unsupported URL {url!r}")
    target = (u.path or "/") + (f"?{u.query}" if u.query else "")
    try:
        if u.scheme == "https":
            import ssl

            conn = http.client.HTTPSConnection(
                u.hostname, u.port, timeout=60, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        conn.request("GET", target, headers={"User-Agent": "dockyard-build"})
        return conn, conn.getresponse()
    except (OSError, http.client.HTTPException) as e:
        raise Unavailable(f"{where}: {e}") from None


def _mtime(header: str | None) -> int | None:
    if not header:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return int(parsedate_to_datetime(header).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
