"""ADD <url> inside a build: the cache key of a download and writing it into a layer.

A `--checksum` pins the content: the key is the checksum and nothing is fetched until the
step runs. Without one the file is fetched while the key is computed (the content is the
key, as in BuildKit) and the same download is used by the step.
"""

import os

from dockyard.build import fetch
from dockyard.errors import InvalidArgument


def url_key(builder, inst, src: str) -> str:
    """What an ADD <url> adds to the key: the pinned checksum, or the downloaded
    content (fetched now, used by the step)."""
    if inst.checksum:
        fetch.check_checksum(inst.checksum, inst.line)
        return "checksum:" + inst.checksum
    builder._unpinned = True
    d = download(builder, inst, src)
    return f"{d.digest}:{d.name}:{d.mtime}"


def download(builder, inst, src: str):
    """The build's one download of `src` (fetched on first use)."""
    key = (src, inst.checksum)
    if key not in builder._downloads:
        if not builder._dl_dir:
            builder._dl_dir = builder._workdir()
        limit = builder.opts.add_limit
        builder._downloads[key] = fetch.download(
            src, builder._dl_dir, limit, inst.line, inst.checksum
        )
    return builder._downloads[key]


def add_url(builder, w, inst, src: str, parts: list[str], is_dir: bool) -> None:
    """Write the download of `src` at `parts` (into a dir: the URL's file name)."""
    d = download(builder, inst, src)
    if is_dir and not d.name:
        raise InvalidArgument(
            f"Dockerfile:{inst.line}: cannot determine a file name from the URL {src}; "
            "give a destination file name"
        )
    if d.mtime is not None:
        os.utime(d.path, (d.mtime, d.mtime))
    w.put([*parts, d.name] if is_dir else parts, d.path, os.lstat(d.path), False)
