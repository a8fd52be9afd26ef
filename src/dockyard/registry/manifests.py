"""Checking a pushed manifest or index before it is stored (no I/O beyond the callbacks).

The document must parse as the media type it is pushed as (or, without one, as the type it
declares or implies); a document that could be read as both a manifest and an index is
refused. Everything it references must already be in the repository, except its `subject`
(a referrer may be pushed before the thing it refers to) and layers fetched from `urls`.
"""

from dataclasses import dataclass

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.oci import mediatypes as mt
from dockyard.oci.manifest import Index, Manifest, detect_media_type, parse_index, parse_manifest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class MissingReference(Exception):
    """A descriptor of the document points at something the repository does not have."""

    def __init__(self, digest: str):
        super().__init__(f"manifest references {digest}, which is not in the repository")
        self.digest = digest


@dataclass(frozen=True)
class Checked:
    media_type: str
    doc: Manifest | Index

    @property
    def subject(self) -> str:
        return self.doc.subject.digest if self.doc.subject is not None else ""

    def artifact_type(self) -> str:
        """The referrers API's artifactType: the document's own, else a manifest's config type."""
        if self.doc.artifact_type:
            return self.doc.artifact_type
        if isinstance(self.doc, Manifest):
            return self.doc.config.media_type
        return ""

    def referrer_descriptor(self, digest: str, size: int) -> bytes:
        import json

        desc: dict = {"mediaType": self.media_type, "digest": digest, "size": size}
        at = self.artifact_type()
        if at:
            desc["artifactType"] = at
        if self.doc.annotations:
            desc["annotations"] = dict(self.doc.annotations)
        return json.dumps(desc, separators=(",", ":")).encode()


def check(
    data: bytes,
    content_type: str,
    has_blob: "Callable[[str], bool]",
    has_manifest: "Callable[[str], bool]",
) -> Checked:
    """Parse and check a pushed document; InvalidArgument/Unsupported or MissingReference."""
    try:
        return _check(data, content_type, has_blob, has_manifest)
    except RecursionError:
        # json refuses absurd nesting this way; it is bad input, not a server fault.
        raise InvalidArgument("manifest: JSON nested too deeply")


def _check(data: bytes, content_type: str, has_blob, has_manifest) -> Checked:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in ("", "application/json", "application/octet-stream"):
        media_type = detect_media_type(data)
    # parse_manifest refuses "manifests" and parse_index refuses "config"/"layers", so a
    # document that could be read either way is refused whatever it is pushed as.
    if media_type in mt.MANIFESTS:
        doc: Manifest | Index = parse_manifest(data, media_type)
        refs = [doc.config, *doc.layers]
        for d in refs:
            if d.urls and d.media_type not in (mt.OCI_CONFIG, mt.DOCKER_CONFIG):
                continue  # non-distributable layers live elsewhere
            if not has_blob(d.digest):
                raise MissingReference(d.digest)
    elif media_type in mt.INDEXES:
        doc = parse_index(data, media_type)
        for d in doc.manifests:
            if not has_manifest(d.digest):
                raise MissingReference(d.digest)
    else:
        raise Unsupported(f"unsupported manifest media type {media_type!r}")
    return Checked(media_type, doc)
