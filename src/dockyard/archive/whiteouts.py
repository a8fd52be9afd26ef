"""Whiteout naming shared by apply and the writer (the AUFS-style `.wh.` convention of OCI layers)."""

from dockyard.errors import InvalidArgument

PREFIX = ".wh."
META_PREFIX = ".wh..wh."
OPAQUE = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"


def is_whiteout(name: str) -> bool:
    return name.startswith(PREFIX)


def victim(name: str, shown: str) -> str:
    """The name a `.wh.NAME` entry deletes; refuses names that are not a plain child."""
    target = name[len(PREFIX) :]
    if target in ("", ".", "..") or "/" in target or "\0" in target:
        raise InvalidArgument(f"tar entry {shown!r}: invalid whiteout name")
    return target
