"""Removing images like Docker: untag by name, delete by id, prune dangling or unused images.

Only records change here; the caller runs GC afterwards so the disk space comes back.
"""

from dockyard.errors import Conflict, NotFound
from dockyard.images.query import familiar, resolve_ref
from dockyard.metadata.records import ImageRecord


def _user(user: object) -> str:
    """The container id `in_use` named (12 characters and a space), or "" when it only said yes."""
    return f"{str(user)[:12]} " if isinstance(user, str) else ""


def _short(image_id: str) -> str:
    from dockyard.digest import short_id

    return short_id(image_id)


def _children(meta, image_id: str) -> list[str]:
    return [r.id for r in meta.list_images() if r.parent == image_id]


def _delete(meta, rec: ImageRecord, out: list[dict]) -> None:
    for rd in meta.repo_digests_for(rec.id):
        out.append({"Untagged": familiar(rd)})
    meta.delete_image(rec.id)  # its tags and repo digests go with it
    out.append({"Deleted": rec.id})


def _prune_parents(meta, rec: ImageRecord, out: list[dict]) -> None:
    """Delete the untagged ancestors nothing else builds on (Docker's `prune` of rmi)."""
    parent = rec.parent
    seen = set()
    while parent and parent not in seen:
        seen.add(parent)
        try:
            p = meta.get_image(parent)
        except NotFound:
            return
        if meta.tags_for(p.id) or _children(meta, p.id):
            return
        _delete(meta, p, out)
        parent = p.parent


def remove(meta, name_or_id: str, force: bool = False, prune: bool = True,
           in_use=lambda image_id: False) -> list[dict]:  # fmt: skip
    """Docker's ImageDelete: returns [{"Untagged": ...}, ..., {"Deleted": ...}]."""
    from dockyard import reference

    out: list[dict] = []
    with meta.transaction():
        rec, tag = resolve_ref(meta, name_or_id)
        tags = meta.tags_for(rec.id)
        if tag:
            if len(tags) > 1:
                meta.delete_tag(tag)  # other names remain: an untag is all
                return [{"Untagged": familiar(tag)}]
            user = in_use(rec.id)
            if user and not force:
                raise Conflict(
                    f'conflict: unable to remove repository reference "{name_or_id}" '
                    f"(must force) - container {_user(user)}is using its referenced image "
                    f"{_short(rec.id)}"
                )
            meta.delete_tag(tag)
            out.append({"Untagged": familiar(tag)})
            if _children(meta, rec.id):
                return out  # still a parent: the untag is all Docker does
        else:
            repos = {reference.parse(t).name for t in tags}
            if _children(meta, rec.id):
                raise Conflict(
                    f"conflict: unable to delete {_short(rec.id)} (cannot be forced) - "
                    "image has dependent child images"
                )
            if len(repos) > 1 and not force:
                raise Conflict(
                    f"conflict: unable to delete {_short(rec.id)} (must be forced) - "
                    "image is referenced in multiple repositories"
                )
            user = in_use(rec.id)
            if user and not force:
                raise Conflict(
                    f"conflict: unable to delete {_short(rec.id)} (must be forced) - "
                    f"image is being used by container {_user(user)}".rstrip()
                )
            for t in tags:
                meta.delete_tag(t)
                out.append({"Untagged": familiar(t)})
        _delete(meta, rec, out)
        if prune:
            _prune_parents(meta, rec, out)
    return out


def prune(meta, content, all: bool = False, filters: dict[str, list[str]] | None = None,
          in_use=lambda image_id: False) -> list[dict]:  # fmt: skip
    """Delete dangling images (or, with `all`, every image no container uses)."""
    from dockyard.images.query import _until, check_filters, read_labels
    from dockyard.images.timefmt import to_unix
    from dockyard.labels import matches as labels_match

    filters = check_filters(filters, frozenset({"until", "label", "label!", "dangling"}))
    if "dangling" in filters and filters["dangling"][-1].lower() in ("false", "0"):
        all = True
    until = _until(filters["until"][-1]) if "until" in filters else None
    out: list[dict] = []
    with meta.transaction():
        progress = True
        while progress:
            progress = False
            records = meta.list_images()
            parents = {r.parent for r in records if r.parent}
            for rec in records:
                tags = meta.tags_for(rec.id)
                if (tags and not all) or rec.id in parents or in_use(rec.id):
                    continue
                if until is not None and to_unix(rec.created) > until:
                    continue
                if "label" in filters or "label!" in filters:
                    labels = read_labels(content, rec.id)
                    if not labels_match(labels, filters.get("label", ())):
                        continue
                    if not labels_match(labels, filters.get("label!", ()), negate=True):
                        continue
                for t in tags:
                    meta.delete_tag(t)
                    out.append({"Untagged": familiar(t)})
                _delete(meta, rec, out)
                progress = True
    return out
