"""`import`: a root filesystem tar (plain or compressed, maybe a pipe) becomes a one-layer image.

One pass over the input writes the layer blob (gzip and zstd input is kept as it came,
anything else is gzip-compressed with isal), hashes the uncompressed stream for the diff id
and, on a second core, unpacks it; the unpacked tree becomes the snapshot keyed by the diff
id, unless that snapshot exists already.
The config is what `docker import` makes.
"""

import os
from dataclasses import dataclass
from typing import BinaryIO

from dockyard.images.unpack import CHUNK, Stores
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor


@dataclass(frozen=True)
class ImportOptions:
    tags: list[str]  # full reference strings, may be empty
    changes: list[str]
    message: str
    platform: str | None = None
    source_name: str = "-"


class _WriterFile:
    """Adapts a ContentWriter to the file interface a compressor writes to."""

    def __init__(self, writer):
        self._w = writer

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._w.write(data)
        return len(data)

    def flush(self) -> None:
        pass


class _TeeReader:
    """Reads `src` and copies every byte read into a ContentWriter."""

    def __init__(self, src: BinaryIO, writer):
        self._src = src
        self._w = writer

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self._src.read(n)
        if data:
            self._w.write(data)
        return data

    def readinto(self, buf) -> int:
        data = self._src.read(len(buf))
        n = len(data)
        if n:
            buf[:n] = data
            self._w.write(data)
        return n


def host_platform(spec: str | None) -> tuple[str, str, str]:
    """(os, architecture, variant) of `--platform` or of this host."""
    from dockyard.errors import InvalidArgument

    if spec:
        parts = spec.lower().split("/")
        if len(parts) == 1:
            parts = ["linux", parts[0]]
        if len(parts) > 3 or not all(parts):
            raise InvalidArgument(f"invalid platform {spec!r}: want os[/arch[/variant]]")
        arch = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64"}.get(parts[1], parts[1])
        return parts[0], arch, parts[2] if len(parts) > 2 else ""
    import platform

    machine = platform.machine().lower()
    table = {"x86_64": ("amd64", ""), "amd64": ("amd64", ""), "aarch64": ("arm64", ""),
             "arm64": ("arm64", ""), "armv7l": ("arm", "v7"), "armv6l": ("arm", "v6"),
             "i686": ("386", ""), "i386": ("386", ""), "ppc64le": ("ppc64le", ""),
             "s390x": ("s390x", ""), "riscv64": ("riscv64", "")}  # fmt: skip
    arch, variant = table.get(machine, (machine, ""))
    return "linux", arch, variant


def write_layer_blob(
    content, src: BinaryIO, lease, sink=None, durable: bool = True
) -> tuple[Descriptor, str]:
    """Store the layer from `src` in one pass; return (blob descriptor, diff id).

    `sink(chunk)`, when given, also receives every uncompressed chunk (an immutable copy).
    `durable=False`: the blob is not flushed (see ContentWriter.commit).
    """
    import hashlib

    from dockyard.archive.compression import detect, open_reader, open_writer, sniff
    from dockyard.errors import InvalidArgument

    head, src = sniff(src)
    if not head:
        raise InvalidArgument(
            "import: the input is empty (want a tar archive of a root filesystem)"
        )
    kind = detect(head)
    ref = "import-" + os.urandom(12).hex()
    w = content.writer(ref)
    ok = False
    try:
        hasher = hashlib.sha256()
        if kind in ("gzip", "zstd"):
            # Keep the compressed bytes as they came: no recompression, the blob is the input.
            _pump(open_reader(_TeeReader(src, w)), hasher, sink)
            while True:  # bytes after the compressed stream still belong to the blob
                more = src.read(CHUNK)
                if not more:
                    break
                w.write(more)
            media_type = mt.OCI_LAYER_GZIP if kind == "gzip" else mt.OCI_LAYER_ZSTD
        else:
            gz = open_writer(_WriterFile(w), "gzip")
            _pump(open_reader(src), hasher, sink, gz.write)
            gz.close()
            media_type = mt.OCI_LAYER_GZIP
        size = w.offset
        digest = w.commit(durable)
        ok = True
    finally:
        if not ok and not w.closed:
            w.abort()
    lease.add("content", digest)
    return Descriptor(media_type, digest, size), "sha256:" + hasher.hexdigest()


def _pump(dec: BinaryIO, hasher, sink=None, out=None) -> None:
    """Read `dec` to its end, hashing every byte; each chunk also goes to `out` (as a view of
    a reused buffer) and to `sink` (as an immutable copy)."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    readinto = getattr(dec, "readinto", None)
    while True:
        chunk = view[: readinto(buf) or 0] if readinto is not None else dec.read(CHUNK)
        if not chunk:
            return
        hasher.update(chunk)
        if out is not None:
            out(chunk)
        if sink is not None:
            sink(bytes(chunk))


def build_config(diff_id: str, opts: ImportOptions) -> tuple[bytes, str]:
    """The image config `docker import` writes; returns (bytes, created)."""
    from dockyard.images.changes import apply_changes
    from dockyard.images.timefmt import now_rfc3339nano
    from dockyard.oci.image import ContainerConfig, History, ImageConfig

    os_, arch, variant = host_platform(opts.platform)
    created = now_rfc3339nano()
    container = apply_changes(ContainerConfig(), opts.changes)
    comment = opts.message or f"Imported from {opts.source_name or '-'}"
    cfg = ImageConfig(
        architecture=arch,
        os=os_,
        variant=variant,
        created=created,
        config=container,
        diff_ids=(diff_id,),
        history=(History(created=created, comment=comment),),
    )
    return cfg.to_bytes(), created


def import_rootfs(stores: Stores, src: BinaryIO, opts: ImportOptions, lease, tmp_root: str,
                  marked: bool = False) -> str:  # fmt: skip
    """Import the tar in `src` as an image; return its id. Tags are set last.

    The layer is unpacked while it is read (see pipeunpack); `tmp_root` must be on the same
    filesystem as the snapshots. `marked`: the caller marked the data root
    (content.lateflush) before the import: no flush before the record.
    """
    from dockyard.content.durable import Unflushed, sync_paths
    from dockyard.images.changes import apply_changes
    from dockyard.images.pipeunpack import BackgroundApply
    from dockyard.images.record import publish, store_manifest
    from dockyard.metadata.records import LayerRecord
    from dockyard.oci.image import ContainerConfig

    apply_changes(ContainerConfig(), opts.changes)  # bad changes fail before reading input
    host_platform(opts.platform)
    bg = BackgroundApply(tmp_root)
    try:
        try:
            layer, diff_id = write_layer_blob(stores.content, src, lease, bg.put, durable=False)
        finally:
            bg.pipe.close()
        bg.finish()
        lease.add("snapshot", diff_id)
        # existing: our copy is dropped
        snap = stores.snapshots.create(diff_id, "", bg.fill(), durable=False)
    finally:
        bg.discard()
    stores.meta.put_layer(
        LayerRecord(diff_id, layer.digest, layer.media_type, layer.size, snap.size)
    )
    config_bytes, created = build_config(diff_id, opts)
    image_id, mdigest, _ = store_manifest(Unflushed(stores.content), lease, config_bytes, [layer])
    if not marked:
        sync_paths(stores.content.root, stores.snapshots.root)  # one flush, before the record
    publish(stores.meta, image_id, mdigest, mt.OCI_MANIFEST, created, snap.size, opts.tags)
    return image_id
