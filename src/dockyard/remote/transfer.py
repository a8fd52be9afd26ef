"""Moving blobs: resumed, verified downloads into the content store; HEAD, mount and upload.

A download writes through a content-store writer named after the digest, so an interrupted
pull leaves a partial ingest that the next attempt (in this process or a later one) continues
with a `Range` request. The writer checks size and digest before the blob becomes visible;
a blob whose bytes do not match is thrown away and reported as DataLoss.
"""

import time

from dockyard.errors import DataLoss, InvalidArgument, Unavailable

CHUNK = 1 << 20
ATTEMPTS = 5
BUSY_WAIT = 600.0  # how long to wait for another process downloading the same blob


def ingest_ref(digest: str) -> str:
    return "pull-" + digest


def _content_range_start(value: str) -> int:
    # "bytes 100-199/200"
    try:
        return int(value.split()[1].partition("-")[0])
    except (IndexError, ValueError):
        return -1


def download_blob(
    client, content, digest: str, size: int, progress=None, tee=None, durable: bool = True
) -> bool:
    """Fetch blob `digest` into `content` unless it is there; True if it was downloaded.

    `progress(done, total)` is called as bytes arrive. Connection failures resume from what
    is stored; a wrong blob raises DataLoss and keeps nothing. `tee` (`put(chunk)`,
    `cancel()`) sees every byte when the blob arrives in one piece from its first byte; it is
    cancelled when that does not happen (a resumed or restarted download). `durable=False`:
    stored without its own flush (the caller flushes once, content/durable.py).
    """
    from dockyard.remote.http import TransportError

    if content.has(digest):
        return False
    ref = ingest_ref(digest)
    attempt = 0
    while True:
        w = _writer(content, ref, digest, size)
        if w is None:
            return False  # another process finished it meanwhile
        try:
            if tee is not None and w.offset:
                tee.cancel()  # resuming: the tee would miss the start
                tee = None
            if w.offset < size:
                _fetch_into(client, w, digest, size, progress, tee)
            try:
                w.commit(durable=durable)
            except InvalidArgument as e:
                raise DataLoss(
                    f"blob {digest} from {client.host}: content does not match its digest ({e})"
                )
            return True
        except (Unavailable, TransportError) as e:
            if tee is not None:
                tee.cancel()
                tee = None
            if attempt + 1 >= ATTEMPTS:
                raise Unavailable(f"downloading {digest}: {e}") from None
            time.sleep(client.backoff * (2**attempt))
            attempt += 1
        finally:
            if not w.closed:
                w.close()  # keep the partial data for the next attempt


def _writer(content, ref: str, digest: str, size: int):
    """The writer for `ref`; while another process holds it, wait for it (or its blob)."""
    deadline = time.monotonic() + BUSY_WAIT
    delay = 0.05
    while True:
        try:
            return content.writer(ref, digest, size)
        except Unavailable:
            if content.has(digest):
                return None
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _fetch_into(client, w, digest: str, size: int, progress, tee=None) -> None:
    headers = {"Accept-Encoding": "identity"}
    if w.offset:
        headers["Range"] = f"bytes={w.offset}-"
    r = client.request("GET", f"blobs/{digest}", headers=headers, stream=True, ok=(200, 206),
                       what=f"blob {digest}")  # fmt: skip
    try:
        if r.status_code == 200 and w.offset:
            # The registry ignored the Range: start again from the first byte.
            w.abort()
            raise _Restart()
        if r.status_code == 206 and _content_range_start(r.headers.get("content-range", "")) != (
            w.offset
        ):
            w.abort()
            raise _Restart()
        for chunk in r.iter_raw():  # as received: a chunker would lose its buffer on a cut
            if w.offset + len(chunk) > size:
                w.abort()
                raise DataLoss(f"blob {digest} from {client.host}: longer than its {size} bytes")
            w.write(chunk)
            if tee is not None:
                tee.put(chunk)
            if progress is not None:
                progress(w.offset, size)
    finally:
        r.close()
    if w.offset != size:
        raise Unavailable(f"blob {digest}: the connection ended after {w.offset} of {size} bytes")


class _Restart(Unavailable):
    """The partial data could not be continued; the next attempt starts from zero."""

    def __init__(self):
        super().__init__("the registry did not continue the partial download")


# -- pushing ----------------------------------------------------------------------------


def blob_exists(client, digest: str) -> bool:
    r = client.request("HEAD", f"blobs/{digest}", ok=(200, 404), what=f"blob {digest}")
    return r.status_code == 200


def blobs_exist(client, digests: list[str], tag: str = "") -> tuple[list[bool], str]:
    """HEAD several blobs at once, and the manifest `tag` with them when given.

    Returns which blobs exist and the digest the registry says `tag` has ("" if none). That
    header is only good for deciding to skip a manifest upload the registry would not need,
    never for checking content.
    """
    from dockyard.remote.manifests import ACCEPT

    paths = [f"blobs/{d}" for d in digests] + ([f"manifests/{tag}"] if tag else [])
    # Without the manifest types in Accept, a registry may deny having an OCI manifest.
    headers = {"Accept": ACCEPT} if tag else {}
    if len(paths) < 2:
        responses = [client.request("HEAD", p, headers=headers, ok=(200, 404)) for p in paths]
    else:
        responses = client.request_many("HEAD", paths, (200, 404), headers)
    exist = [r.status_code == 200 for r in responses[: len(digests)]]
    remote = ""
    if tag and responses[-1].status_code == 200:
        remote = responses[-1].headers.get("docker-content-digest", "")
    return exist, remote


def manifest_digest(client, tag: str) -> str:
    """The digest the registry says `tag` has ("" when it has no such tag), asked with a HEAD
    that goes out together with the first ping. Good for skipping an upload the registry
    would not need, never for checking content."""
    (r,) = client.request_many("HEAD", *_manifest_head(tag))
    return r.headers.get("docker-content-digest", "") if r.status_code == 200 else ""


def start_manifest_digest(client, tag: str) -> None:
    """Send `manifest_digest`'s HEAD (with the ping) now; the answer is read when it is
    called, so the caller's local work overlaps the round trip."""
    paths, _, headers = _manifest_head(tag)
    client.start_early("HEAD", paths, headers)


def _manifest_head(tag: str) -> tuple[list[str], tuple[int, ...], dict]:
    from dockyard.remote.manifests import ACCEPT

    # Without the manifest types in Accept, a registry may deny having an OCI manifest.
    return [f"manifests/{tag}"], (200, 404), {"Accept": ACCEPT}


def try_mount(client, digest: str, source_repo: str) -> str:
    """Ask the registry to mount `digest` from `source_repo`: "" if mounted, else an upload URL."""
    from urllib.parse import quote

    client.add_scope(f"repository:{source_repo}:pull")
    path = f"blobs/uploads/?mount={quote(digest)}&from={quote(source_repo, safe='/')}"
    r = client.request("POST", path, ok=(201, 202), what=f"mount of {digest}")
    if r.status_code == 201:
        return ""
    return r.headers.get("location", "")


def start_upload(client) -> str:
    r = client.request("POST", "blobs/uploads/", ok=(202,), what="starting an upload")
    location = r.headers.get("location", "")
    if not location:
        raise Unavailable(f"{client.host}: the upload was started without a Location")
    return location


def _with_digest(location: str, digest: str) -> str:
    from urllib.parse import quote

    sep = "&" if "?" in location else "?"
    return f"{location}{sep}digest={quote(digest)}"


def upload_file(client, location: str, path: str, digest: str, size: int, progress=None) -> None:
    """Send the file at `path` in one PUT to the upload `location`, finishing it as `digest`."""

    def body():
        sent = 0
        with open(path, "rb") as f:
            while True:
                chunk = f.read(CHUNK)
                if not chunk:
                    return
                sent += len(chunk)
                if progress is not None:
                    progress(sent, size)
                yield chunk

    if location.startswith("/"):
        location = client.base + location
    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
    client.request("PUT", _with_digest(location, digest), headers=headers, body=body,
                   ok=(201, 204), what=f"upload of {digest}")  # fmt: skip


def upload_bytes(client, location: str, data: bytes, digest: str) -> None:
    if location.startswith("/"):
        location = client.base + location
    headers = {"Content-Type": "application/octet-stream"}
    client.request("PUT", _with_digest(location, digest), headers=headers, body=data,
                   ok=(201, 204), what=f"upload of {digest}")  # fmt: skip


def compress_blob(content, digest: str, size: int, lease) -> tuple[str, int]:
    """Gzip the stored (uncompressed) blob `digest` into the store; return (digest, size).

    The source is verified while it is read; equal input gives equal bytes (no name, mtime 0),
    so the same layer always compresses to the same blob.
    """
    import os

    from dockyard.archive.compression import open_writer
    from dockyard.content.verify import VerifyingReader

    w = content.writer("push-gzip-" + os.urandom(12).hex())
    try:
        gz = open_writer(w, "gzip")
        with content.open(digest) as raw:
            src = VerifyingReader(raw, digest, size)
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            while True:
                n = src.readinto(buf)
                if not n:
                    break
                gz.write(view[:n])
        gz.close()
        n = w.offset
        out = w.commit()
        lease.add("content", out)  # the shared GC lock is held: nothing collects it meanwhile
        return out, n
    finally:
        if not w.closed:
            w.abort()
