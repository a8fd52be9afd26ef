"""`load`: an image archive (docker-archive, OCI layout or both; maybe compressed, maybe a pipe).

The tar is streamed once: every regular member goes straight into the content store, hashed
as it flows (small members are kept in memory instead, within a budget); symlinks and hard
links are remembered as aliases of their target member (old `docker save` dedups layers that
way). Then the archive is read through `index.json` (Docker 25+, skopeo/podman/buildah
oci-archive) or else `manifest.json` (older docker save, podman/skopeo docker-archive).
Digests in the archive are checked against what the bytes hash to, never trusted; every layer
is unpacked into its snapshot while its diff id is checked; tags are set only after every image
of the archive is complete. Blobs and snapshots are not flushed one by one: one syncfs of the
data root runs before the images are recorded (see content/durable.py).
"""

import posixpath
from dataclasses import dataclass, field
from typing import BinaryIO

from dockyard.archive import tarformat as tf
from dockyard.archive.tarreader import TarReader
from dockyard.errors import DataLoss, DockyardError, InvalidArgument, NotFound
from dockyard.images.unpack import Stores
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor

SMALL = 1 << 20  # members up to this size are kept in memory ...
MEMORY_BUDGET = 64 << 20  # ... while all of them together stay under this
MAX_DOCUMENT = 16 << 20  # manifests, configs, indexes
MAX_LINK_HOPS = 40
MAX_ARCHIVE_SIZE = 1 << 62  # an image archive is as big as its images: only per-entry caps apply
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"


@dataclass
class _Stored:
    digest: str
    size: int


@dataclass
class LoadedImage:
    image_id: str
    manifest_digest: str
    manifest_media_type: str
    created: str
    layers: list[Descriptor]
    diff_ids: list[str]
    names: list[str] = field(default_factory=list)  # full tagged references
    size: int = 0


class _Members:
    """Member name -> stored blob or in-memory bytes, plus link aliases."""

    def __init__(self, content, lease, tmp_root: str = ""):
        self.content = content
        self.lease = lease
        self.tmp_root = tmp_root  # where layers are unpacked while read ("" = not at all)
        self.prepared: dict = {}  # blob digest -> BackgroundApply with its diff id
        self.files: dict[str, _Stored | bytes] = {}
        self.links: dict[str, str] = {}
        self.memory = 0

    def take(self, tar: TarReader, name: str, size: int) -> None:
        if size <= SMALL and self.memory + size <= MEMORY_BUDGET:
            self.files[name] = tar.read_data()
            self.memory += size
            return
        claimed = _claimed_digest(name)
        if claimed and self.content.has(claimed):
            # Already stored: hash the stream to learn what it really is, write nothing.
            import hashlib

            h = hashlib.sha256()
            for chunk in tar.read_chunks():
                h.update(chunk)
            digest = "sha256:" + h.hexdigest()
            if digest == claimed:
                self.lease.add("content", digest)
                self.files[name] = _Stored(digest, size)
                return
            raise DataLoss(f"archive member {name} does not hash to its name (got {digest})")
        spec = self._speculate()
        w = self.content.writer("load-" + _random(), size=size)
        ok = False
        try:
            for chunk in tar.read_chunks():
                w.write(chunk)
                if spec is not None and not spec.failed:
                    spec.pipe.put(chunk)
            digest = w.commit(durable=False)
            ok = True
        finally:
            if not ok:
                if not w.closed:
                    w.abort()
                if spec is not None:
                    spec.discard()
        self.lease.add("content", digest)
        self.files[name] = _Stored(digest, size)
        if spec is not None:
            self._keep(digest, spec)

    def _speculate(self):
        """Unpack a big member while it streams in, in case it is a layer (most are)."""
        if not self.tmp_root:
            return None
        from dockyard.images.pipeunpack import BackgroundApply

        return BackgroundApply(self.tmp_root, raw=True)

    def _keep(self, digest: str, spec) -> None:
        try:
            spec.finish()
        except DockyardError:
            spec.discard()  # not a layer after all (or a bad one: unpacking it again says why)
            return
        if digest in self.prepared:
            spec.discard()
        else:
            self.prepared[digest] = spec

    def discard_prepared(self) -> None:
        for spec in self.prepared.values():
            spec.discard()
        self.prepared.clear()

    def _resolve(self, name: str) -> str:
        key = clean_name(name)
        for _ in range(MAX_LINK_HOPS):
            if key in self.files:
                return key
            if key not in self.links:
                raise InvalidArgument(f"archive: {name} is missing from the archive")
            key = self.links[key]
        raise InvalidArgument(f"archive: too many levels of links at {name}")

    def has(self, name: str) -> bool:
        try:
            self._resolve(name)
        except InvalidArgument:
            return False
        return True

    def data(self, name: str, limit: int = MAX_DOCUMENT) -> bytes:
        value = self.files[self._resolve(name)]
        if isinstance(value, bytes):
            return value
        return self.content.read(value.digest, max_size=limit)

    def blob(self, name: str) -> _Stored:
        key = self._resolve(name)
        value = self.files[key]
        if isinstance(value, bytes):
            digest = self.content.put(value, durable=False)
            self.lease.add("content", digest)
            value = self.files[key] = _Stored(digest, len(value))
        return value

    def head(self, name: str, n: int = 6) -> bytes:
        value = self.files[self._resolve(name)]
        if isinstance(value, bytes):
            return value[:n]
        with self.content.open(value.digest) as f:
            return f.read(n)


def clean_name(name: str) -> str:
    """A member name normalized for lookup ("./a//b/" -> "a/b"); refuses `..` and absolute names."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(f"archive: refusing member name with '..': {name!r}")
    if name.startswith("/"):
        raise InvalidArgument(f"archive: refusing absolute member name: {name!r}")
    return "/".join(parts)


def _random() -> str:
    import os

    return os.urandom(12).hex()


def _claimed_digest(name: str) -> str:
    from dockyard import digest as _digest

    parts = name.split("/")
    if len(parts) == 3 and parts[0] == "blobs" and parts[1] == "sha256":
        d = "sha256:" + parts[2]
        if _digest.is_digest(d):
            return d
    return ""


def read_members(src: BinaryIO, content, lease, tmp_root: str = "") -> _Members:
    from dockyard.archive.compression import open_reader
    from dockyard.archive.limits import Limits

    members = _Members(content, lease, tmp_root)
    try:
        _read_into(members, TarReader(open_reader(src), Limits(max_total_size=MAX_ARCHIVE_SIZE)))
    except BaseException:
        members.discard_prepared()
        raise
    return members


def _read_into(members: _Members, tar: TarReader) -> None:
    for m in tar:
        name = clean_name(m.name)
        if not name or m.type == tf.DIR:
            continue
        if m.type == tf.REG:
            members.take(tar, name, m.size)
        elif m.type == tf.SYM:
            if m.linkname.startswith("/"):
                raise InvalidArgument(f"archive: refusing absolute link {m.name} -> {m.linkname}")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
            members.links[name] = clean_name(target)
        elif m.type == tf.LNK:
            members.links[name] = clean_name(m.linkname)


# -- OCI layout (index.json) ------------------------------------------------------------


def _blob_name(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/")


def _checked_blob(members: _Members, desc: Descriptor) -> _Stored:
    name = _blob_name(desc.digest)
    stored = members.blob(name)
    if stored.digest != desc.digest:
        raise DataLoss(
            f"archive blob {desc.digest} is corrupt: its content hashes to {stored.digest}"
        )
    if desc.size != stored.size:
        raise DataLoss(
            f"archive blob {desc.digest}: size {stored.size}, descriptor says {desc.size}"
        )
    return stored


def _checked_data(members: _Members, desc: Descriptor) -> bytes:
    from dockyard import digest as _digest

    data = members.data(_blob_name(desc.digest))
    actual = _digest.sha256_bytes(data)
    if actual != desc.digest:
        raise DataLoss(f"archive blob {desc.digest} is corrupt: its content hashes to {actual}")
    return data


def _image_names(desc: Descriptor) -> list[str]:
    from dockyard import reference

    name = desc.annotations.get(ANNOTATION_IMAGE_NAME, "")
    if not name:
        ref_name = desc.annotations.get(ANNOTATION_REF_NAME, "")
        if ref_name and ("/" in ref_name or ":" in ref_name):
            name = ref_name  # a full reference; a bare tag names no repository
    if not name:
        return []
    try:
        ref = reference.parse_normalized_tagged(name)
    except InvalidArgument:
        return []
    return [str(ref)] if ref.tag and not ref.digest else []


def _pick_platform(index, host: tuple[str, str, str]) -> Descriptor:
    os_, arch, variant = host
    candidates = [d for d in index.manifests if d.media_type in mt.MANIFESTS | mt.INDEXES]
    for d in candidates:
        p = d.platform
        if (
            p
            and p.os == os_
            and p.architecture == arch
            and (not variant or p.variant in ("", variant))
        ):
            return d
    if len(candidates) == 1 and candidates[0].platform is None:
        return candidates[0]
    raise NotFound(f"archive: no image for platform {os_}/{arch} in a multi-platform index")


def _manifest_image(members: _Members, desc: Descriptor, names: list[str], host, depth=0):
    from dockyard.oci.image import parse_image_config
    from dockyard.oci.manifest import parse_any

    if depth > 4:
        raise InvalidArgument("archive: indexes nested too deeply")
    data = _checked_data(members, desc)
    doc = parse_any(data, desc.media_type if desc.media_type in mt.MANIFESTS | mt.INDEXES else "")
    if hasattr(doc, "manifests"):
        return _manifest_image(members, _pick_platform(doc, host), names, host, depth + 1)
    members.blob(_blob_name(desc.digest))
    config_bytes = _checked_data(members, doc.config)
    members.blob(_blob_name(doc.config.digest))
    config = parse_image_config(config_bytes)
    layers = list(doc.layers)
    for ly in layers:
        _checked_blob(members, ly)
    return LoadedImage(
        image_id=doc.config.digest,
        manifest_digest=desc.digest,
        manifest_media_type=doc.media_type,
        created=config.created,
        layers=layers,
        diff_ids=list(config.diff_ids),
        names=names,
    )


def _from_index(members: _Members, host) -> list[LoadedImage]:
    from dockyard.oci.manifest import parse_index

    index = parse_index(members.data("index.json"))
    images: dict[str, LoadedImage] = {}
    for desc in index.manifests:
        img = _manifest_image(members, desc, _image_names(desc), host)
        if img.image_id in images:
            for n in img.names:
                if n not in images[img.image_id].names:
                    images[img.image_id].names.append(n)
        else:
            images[img.image_id] = img
    return list(images.values())


# -- docker-archive (manifest.json) -----------------------------------------------------


def _from_manifest_json(members: _Members) -> list[LoadedImage]:
    import json

    from dockyard import digest as _digest
    from dockyard import reference
    from dockyard.archive.compression import detect
    from dockyard.content.durable import Unflushed
    from dockyard.images.record import store_manifest
    from dockyard.oci.image import parse_image_config

    try:
        items = json.loads(members.data("manifest.json"))
    except ValueError as e:
        raise InvalidArgument(f"archive: manifest.json is not valid JSON ({e})")
    if not isinstance(items, list):
        raise InvalidArgument("archive: manifest.json must be a list")
    images: list[LoadedImage] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise InvalidArgument("archive: manifest.json entries need a Config")
        paths = item.get("Layers") or []
        tags = item.get("RepoTags") or []
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise InvalidArgument("archive: manifest.json Layers must be a list of paths")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InvalidArgument("archive: manifest.json RepoTags must be a list of names")
        config_bytes = members.data(item["Config"])
        config = parse_image_config(config_bytes)
        config_digest = members.blob(item["Config"]).digest
        if config_digest != _digest.sha256_bytes(config_bytes):
            raise DataLoss("archive: config changed while loading")
        layers = []
        for p in paths:
            stored = members.blob(p)
            kind = detect(members.head(p))
            if kind not in ("", "gzip", "zstd"):
                raise InvalidArgument(f"archive: layer {p} is {kind}-compressed; not a layer type")
            layers.append(Descriptor(mt.layer_type(kind), stored.digest, stored.size))
        names = [str(reference.parse_normalized_tagged(t)) for t in tags]
        image_id, mdigest, _ = store_manifest(
            Unflushed(members.content), members.lease, config_bytes, layers
        )
        images.append(
            LoadedImage(
                image_id,
                mdigest,
                mt.OCI_MANIFEST,
                config.created,
                layers,
                list(config.diff_ids),
                names,
            )
        )
    return images


def load(
    stores: Stores, src: BinaryIO, lease, host: tuple[str, str, str], tmp_root: str = "",
    marked: bool = False,
) -> list[str]:  # fmt: skip
    """Load every image of the archive in `src`; return Docker's result lines.

    With `tmp_root` (same filesystem as the snapshots) big members are unpacked while they
    stream in, so most layers need no second pass. `marked`: the caller marked the data
    root (content.lateflush) before the load: no flush before the records.
    """
    from dockyard import reference
    from dockyard.content.durable import sync_paths
    from dockyard.images.record import publish
    from dockyard.images.unpack import unpack_layers

    members = read_members(src, stores.content, lease, tmp_root)
    try:
        if members.has("index.json"):
            images = _from_index(members, host)
        elif members.has("manifest.json"):
            images = _from_manifest_json(members)
        elif not members.files:
            raise InvalidArgument("archive: the input is empty (want an image archive)")
        else:
            raise InvalidArgument("archive: no index.json or manifest.json (not an image archive)")
        if not images:
            raise InvalidArgument("archive: contains no image")
        for img in images:
            sizes = unpack_layers(stores, img.layers, img.diff_ids, lease, members.prepared,
                                  durable=False)  # fmt: skip
            img.size = sum(sizes)
    finally:
        members.discard_prepared()
    if not marked:
        sync_paths(stores.content.root, stores.snapshots.root)  # before anything names them
    lines: list[str] = []
    with stores.meta.transaction():
        for img in images:
            publish(stores.meta, img.image_id, img.manifest_digest, img.manifest_media_type,
                    img.created, img.size, img.names)  # fmt: skip
    for img in images:
        if img.names:
            lines.extend(f"Loaded image: {reference.parse(n).familiar()}" for n in img.names)
        else:
            lines.append(f"Loaded image ID: {img.image_id}")
    return lines
