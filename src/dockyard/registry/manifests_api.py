"""Manifest, tag list, referrers and catalog requests."""

from dockyard import digest as _digest
from dockyard.errors import DockyardError, NotFound
from dockyard.oci import mediatypes as mt
from dockyard.registry import manifests
from dockyard.registry.apierrors import ApiError, from_category
from dockyard.registry.names import is_tag
from dockyard.registry.state import Registry


def _ref_arg(ref: str) -> str:
    if _digest.is_digest(ref) or is_tag(ref):
        return ref
    code = "DIGEST_INVALID" if ":" in ref else "MANIFEST_INVALID"
    raise ApiError(code, f"invalid manifest reference {ref[:200]!r}")


def _resolve(reg: Registry, name: str, ref: str) -> str:
    try:
        return reg.storage.resolve(name, _ref_arg(ref))
    except NotFound as e:
        raise ApiError("MANIFEST_UNKNOWN", str(e), detail={"reference": ref})


async def get_manifest(reg: Registry, request, name: str, ref: str):
    from aiohttp import web

    digest = _resolve(reg, name, ref)
    media_type = reg.storage.manifest_media_type(name, digest)
    headers = {"Docker-Content-Digest": digest, "ETag": f'"{digest}"', "Content-Type": media_type}
    if request.method == "HEAD":
        headers["Content-Length"] = str(reg.storage.content.size(digest))
        return web.Response(status=200, headers=headers)
    data = reg.storage.content.read(digest, max_size=max(reg.config.max_manifest_size, 64 << 20))
    return web.Response(status=200, body=data, headers=headers)


async def _read_limited(request, limit: int) -> bytes:
    length = request.content_length
    if length is not None and length > limit:
        raise ApiError("SIZE_INVALID", f"manifest is larger than the {limit} byte limit", 413)
    chunks, size = [], 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise ApiError("SIZE_INVALID", f"manifest is larger than the {limit} byte limit", 413)
        chunks.append(chunk)


async def put_manifest(reg: Registry, request, name: str, ref: str):
    from aiohttp import web

    _ref_arg(ref)
    tags = [t for t in request.query.getall("tag", [])]
    for t in tags:
        if not is_tag(t):
            raise ApiError("MANIFEST_INVALID", f"invalid tag {t[:200]!r}")
    data = await _read_limited(request, reg.config.max_manifest_size)
    storage = reg.storage
    try:
        checked = manifests.check(
            data,
            request.headers.get("Content-Type", ""),
            lambda d: storage.blob_linked(name, d),
            lambda d: bool(storage.manifest_media_type(name, d)),
        )
    except manifests.MissingReference as e:
        raise ApiError("MANIFEST_BLOB_UNKNOWN", str(e), detail={"digest": e.digest})
    except DockyardError as e:
        raise ApiError("MANIFEST_INVALID", str(e))
    if _digest.is_digest(ref):
        alg = _digest.split(ref)[0]
        h = _digest.new_hasher(alg)
        h.update(data)
        digest = f"{alg}:{h.hexdigest()}"
        if digest != ref:
            raise ApiError("DIGEST_INVALID", f"manifest hashes to {digest}, not {ref}")
    else:
        digest = _digest.sha256_bytes(data)
        tags.insert(0, ref)
    referrer = None
    if checked.subject:
        referrer = (checked.subject, checked.referrer_descriptor(digest, len(data)))
    storage.put_manifest(name, data, checked.media_type, digest, tuple(tags), referrer)
    headers = {"Location": f"/v2/{name}/manifests/{digest}", "Docker-Content-Digest": digest}
    if checked.subject:
        headers["OCI-Subject"] = checked.subject
    if request.query.getall("tag", []):
        headers["OCI-Tag"] = ", ".join(request.query.getall("tag"))
    return web.Response(status=201, headers=headers)


async def delete_manifest(reg: Registry, request, name: str, ref: str):
    from aiohttp import web

    _ref_arg(ref)
    try:
        if _digest.is_digest(ref):
            reg.storage.delete_manifest(name, ref)
        else:
            reg.storage.delete_tag(name, ref)
    except NotFound as e:
        raise ApiError("MANIFEST_UNKNOWN", str(e), detail={"reference": ref})
    return web.Response(status=202)


_DIGITS = frozenset("0123456789")


def _page(reg: Registry, request, items: list[str], default_n: int | None):
    """Apply `last` and `n` (clamped); return the page and the `last` of the next page."""
    last = request.query.get("last")
    if last:
        import bisect

        items = items[bisect.bisect_right(items, last) :]
    limit = reg.config.max_page_entries
    n_arg = request.query.get("n")
    n = default_n
    if n_arg:
        if not _DIGITS.issuperset(n_arg):
            raise ApiError("PAGINATION_NUMBER_INVALID", f"invalid n {n_arg[:40]!r}")
        n = limit if len(n_arg) > 18 else min(int(n_arg), limit)
    if n is None or len(items) <= n:
        return items, None
    page = items[:n]
    return page, (page[-1] if page else None)


def _link(path: str, n: int, last: str) -> str:
    from urllib.parse import urlencode

    return f'<{path}?{urlencode({"last": last, "n": n})}>; rel="next"'


def _json(body: dict, headers: dict | None = None, content_type: str = "application/json"):
    import json

    from aiohttp import web

    return web.Response(
        body=json.dumps(body).encode(), headers={"Content-Type": content_type, **(headers or {})}
    )


async def list_tags(reg: Registry, request, name: str):
    try:
        tags = reg.storage.tags(name)
    except NotFound as e:
        raise ApiError("NAME_UNKNOWN", str(e), detail={"name": name})
    page, nxt = _page(reg, request, tags, None)
    headers = {}
    if nxt is not None and page:
        headers["Link"] = _link(f"/v2/{name}/tags/list", len(page), nxt)
    return _json({"name": name, "tags": page}, headers)


async def catalog(reg: Registry, request, user: str):
    repos = reg.storage.repositories()
    if reg.authorizer is not None:
        repos = [r for r in repos if reg.authorizer.allowed(user, r, "pull")]
    # Without `n` the page is still bounded: the client follows the Link header.
    page, nxt = _page(reg, request, repos, reg.config.max_page_entries)
    headers = {}
    if nxt is not None and page:
        headers["Link"] = _link("/v2/_catalog", len(page), nxt)
    return _json({"repositories": page}, headers)


async def referrers(reg: Registry, request, name: str, ref: str):
    if not _digest.is_digest(ref):
        raise ApiError("DIGEST_INVALID", f"invalid digest {ref[:200]!r}")
    import json

    wanted = request.query.get("artifactType")
    descs = []
    for raw in reg.storage.referrers(name, ref) if reg.storage.repo_exists(name) else []:
        try:
            desc = json.loads(raw)
        except ValueError:
            continue
        if wanted is None or desc.get("artifactType") == wanted:
            descs.append(desc)
    headers = {"OCI-Filters-Applied": "artifactType"} if wanted is not None else {}
    body = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": descs}
    return _json(body, headers, mt.OCI_INDEX)


def translate(e: DockyardError) -> ApiError:
    return from_category(e, "MANIFEST_UNKNOWN", "MANIFEST_INVALID")
