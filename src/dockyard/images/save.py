"""`save`: images to one tar that is both a docker-archive and an OCI image layout (Docker 25+).

Layout (entries in this order, as Docker's sorted directory walk writes them):
    blobs/ blobs/sha256/ blobs/sha256/<hex>...   manifests, configs, layers exactly as stored
    index.json      OCI index; one manifest descriptor per tag, annotated with
                    io.containerd.image.name (full name) and org.opencontainers.image.ref.name (tag)
    manifest.json   [{"Config": "blobs/sha256/<id>", "RepoTags": [...], "Layers": [...]}]
    oci-layout      {"imageLayoutVersion": "1.0.0"}
    repositories    {"busybox": {"latest": "<top diff id hex>"}} (only when something is tagged)
Blobs are copied byte for byte (no recompression), with sendfile when the output is a file.
"""

from dataclasses import dataclass, field
from typing import BinaryIO

from dockyard.errors import NotFound
from dockyard.oci import mediatypes as mt
from dockyard.reference import Reference

ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"


@dataclass
class SaveItem:
    image_id: str
    manifest_digest: str
    tags: list[Reference] = field(default_factory=list)  # tagged references, in order


def _go_json(value) -> bytes:
    """Go's json.Encoder output: compact, HTML-escaped, newline-terminated."""
    from dockyard.oci._json import dumps

    return dumps(value) + b"\n"


def save(content, items: list[SaveItem], out: BinaryIO) -> None:
    from dockyard.archive.tarwriter import TarWriter
    from dockyard.oci.image import parse_image_config
    from dockyard.oci.manifest import parse_manifest

    blobs: dict[str, None] = {}  # digest -> (ordered set)
    index_entries: list[dict] = []
    manifest_json: list[dict] = []
    repositories: dict[str, dict[str, str]] = {}
    for item in items:
        mbytes = content.read(item.manifest_digest)
        manifest = parse_manifest(mbytes)
        config = parse_image_config(content.read(manifest.config.digest))
        for d in (
            item.manifest_digest,
            manifest.config.digest,
            *(ly.digest for ly in manifest.layers),
        ):
            blobs[d] = None
        desc = {
            "mediaType": manifest.media_type or mt.OCI_MANIFEST,
            "digest": item.manifest_digest,
            "size": len(mbytes),
        }
        repo_tags = []
        for ref in item.tags:
            index_entries.append(
                dict(
                    desc,
                    annotations={ANNOTATION_IMAGE_NAME: str(ref), ANNOTATION_REF_NAME: ref.tag},
                )
            )
            repo_tags.append(ref.familiar())
            if config.diff_ids:
                top = config.diff_ids[-1].partition(":")[2]
                repositories.setdefault(ref.familiar_name(), {})[ref.tag] = top
        if not item.tags:
            index_entries.append(desc)
        manifest_json.append(
            {
                "Config": "blobs/" + manifest.config.digest.replace(":", "/"),
                "RepoTags": repo_tags or None,
                "Layers": ["blobs/" + ly.digest.replace(":", "/") for ly in manifest.layers],
            }
        )
    for d in blobs:
        if not content.has(d):  # checked before the first byte goes out
            raise NotFound(f"cannot save: blob {d} is missing from the content store")
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": index_entries}

    w = TarWriter(out)
    w.add_dir("blobs")
    algs = sorted({d.partition(":")[0] for d in blobs})
    for alg in algs:
        w.add_dir(f"blobs/{alg}")
        for d in sorted(x for x in blobs if x.startswith(alg + ":")):
            _add_blob(w, f"blobs/{alg}/{d.partition(':')[2]}", content.path(d))
    w.add_file("index.json", _go_json(index)[:-1])
    w.add_file("manifest.json", _go_json(manifest_json))
    w.add_file("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    if repositories:
        w.add_file("repositories", _go_json(repositories))
    w.close()


def _add_blob(w, name: str, path: str) -> None:
    """A stored blob as one member, its size taken when it is opened."""
    import os

    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        w.add_file(name, fd)
    finally:
        os.close(fd)
