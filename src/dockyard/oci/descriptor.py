"""Content descriptors and platforms."""

from __future__ import annotations

from dockyard import digest as _digest
from dockyard.errors import InvalidArgument
from dockyard.oci._json import get_int, get_list_of_str, get_str, get_str_map
from dockyard.record import Record, factory


class Platform(Record):
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: dict[str, object]) -> Platform:
        what = "platform"
        return cls(
            os=get_str(obj, "os", what),
            architecture=get_str(obj, "architecture", what),
            variant=get_str(obj, "variant", what),
            os_version=get_str(obj, "os.version", what),
            os_features=tuple(get_list_of_str(obj, "os.features", what) or ()),
        )

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        return out

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


class Descriptor(Record):
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = factory(dict, compare=False)
    platform: Platform | None = None
    urls: tuple[str, ...] = ()
    artifact_type: str = ""

    @classmethod
    def from_json(cls, obj: object, what: str = "descriptor") -> Descriptor:
        if not isinstance(obj, dict):
            raise InvalidArgument(f"{what}: expected an object")
        dgst = get_str(obj, "digest", what)
        if not _digest.is_digest(dgst):
            raise InvalidArgument(f"{what}: invalid digest {dgst!r}")
        size = get_int(obj, "size", what, default=-1)
        if size < 0:
            raise InvalidArgument(f"{what}: size must be a non-negative integer")
        plat = obj.get("platform")
        return cls(
            media_type=get_str(obj, "mediaType", what),
            digest=dgst,
            size=size,
            annotations=get_str_map(obj, "annotations", what) or {},
            platform=Platform.from_json(plat) if isinstance(plat, dict) else None,
            urls=tuple(get_list_of_str(obj, "urls", what) or ()),
            artifact_type=get_str(obj, "artifactType", what),
        )

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out
