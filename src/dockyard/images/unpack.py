"""Unpacking layer blobs into snapshots keyed by chain id, checking each layer's diff id.

The uncompressed bytes are hashed while they are applied, so a layer whose content does not
match the diff id its config claims is refused (DataLoss) and leaves no snapshot behind.
"""

from dataclasses import dataclass
from typing import BinaryIO

from dockyard.errors import DataLoss
from dockyard.metadata.records import LayerRecord
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.ids import chain_ids

CHUNK = 1 << 20


class HashingReader:
    """Passes reads through and hashes every byte that goes by."""

    def __init__(self, src: BinaryIO):
        import hashlib

        self._src = src
        self.hasher = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self._src.read(n)
        if data:
            self.hasher.update(data)
            self.count += len(data)
        return data

    def readinto(self, buf) -> int:
        readinto = getattr(self._src, "readinto", None)
        if readinto is None:
            data = self._src.read(len(buf))
            n = len(data)
            buf[:n] = data
        else:
            n = readinto(buf) or 0
        if n:
            self.hasher.update(memoryview(buf)[:n])
            self.count += n
        return n

    def drain(self) -> None:
        buf = bytearray(CHUNK)
        while self.readinto(buf):
            pass

    def digest(self) -> str:
        return "sha256:" + self.hasher.hexdigest()


@dataclass
class Stores:
    """The L2 stores an image use-case works on."""

    content: object  # ContentStore
    meta: object  # MetadataStore
    snapshots: object  # SnapshotStore


def _mismatch(layer: Descriptor, diff_id: str, actual: str) -> DataLoss:
    return DataLoss(
        f"layer {layer.digest}: content does not match its diff id "
        f"(config says {diff_id}, layer hashes to {actual})"
    )


def apply_blob(stores: Stores, layer: Descriptor, diff_id: str, target: str) -> int:
    from dockyard.archive.apply import apply_layer
    from dockyard.archive.compression import open_reader

    with stores.content.open(layer.digest) as raw:
        hr = HashingReader(open_reader(raw))
        result = apply_layer(hr, target, whiteouts="overlay")
        hr.drain()
    if hr.digest() != diff_id:
        raise _mismatch(layer, diff_id, hr.digest())
    return result.size


def _hash_blob(stores: Stores, layer: Descriptor) -> str:
    from dockyard.archive.compression import open_reader

    with stores.content.open(layer.digest) as raw:
        hr = HashingReader(open_reader(raw))
        hr.drain()
    return hr.digest()


def unpack_layers(
    stores: Stores,
    layers: list[Descriptor],
    diff_ids: list[str],
    lease,
    prepared=None,
    durable: bool = True,
) -> list[int]:
    """Make sure every layer's snapshot exists; return the unpacked size of each layer.

    A snapshot that exists already is reused; its blob is still checked against the diff id
    unless a layer record already ties the two together (it was checked when recorded).
    `prepared` maps blob digests to layers unpacked while they were read (pipeunpack's
    BackgroundApply with raw=True, its diff id measured); each is used at most once.
    `durable=False` creates the snapshots without a sync each: the caller flushes once
    (content/durable.py) before it records an image on them.
    """
    from dockyard.errors import InvalidArgument

    if len(layers) != len(diff_ids):
        raise InvalidArgument(
            f"image has {len(layers)} layers but its config lists {len(diff_ids)} diff ids"
        )
    meta, snaps = stores.meta, stores.snapshots
    sizes: list[int] = []
    parent = ""
    for layer, diff_id, chain in zip(layers, diff_ids, chain_ids(diff_ids), strict=True):
        lease.add("snapshot", chain)
        rec = snaps.get(chain)
        known = meta.layer_for_blob(layer.digest)
        early = prepared.pop(layer.digest, None) if prepared else None
        if early is not None and early.diff_id != diff_id:
            early.discard()
            raise _mismatch(layer, diff_id, early.diff_id)
        if rec is None and early is not None:
            try:
                rec = snaps.create(chain, parent, early.fill(), durable)
            finally:
                early.discard()
        elif early is not None:
            early.discard()  # the snapshot exists; the measured diff id was checked above
        elif rec is None:
            rec = snaps.create(
                chain,
                parent,
                lambda d, ly=layer, di=diff_id: apply_blob(stores, ly, di, d),
                durable,
            )
        elif known is None or known.diff_id != diff_id:
            actual = _hash_blob(stores, layer)
            if actual != diff_id:
                raise _mismatch(layer, diff_id, actual)
        sizes.append(rec.size)
        if known is None or known.diff_id != diff_id or known.size != rec.size:
            meta.put_layer(
                LayerRecord(diff_id, layer.digest, layer.media_type, layer.size, rec.size)
            )
        parent = chain
    return sizes
