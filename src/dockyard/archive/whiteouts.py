"""Whiteouts: the AUFS-style `.wh.` names of OCI layers (shared by apply and the writer),
and overlayfs's own form in unpacked layer dirs (a 0/0 character device, an opaque xattr)."""

import os
import stat

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


def is_overlay_whiteout(st: os.stat_result) -> bool:
    """An overlayfs whiteout: a character device 0/0 in an upper or lower dir."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_overlay_opaque(path: str) -> bool:
    """A directory overlayfs marks opaque (what is below it in lower layers is hidden)."""
    try:
        return os.getxattr(path, OVERLAY_OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False
