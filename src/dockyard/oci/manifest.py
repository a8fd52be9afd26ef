"""Image manifests and indexes (OCI and Docker schema 2)."""

from __future__ import annotations

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.oci import mediatypes as mt
from dockyard.oci._json import dumps, get_int, get_str, get_str_map, loads_object
from dockyard.oci.descriptor import Descriptor
from dockyard.record import Record, factory


class Manifest(Record):
    config: Descriptor
    layers: tuple[Descriptor, ...]
    media_type: str = mt.OCI_MANIFEST
    annotations: dict[str, str] = factory(dict, compare=False)
    subject: Descriptor | None = None
    artifact_type: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"schemaVersion": 2, "mediaType": self.media_type}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        out["config"] = self.config.to_json()
        out["layers"] = [layer.to_json() for layer in self.layers]
        if self.subject is not None:
            out["subject"] = self.subject.to_json()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    def to_bytes(self) -> bytes:
        return dumps(self.to_json())


class Index(Record):
    manifests: tuple[Descriptor, ...]
    media_type: str = mt.OCI_INDEX
    annotations: dict[str, str] = factory(dict, compare=False)
    subject: Descriptor | None = None
    artifact_type: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"schemaVersion": 2, "mediaType": self.media_type}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        out["manifests"] = [m.to_json() for m in self.manifests]
        if self.subject is not None:
            out["subject"] = self.subject.to_json()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    def to_bytes(self) -> bytes:
        return dumps(self.to_json())


def _descriptors(obj: dict[str, object], key: str, what: str) -> tuple[Descriptor, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidArgument(f"{what}: {key} must be a list")
    return tuple(Descriptor.from_json(v, f"{what} {key}[{i}]") for i, v in enumerate(value))


def _common(obj: dict[str, object], what: str) -> dict[str, object]:
    if get_int(obj, "schemaVersion", what, default=0) != 2:
        raise Unsupported(f"{what}: unsupported schemaVersion {obj.get('schemaVersion')!r}")
    subject = obj.get("subject")
    return {
        "annotations": get_str_map(obj, "annotations", what) or {},
        "subject": Descriptor.from_json(subject, f"{what} subject")
        if subject is not None
        else None,
        "artifact_type": get_str(obj, "artifactType", what),
    }


def parse_manifest(data: bytes, media_type: str = "") -> Manifest:
    what = "manifest"
    obj = loads_object(data, what)
    declared = get_str(obj, "mediaType", what)
    if declared and media_type and declared != media_type:
        raise InvalidArgument(f"{what}: mediaType {declared!r} does not match {media_type!r}")
    if "manifests" in obj:
        raise InvalidArgument(f"{what}: has 'manifests', which only an index may have")
    config = obj.get("config")
    if config is None:
        raise InvalidArgument(f"{what}: missing config")
    return Manifest(
        config=Descriptor.from_json(config, f"{what} config"),
        layers=_descriptors(obj, "layers", what),
        media_type=declared or media_type or mt.OCI_MANIFEST,
        **_common(obj, what),
    )


def parse_index(data: bytes, media_type: str = "") -> Index:
    what = "index"
    obj = loads_object(data, what)
    declared = get_str(obj, "mediaType", what)
    if declared and media_type and declared != media_type:
        raise InvalidArgument(f"{what}: mediaType {declared!r} does not match {media_type!r}")
    if "layers" in obj or "config" in obj:
        raise InvalidArgument(f"{what}: has 'layers' or 'config', which only a manifest may have")
    return Index(
        manifests=_descriptors(obj, "manifests", what),
        media_type=declared or media_type or mt.OCI_INDEX,
        **_common(obj, what),
    )


def detect_media_type(data: bytes) -> str:
    """The media type a manifest-or-index document declares or implies; refuses ambiguity."""
    obj = loads_object(data, "manifest")
    declared = obj.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    has_manifests = "manifests" in obj
    has_layers = "config" in obj or "layers" in obj
    if has_manifests and has_layers:
        raise InvalidArgument("manifest: ambiguous document (both manifests and config/layers)")
    if has_manifests:
        return mt.OCI_INDEX
    if has_layers:
        return mt.OCI_MANIFEST
    raise InvalidArgument("manifest: neither a manifest nor an index")


def parse_any(data: bytes, media_type: str = "") -> Manifest | Index:
    media_type = media_type or detect_media_type(data)
    if media_type in mt.INDEXES:
        return parse_index(data, media_type)
    if media_type in mt.MANIFESTS:
        return parse_manifest(data, media_type)
    raise Unsupported(f"unsupported manifest media type {media_type!r}")
