"""VolumeService: the volume use-cases (create, list, inspect, remove, prune, disk usage)
as the CLI and the Engine API call them, over `metadata.volumes` and `runtime.volumes`.

Volumes are returned as Docker's /volumes JSON (CreatedAt, Driver, Labels, Mountpoint,
Name, Options, Scope). Anonymous volumes carry Docker's `com.docker.volume.anonymous`
label, which is what `prune` without `all` selects (Docker 23+).
"""

from __future__ import annotations  # `list` is a method name here

import os

from dockyard.config import Config
from dockyard.errors import InvalidArgument
from dockyard.labels import matches as labels_match

ANONYMOUS_LABEL = "com.docker.volume.anonymous"
_FILTERS = ("dangling", "name", "label", "label!", "driver")
_PRUNE_FILTERS = ("label", "label!", "all")


def _created_at(ns: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ns // 1_000_000_000))


def _bool(text: str, key: str) -> bool:
    if text.lower() in ("1", "true"):
        return True
    if text.lower() in ("0", "false"):
        return False
    raise InvalidArgument(f"invalid filter '{key}={text}'")


class VolumeService:
    def __init__(self, config: Config):
        self.config = config

    def _store(self):
        from dockyard.metadata.volumes import VolumeStore

        os.makedirs(self.config.root, 0o700, exist_ok=True)
        return VolumeStore(self.config.metadata_path)

    def to_json(self, rec) -> dict:
        from dockyard.runtime.volumes import data_dir

        labels = dict(rec.labels)
        if rec.anonymous:
            labels.setdefault(ANONYMOUS_LABEL, "")
        return {
            "CreatedAt": _created_at(rec.created),
            "Driver": rec.driver,
            "Labels": labels or None,
            "Mountpoint": data_dir(self.config.volumes_dir, rec.name),
            "Name": rec.name,
            "Options": dict(rec.options) or None,
            "Scope": "local",
        }

    def create(self, name: str = "", driver: str = "local", labels=(), options=()) -> dict:
        """Docker's create: an existing name is returned as is (no error)."""
        from dockyard.runtime import volumes as V

        V.check_options(driver or "local", options)
        if name:
            from dockyard.metadata.volumes import validate_name

            try:
                validate_name(name)
            except InvalidArgument as e:
                raise InvalidArgument(f"create {name}: {e}") from None
        with self._store() as store:
            with store.transaction():
                rec, _ = V.ensure(
                    store, self.config.volumes_dir, name or V.new_name(), labels, options
                )
            return self.to_json(rec)

    def inspect(self, name: str) -> dict:
        with self._store() as store:
            return self.to_json(store.get(name))

    def list(self, filters: dict | None = None) -> list[dict]:
        """Every volume matching Docker's filters (dangling, name, label, driver), by name."""
        filters = dict(filters or {})
        for key in filters:
            if key not in _FILTERS:
                raise InvalidArgument(f"invalid filter '{key}'")
        with self._store() as store:
            recs = store.list()
            used = store.usage() if "dangling" in filters else {}
        out = []
        for rec in recs:
            vol = self.to_json(rec)
            labels = vol["Labels"] or {}
            if "dangling" in filters:
                want = {_bool(v, "dangling") for v in filters["dangling"]}
                if (rec.name not in used) not in want:
                    continue
            if filters.get("name") and not any(v in rec.name for v in filters["name"]):
                continue
            if filters.get("driver") and rec.driver not in filters["driver"]:
                continue
            if not labels_match(labels, filters.get("label", []), False):
                continue
            if not labels_match(labels, filters.get("label!", []), True):
                continue
            out.append(vol)
        return out

    def remove(self, name: str, force: bool = False) -> None:
        """Docker's rm: Conflict ("volume is in use") while a container uses it, even with
        `force`; `force` makes a missing volume no error."""
        from dockyard.runtime import volumes as V

        with self._store() as store:
            V.remove(store, self.config.volumes_dir, name, force=force)

    def prune(self, all: bool = False, filters: dict | None = None) -> tuple[list[str], int]:
        """Remove unused volumes (only anonymous ones unless `all`); (names, bytes freed)."""
        from dockyard.errors import Conflict, NotFound
        from dockyard.runtime import volumes as V

        filters = dict(filters or {})
        for key in filters:
            if key not in _PRUNE_FILTERS:
                raise InvalidArgument(f"invalid filter '{key}'")
        if "all" in filters:
            all = all or any(_bool(v, "all") for v in filters["all"])
        deleted, reclaimed = [], 0
        with self._store() as store:
            used = store.usage()
            for rec in store.list():
                if rec.name in used or not (all or rec.anonymous):
                    continue
                labels = self.to_json(rec)["Labels"] or {}
                if not labels_match(labels, filters.get("label", []), False):
                    continue
                if not labels_match(labels, filters.get("label!", []), True):
                    continue
                freed = V.size(self.config.volumes_dir, rec.name)
                try:
                    V.remove(store, self.config.volumes_dir, rec.name)
                except (Conflict, NotFound):
                    continue  # taken into use, or removed, meanwhile
                deleted.append(rec.name)
                reclaimed += freed
        return deleted, reclaimed

    def disk_usage(self) -> list[dict]:
        """Each volume's JSON with Docker's UsageData {Size, RefCount}."""
        from dockyard.runtime import volumes as V

        with self._store() as store:
            recs = store.list()
            used = store.usage()
        out = []
        for rec in recs:
            vol = self.to_json(rec)
            vol["UsageData"] = {
                "Size": V.size(self.config.volumes_dir, rec.name),
                "RefCount": used.get(rec.name, 0),
            }
            out.append(vol)
        return out
