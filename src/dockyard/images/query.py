"""Finding images: name resolution like Docker's, and the image list with its filters.

`list` reads only the metadata database and, for labels, each image's small config file
(read raw, not re-verified: it was verified when stored and the summary decides nothing).
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument, NotFound
from dockyard.labels import matches as labels_match
from dockyard.metadata.records import ImageRecord

TYPE_CHECKING = False
if TYPE_CHECKING:  # the summaries' type: loaded when listing, not when resolving a name
    from dockyard.images.dockerjson import ImageSummary

_HEX = frozenset("0123456789abcdef")
LIST_FILTERS = frozenset({"dangling", "reference", "label", "before", "since", "until"})


def familiar(full: str) -> str:
    """Docker's short form of a stored full reference ("docker.io/library/x:1" -> "x:1")."""
    if full.startswith("docker.io/"):
        rest = full[10:]
        if rest.startswith("library/"):
            short = rest[8:]
            name = short.partition("@")[0].partition(":")[0]
            if "/" not in name:
                return short
        return rest
    if full.partition("/")[0] in ("docker.io", "index.docker.io") or "/" not in full:
        from dockyard import reference

        return reference.parse(full).familiar()
    return full


def resolve_ref(meta, name_or_id: str) -> tuple[ImageRecord, str]:
    """(image, tag name it was found by or "") for a tag, name@digest, full id or id prefix."""
    from dockyard import reference

    s = name_or_id.strip()
    if not s:
        raise InvalidArgument("invalid reference format: empty image name")
    if s.startswith("sha256:"):
        return meta.get_image(meta.resolve_image_prefix(s)), ""
    if reference.is_full_id(s):
        return meta.get_image("sha256:" + s), ""
    shown = s
    try:
        ref = reference.parse_normalized(s)
    except InvalidArgument:
        if not _HEX.issuperset(s):
            raise
        ref = None
    if ref is not None:
        if ref.digest:
            shown = ref.familiar()
            found = _by_digest(meta, ref)
            if found is not None:
                return found, ""
        else:
            tagged = ref if ref.tag else ref.with_tag("latest")
            shown = tagged.familiar()
            try:
                return meta.get_image(meta.get_tag(str(tagged))), str(tagged)
            except NotFound:
                pass
    if _HEX.issuperset(s):
        try:
            return meta.get_image(meta.resolve_image_prefix(s)), ""
        except NotFound:
            pass
    raise NotFound(f"No such image: {shown}")


def _by_digest(meta, ref) -> ImageRecord | None:
    """name@digest: a recorded repo digest, or an image whose manifest has that digest."""
    want = str(ref)
    for rec in meta.list_images():
        if rec.manifest_digest == ref.digest or want in meta.repo_digests_for(rec.id):
            return rec
    return None


def read_labels(content, image_id: str) -> dict[str, str]:
    import os

    try:
        fd = os.open(content.path(image_id), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return {}
    try:
        data = os.read(fd, 16 << 20)
    finally:
        os.close(fd)
    if b'"Labels"' not in data:
        return {}  # most images: no need to parse the config at all
    import json

    try:
        obj = json.loads(data)
    except ValueError:
        return {}
    cfg = obj.get("config") if isinstance(obj, dict) else None
    labels = cfg.get("Labels") if isinstance(cfg, dict) else None
    if isinstance(labels, dict):
        return {str(k): str(v) for k, v in labels.items()}
    return {}


def _path_match(pattern: str, name: str) -> bool:
    """Go's path.Match: `*` and `?` never cross '/', `[...]` classes (`[^...]` negated)."""
    import re

    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            j = pattern.find("]", i + 2)
            if j < 0:
                raise InvalidArgument(f"syntax error in pattern {pattern!r}")
            body = pattern[i + 1 : j].replace("\\", "\\\\")
            out.append("[" + body + "]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.fullmatch("".join(out), name) is not None


def reference_matches(pattern: str, full_tag: str) -> bool:
    """Docker's reference filter: match the familiar `name:tag`, then the familiar name."""
    from dockyard import reference

    ref = reference.parse(full_tag)
    return _path_match(pattern, ref.familiar()) or _path_match(pattern, ref.familiar_name())


def _bool_filter(values: list[str], key: str) -> bool:
    v = values[-1].lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise InvalidArgument(f"Invalid filter '{key}={values[-1]}'")


def _until(value: str) -> float:
    """`until`: a unix time, an RFC 3339 time or a duration before now ("24h")."""
    import time

    from dockyard.images.timefmt import to_unix

    try:
        return float(value)
    except ValueError:
        pass
    if "T" in value or "-" in value:
        t = to_unix(value if "T" in value else value + "T00:00:00Z")
        if t:
            return float(t)
    from dockyard.images.changes import _duration_ns

    return time.time() - _duration_ns(value) / 1e9


def check_filters(
    filters: dict[str, list[str]] | None, allowed=LIST_FILTERS
) -> dict[str, list[str]]:
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    for key in filters:
        if key not in allowed:
            raise InvalidArgument(f"invalid filter '{key}'")
    return filters


def summaries(
    meta, content, all: bool = False, filters: dict[str, list[str]] | None = None
) -> list[ImageSummary]:
    from dockyard.images.timefmt import to_unix_ns

    filters = check_filters(filters)
    records = meta.list_images()
    by_id: dict[str, list[str]] = {}
    for name, image_id in meta.list_tags().items():
        by_id.setdefault(image_id, []).append(name)
    parents = {r.parent for r in records if r.parent}
    created = {r.id: to_unix_ns(r.created) for r in records}
    before = since = None
    if "before" in filters:
        before = created[resolve_ref(meta, filters["before"][-1])[0].id]
    if "since" in filters:
        since = created[resolve_ref(meta, filters["since"][-1])[0].id]
    until = _until(filters["until"][-1]) * 1e9 if "until" in filters else None
    dangling = _bool_filter(filters["dangling"], "dangling") if "dangling" in filters else None
    from dockyard.images.dockerjson import ImageSummary

    out: list[ImageSummary] = []
    for rec in records:
        tags = by_id.get(rec.id, [])
        if dangling is not None and dangling != (not tags):
            continue
        if not all and not tags and rec.id in parents:
            continue  # an intermediate image: only `--all` shows it
        c = created[rec.id]
        if (before is not None and c >= before) or (since is not None and c <= since):
            continue
        if until is not None and c > until:
            continue
        if "reference" in filters:
            tags = [t for t in tags if any(reference_matches(p, t) for p in filters["reference"])]
            if not tags:
                continue
        labels = read_labels(content, rec.id)
        if "label" in filters and not labels_match(labels, filters["label"]):
            continue
        out.append(
            ImageSummary(
                Id=rec.id,
                ParentId=rec.parent,
                RepoTags=[familiar(t) for t in tags],
                RepoDigests=[familiar(d) for d in meta.repo_digests_for(rec.id)],
                Created=c // 1_000_000_000,
                Size=rec.size,
                SharedSize=-1,
                Labels=labels,
                Containers=-1,
            )
        )
    out.sort(key=lambda s: (created[s.Id], s.Id), reverse=True)
    return out
