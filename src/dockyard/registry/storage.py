"""RegistryStorage: repositories, their blob links, manifests, tags and referrers on disk.

    <root>/content/blobs/<alg>/<hex>                       every blob and manifest, shared
    <root>/repositories/<name>/_layers/<alg>/<hex>         blob linked into a repository
    <root>/repositories/<name>/_manifests/revisions/<alg>/<hex>   media type of a manifest
    <root>/repositories/<name>/_manifests/tags/<tag>       digest the tag points at
    <root>/repositories/<name>/_referrers/<alg>/<subject hex>/<alg>.<hex>   referrer descriptor

Repository components never start with "_", so these directories cannot collide with a
nested repository. Every file is written with temp + fsync + rename; a blob is visible only
once complete and verified, and a link is written only after its blob.
"""

import os

from dockyard import digest as _digest
from dockyard.content import ContentStore
from dockyard.errors import NotFound
from dockyard.registry import fsutil
from dockyard.registry.names import validate_repository, validate_tag

LAYERS = "_layers"
MANIFESTS = "_manifests"
REFERRERS = "_referrers"


class RegistryStorage:
    def __init__(self, root: str):
        self.root = root
        self.content = ContentStore(os.path.join(root, "content"))
        self.repos_dir = os.path.join(root, "repositories")

    # -- paths (every caller-supplied part is validated before it becomes a path)

    def repo_dir(self, name: str) -> str:
        return os.path.join(self.repos_dir, validate_repository(name))

    def _digest_path(self, name: str, kind: str, digest: str) -> str:
        alg, hexpart = _digest.split(digest)
        return os.path.join(self.repo_dir(name), kind, alg, hexpart)

    def _revision_path(self, name: str, digest: str) -> str:
        alg, hexpart = _digest.split(digest)
        return os.path.join(self.repo_dir(name), MANIFESTS, "revisions", alg, hexpart)

    def _tag_path(self, name: str, tag: str) -> str:
        return os.path.join(self.repo_dir(name), MANIFESTS, "tags", validate_tag(tag))

    def _referrers_dir(self, name: str, subject: str) -> str:
        alg, hexpart = _digest.split(subject)
        return os.path.join(self.repo_dir(name), REFERRERS, alg, hexpart)

    def repo_exists(self, name: str) -> bool:
        return os.path.isdir(self.repo_dir(name))

    # -- blobs

    def blob_path(self, digest: str) -> str:
        return self.content.path(digest)

    def has_blob(self, digest: str) -> bool:
        return self.content.has(digest)

    def blob_linked(self, name: str, digest: str) -> bool:
        """True if `digest` is a blob of repository `name` (linked there and stored)."""
        return os.path.exists(self._digest_path(name, LAYERS, digest)) and self.has_blob(digest)

    def link_blob(self, name: str, digest: str) -> None:
        path = self._digest_path(name, LAYERS, digest)
        if not os.path.exists(path):
            fsutil.write_atomic(path, b"")

    def unlink_blob(self, name: str, digest: str) -> None:
        if not fsutil.remove(self._digest_path(name, LAYERS, digest)):
            raise NotFound(f"blob {digest} is not in {name}")

    # -- manifests

    def put_manifest(
        self,
        name: str,
        data: bytes,
        media_type: str,
        digest: str,
        tags: tuple[str, ...] = (),
        referrer: tuple[str, bytes] | None = None,
    ) -> None:
        """Store a validated manifest; `referrer` = (subject digest, descriptor JSON)."""
        self.content.put(data, digest)
        fsutil.write_atomic(self._revision_path(name, digest), media_type.encode())
        if referrer is not None:
            subject, desc = referrer
            path = os.path.join(self._referrers_dir(name, subject), digest.replace(":", "."))
            fsutil.write_atomic(path, desc)
        for tag in tags:
            fsutil.write_atomic(self._tag_path(name, tag), digest.encode())

    def resolve(self, name: str, ref: str) -> str:
        """The digest of a manifest given by tag or digest; NotFound if the repo lacks it."""
        if _digest.is_digest(ref):
            digest = ref
        else:
            raw = fsutil.read_small(self._tag_path(name, ref), 256)
            if raw is None:
                raise NotFound(f"manifest {name}:{ref} not found")
            digest = raw.decode()
        if not self.manifest_media_type(name, digest):
            raise NotFound(f"manifest {name}@{digest} not found")
        return digest

    def manifest_media_type(self, name: str, digest: str) -> str:
        """The stored media type of a manifest in `name`, or "" if it is not there."""
        raw = fsutil.read_small(self._revision_path(name, digest), 1024)
        if raw is None or not self.has_blob(digest):
            return ""
        return raw.decode()

    def delete_manifest(self, name: str, digest: str) -> None:
        """Remove a manifest from a repository, with the tags pointing at it and its referrer."""
        if not self.manifest_media_type(name, digest):
            raise NotFound(f"manifest {name}@{digest} not found")
        subject = _subject_of(self.content.read(digest, max_size=64 << 20))
        tags_dir = os.path.join(self.repo_dir(name), MANIFESTS, "tags")
        for tag in fsutil.listdir(tags_dir):
            path = os.path.join(tags_dir, tag)
            if fsutil.read_small(path, 256) == digest.encode():
                fsutil.remove(path)
        if subject:
            fsutil.remove(
                os.path.join(self._referrers_dir(name, subject), digest.replace(":", "."))
            )
        fsutil.remove(self._revision_path(name, digest))

    def delete_tag(self, name: str, tag: str) -> None:
        if not fsutil.remove(self._tag_path(name, tag)):
            raise NotFound(f"manifest {name}:{tag} not found")

    def tags(self, name: str) -> list[str]:
        if not self.repo_exists(name):
            raise NotFound(f"repository {name} not found")
        tags_dir = os.path.join(self.repo_dir(name), MANIFESTS, "tags")
        return sorted(t for t in fsutil.listdir(tags_dir) if not t.startswith("."))

    def referrers(self, name: str, subject: str) -> list[bytes]:
        """The stored descriptors (JSON) of the manifests that name `subject` as their subject."""
        d = self._referrers_dir(name, subject)
        out = []
        for entry in sorted(fsutil.listdir(d)):
            if entry.startswith("."):
                continue
            raw = fsutil.read_small(os.path.join(d, entry), 1 << 20)
            if raw is not None and self.manifest_media_type(name, entry.replace(".", ":", 1)):
                out.append(raw)
        return out

    # -- repositories

    def repositories(self) -> list[str]:
        """Every repository name, sorted."""
        out: list[str] = []
        self._walk(self.repos_dir, "", out)
        out.sort()
        return out

    def _walk(self, path: str, prefix: str, out: list[str]) -> None:
        try:
            entries = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError):
            return
        names = {e.name for e in entries}
        if prefix and (LAYERS in names or MANIFESTS in names):
            out.append(prefix)
        for e in entries:
            if not e.name.startswith("_") and e.is_dir(follow_symlinks=False):
                self._walk(e.path, f"{prefix}/{e.name}" if prefix else e.name, out)


def _subject_of(data: bytes) -> str:
    import json

    try:
        obj = json.loads(data)
        subject = obj.get("subject") if isinstance(obj, dict) else None
        d = subject.get("digest", "") if isinstance(subject, dict) else ""
    except (ValueError, AttributeError):
        return ""
    return d if isinstance(d, str) and _digest.is_digest(d) else ""
