"""The merged view of a stack of snapshot dirs (overlay's rules), read without mounting.

The first layer (top-most first) holding a path wins; a whiteout (char device 0/0) hides
it and an opaque directory hides what lies below. Symlinks are resolved component by
component in the merged view and clamped to its root, so a hostile image cannot make the
builder read or write a host path.
"""

import os
import stat

from dockyard.archive.whiteouts import is_overlay_opaque, is_overlay_whiteout
from dockyard.errors import InvalidArgument

MAX_SYMLINKS = 40


class MergedView:
    def __init__(self, layers: list[str]):
        self.layers = list(layers)  # top-most first

    def lookup(self, parts: list[str]) -> tuple[str, os.stat_result] | None:
        """(host path, lstat) of the literal path `parts` (no symlinks resolved), or None."""
        rel = "/".join(parts)
        for layer in self.layers:
            host = os.path.join(layer, rel) if rel else layer
            try:
                st = os.lstat(host)
            except (FileNotFoundError, NotADirectoryError):
                if self._opaque_between(layer, parts):
                    return None
                continue
            if is_overlay_whiteout(st):
                return None
            return host, st
        return None

    def _opaque_between(self, layer: str, parts: list[str]) -> bool:
        for i in range(len(parts) - 1, 0, -1):
            d = os.path.join(layer, *parts[:i])
            if os.path.isdir(d) and not os.path.islink(d):
                return is_overlay_opaque(d)
        return False

    def resolve(self, path: str, follow_last: bool = True) -> list[str]:
        """The components of `path` with every existing symlink resolved inside the view."""
        pending = [p for p in path.split("/") if p not in ("", ".")]
        pending.reverse()
        done: list[str] = []
        hops = 0
        missing = False
        while pending:
            part = pending.pop()
            if part == "..":
                if done:
                    done.pop()
                continue
            if missing:
                done.append(part)
                continue
            found = self.lookup([*done, part])
            if found is None:
                missing = True
                done.append(part)
                continue
            host, st = found
            if not stat.S_ISLNK(st.st_mode) or (not pending and not follow_last):
                done.append(part)
                continue
            hops += 1
            if hops > MAX_SYMLINKS:
                raise InvalidArgument(f"{path}: too many levels of symbolic links")
            target = os.readlink(host)
            if target.startswith("/"):
                done.clear()
            pending.extend(reversed([p for p in target.split("/") if p not in ("", ".")]))
        return done

    def stat(self, path: str) -> os.stat_result | None:
        found = self.lookup(self.resolve(path))
        return found[1] if found else None

    def listdir(self, parts: list[str]) -> list[str]:
        """Names in the merged directory `parts` (already resolved)."""
        names: dict[str, bool] = {}
        rel = "/".join(parts)
        for layer in self.layers:
            host = os.path.join(layer, rel) if rel else layer
            try:
                st = os.lstat(host)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if not stat.S_ISDIR(st.st_mode):
                break  # a file or whiteout here hides every lower directory
            with os.scandir(host) as it:
                for d in it:
                    if d.name not in names:
                        names[d.name] = not is_overlay_whiteout(d.stat(follow_symlinks=False))
            if is_overlay_opaque(host):
                break
        return sorted(n for n, alive in names.items() if alive)
