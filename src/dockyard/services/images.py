"""ImageService: the image use-cases (import, save, load, list, inspect, history, tag, remove,
prune, disk usage, GC) over the local stores, as the CLI and the Engine API call them.

The stores are opened on first use. New content is protected by a lease (and the shared GC
lock) while it is being written; GC runs after removals, outside any lease.
"""

from __future__ import annotations  # the method `list` shadows the builtin in annotations

import os

from dockyard.config import Config
from dockyard.errors import DockyardError, InvalidArgument
from dockyard.metadata.records import ImageRecord

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are never evaluated
    from typing import BinaryIO

    from dockyard.images.dockerjson import HistoryEntry, ImageSummary

__all__ = ["ImageService"]


class ImageService:
    def __init__(self, config: Config, in_use=None):
        self.config = config
        self._meta = None
        self._content = None
        self._snapshots = None
        # image id -> bool: does a container use it? (wired by the container service)
        self._in_use = in_use or (lambda image_id: False)

    # -- stores -----------------------------------------------------------------------

    @property
    def meta(self):
        if self._meta is None:
            from dockyard.metadata.store import MetadataStore

            self._meta = MetadataStore(self.config.metadata_path)
            if _marked(self.config.root):
                self._check_after_power_cut()
        return self._meta

    def _check_after_power_cut(self) -> None:
        from dockyard.content.lateflush import crashed

        since = crashed(self.config.root)
        if since is not None:  # a power cut came before a late flush: repair first
            from dockyard.images.recovery import recover

            recover(self.config.root, self._stores(), since, self._forget_cached)

    def _forget_cached(self, gone: set[str]) -> None:
        """Drop the build cache's results that name a blob, snapshot or image in `gone`."""
        from dockyard.build.cachedb import BuildCacheDB
        from dockyard.services.builds import step_chain

        cache = BuildCacheDB(self.config.metadata_path)
        try:
            keys = [key for key, blob, _size, inputs, _used in cache.entries()
                    if blob in gone or step_chain(inputs) in gone]  # fmt: skip
            if keys:
                cache.forget(keys, checksums=False)
        finally:
            cache.close()

    @property
    def content(self):
        if self._content is None:
            from dockyard.content.store import ContentStore

            self._content = ContentStore(self.config.content_dir)
        return self._content

    @property
    def snapshots(self):
        if self._snapshots is None:
            from dockyard.snapshots.store import SnapshotStore

            self._snapshots = SnapshotStore(self.config.snapshots_dir, self.meta)
        return self._snapshots

    def _stores(self):
        from dockyard.images.unpack import Stores

        return Stores(self.content, self.meta, self.snapshots)

    def _lease(self):
        from dockyard.metadata.lease import Lease, gc_lock_path

        return Lease(self.meta, gc_lock_path(self.config.root))

    def close(self) -> None:
        if self._meta is not None:
            self._meta.close()
            self._meta = None

    # -- lookups ----------------------------------------------------------------------

    def resolve(self, name_or_id: str) -> ImageRecord:
        from dockyard.images.query import resolve_ref

        return resolve_ref(self.meta, name_or_id)[0]

    def _config(self, rec: ImageRecord):
        from dockyard.oci.image import parse_image_config

        return parse_image_config(self.content.read(rec.id, max_size=16 << 20))

    def list(
        self, all: bool = False, filters: dict[str, list[str]] | None = None
    ) -> list[ImageSummary]:
        from dockyard.images.query import summaries

        return summaries(self.meta, self.content, all, filters)

    def inspect(self, name_or_id: str) -> dict:
        from dockyard.images import dockerjson
        from dockyard.images.query import familiar
        from dockyard.images.timefmt import from_unix
        from dockyard.oci.ids import chain_ids

        rec = self.resolve(name_or_id)
        cfg = self._config(rec)
        lower: list[str] = []
        if cfg.diff_ids:
            top = chain_ids(cfg.diff_ids)[-1]
            if self.snapshots.get(top) is not None:
                lower = self.snapshots.lowerdirs(top)
        tags = [familiar(t) for t in self.meta.tags_for(rec.id)]
        facts = dockerjson.InspectFacts(
            id=rec.id,
            parent=rec.parent,
            repo_tags=tags,
            repo_digests=[familiar(d) for d in self.meta.repo_digests_for(rec.id)],
            size=rec.size,
            lower_dirs=lower,
            last_tag_time=from_unix(rec.added_at) if tags else "0001-01-01T00:00:00Z",
        )
        return dockerjson.inspect(cfg, facts)

    def history(self, name_or_id: str) -> list[HistoryEntry]:
        from dockyard.images import dockerjson
        from dockyard.images.query import familiar
        from dockyard.oci.ids import chain_ids

        rec = self.resolve(name_or_id)
        cfg = self._config(rec)
        sizes = []
        for chain in chain_ids(cfg.diff_ids):
            snap = self.snapshots.get(chain)
            sizes.append(snap.size if snap is not None else 0)
        tags = [familiar(t) for t in self.meta.tags_for(rec.id)]
        return dockerjson.history(cfg, rec.id, tags, sizes)

    # -- making images ----------------------------------------------------------------

    def import_rootfs(
        self,
        src: BinaryIO,
        reference: str | None,
        changes: list[str],
        message: str,
        platform: str | None = None,
    ) -> str:
        from dockyard.images.importer import ImportOptions, import_rootfs

        tags = [self._tag_name(reference)] if reference else []
        # Docker's comment names the URL an import came from, and "-" for anything streamed
        # (its client streams local files too).
        url = getattr(src, "url", None)
        source = url if isinstance(url, str) and url.startswith(("http://", "https://")) else "-"
        opts = ImportOptions(tags, list(changes or []), message or "", platform, source)
        with self.marked_writes(), self._lease() as lease:
            return import_rootfs(self._stores(), src, opts, lease, self.config.tmp_dir,
                                 marked=True)  # fmt: skip

    def load(self, src: BinaryIO) -> list[str]:
        from dockyard.images.importer import host_platform
        from dockyard.images.load import load

        with self.marked_writes(), self._lease() as lease:
            return load(self._stores(), src, lease, host_platform(None), self.config.tmp_dir,
                        marked=True)  # fmt: skip

    def marked_writes(self):
        """The data root marked for the objects about to be written (content.lateflush;
        import, load, and the distribution service's pull): their records go in without a
        flush; leaving it (`with`, or `release`) lets the flush run after."""
        from dockyard.content.lateflush import Marked

        self.meta  # noqa: B018 - a power cut's repair first, if one is due
        return Marked(self.config.root, (self.content.root, self.snapshots.root))

    def save(self, names: list[str], out: BinaryIO) -> None:
        from dockyard.images.save import save

        if not names:
            raise InvalidArgument("save needs at least one image name")
        save(self.content, self._save_items(names), out)

    def _save_items(self, names: list[str]):
        """Docker's name handling: name:tag -> that tag; bare name -> all its tags; id -> no tag."""
        from dockyard import reference
        from dockyard.images.save import SaveItem

        items: dict[str, SaveItem] = {}

        def add(rec: ImageRecord, ref=None) -> None:
            item = items.setdefault(rec.id, SaveItem(rec.id, rec.manifest_digest))
            if ref is not None and all(str(r) != str(ref) for r in item.tags):
                item.tags.append(ref)

        for name in names:
            ref = None
            try:
                ref = reference.parse_normalized(name)
            except InvalidArgument:
                pass
            if (
                ref is not None
                and not ref.tag
                and not ref.digest
                and not reference.is_full_id(name)
            ):
                tags = [t for t in self.meta.list_tags() if t.rpartition(":")[0] == ref.name]
                if tags:
                    for t in tags:
                        add(self.meta.get_image(self.meta.get_tag(t)), reference.parse(t))
                    continue
            from dockyard.images.query import resolve_ref

            rec, tag = resolve_ref(self.meta, name)
            add(rec, reference.parse(tag) if tag else None)
        return list(items.values())

    # -- names ------------------------------------------------------------------------

    @staticmethod
    def _tag_name(target: str) -> str:
        from dockyard import reference

        ref = reference.parse_normalized_tagged(target)
        if ref.digest:
            raise InvalidArgument("refusing to create a tag with a digest reference")
        return str(ref)

    def tag(self, source: str, target: str) -> None:
        name = self._tag_name(target)
        rec = self.resolve(source)
        self.meta.set_tag(name, rec.id)

    # -- removing ---------------------------------------------------------------------

    def remove(self, name_or_id: str, force: bool = False, prune: bool = True) -> list[dict]:
        from dockyard.images.remove import remove

        out = remove(self.meta, name_or_id, force, prune, self._in_use)
        if any("Deleted" in r for r in out):
            self.gc()
        return out

    def prune(
        self, all: bool = False, filters: dict[str, list[str]] | None = None
    ) -> tuple[list[dict], int]:
        from dockyard.images.remove import prune

        out = prune(self.meta, self.content, all, filters, self._in_use)
        reclaimed = self.gc().reclaimed if out else 0
        return out, reclaimed

    def gc(self):
        from dockyard.metadata.gc import collect

        return collect(self.meta, self.content, self.snapshots)

    def disk_usage(self) -> dict:
        from dockyard.oci.ids import chain_ids

        summaries = self.list(all=True)
        chains: dict[str, list[str]] = {}
        users: dict[str, int] = {}
        for s in summaries:
            try:
                ids = chain_ids(self._config(self.meta.get_image(s.Id)).diff_ids)
            except DockyardError:  # a damaged image still shows up, without layers
                ids = []
            chains[s.Id] = ids
            for c in set(ids):
                users[c] = users.get(c, 0) + 1
        sizes: dict[str, int] = {}
        for c in users:
            snap = self.snapshots.get(c)
            sizes[c] = snap.size if snap is not None else 0
        images = []
        for s in summaries:
            s.SharedSize = sum(sizes[c] for c in set(chains[s.Id]) if users[c] > 1)
            s.Containers = 0
            images.append(s.to_json())
        return {"LayersSize": sum(sizes.values()), "Images": images}


def _marked(root: str) -> bool:
    """Is the late-flush mark set (`content.lateflush.MARK` not empty)? One stat: every
    command that opens the store asks, and that module need not load for the answer."""
    try:
        return os.stat(os.path.join(root, "unflushed")).st_size > 0
    except OSError:
        return False
