"""ContainerFS: the container filesystem use-cases — stat, archive out, extract in (what
`cp` is made of, as Docker's /containers/{id}/archive), `diff`, `export` and `commit` —
over ContainerService and its ImageService.

A running container is reached through its own mount namespace, a stopped one through its
overlay mounted in a private mount namespace of a helper child (`runtime.fsaccess`);
the host's mount table never changes.
"""

from __future__ import annotations

import os

from dockyard.errors import NotFound
from dockyard.record import Record
from dockyard.runtime import state as ST


class PathStat(Record):
    """Docker's ContainerPathStat, with a unix st_mode."""

    name: str
    size: int
    mode: int
    mtime: int  # ns
    link_target: str
    __slots__ = _fields = ("name", "size", "mode", "mtime", "link_target")

    @property
    def is_dir(self) -> bool:
        import stat

        return stat.S_ISDIR(self.mode)

    @property
    def is_link(self) -> bool:
        import stat

        return stat.S_ISLNK(self.mode)


class ArchiveReader:
    """The tar of a container path, read from the helper's pipe; `close` waits for the
    helper and raises its error (the tar is then incomplete)."""

    def __init__(self, stat: PathStat, fd: int, child):
        self.stat = stat
        self._f = open(fd, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        self._child = child

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._f.read(n)

    def readinto(self, buf) -> int:
        return self._f.readinto(buf)

    def fileno(self) -> int:
        return self._f.fileno()

    def close(self) -> None:
        if self._child is None:
            return
        child, self._child = self._child, None
        self._f.close()
        child.wait()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            try:
                self.close()
            except Exception:
                pass  # the first error is the one to report
            return
        self.close()


class ContainerFS:
    def __init__(self, containers):
        self.containers = containers  # ContainerService

    # -- reaching the root --------------------------------------------------------------

    def _target(self, rec, lay, spec=None):
        """How to reach the container's root; with `spec`, a stopped one's bind mounts too."""
        from dockyard.runtime.fsaccess import Target
        from dockyard.runtime.launch import cgroup_name

        lowers = tuple(self.containers.images.snapshots.lowerdirs(rec.snapshot))
        pid = rec.pid if rec.state in (ST.RUNNING, ST.PAUSED) else 0
        binds = ()
        if spec is not None:
            binds = tuple((d, s, "ro" in o) for d, t, s, o in spec.mounts if t == "bind")
        return Target(pid, cgroup_name(rec.id), lowers, lay.upper, lay.work, lay.rootfs, binds)

    def _find(self, ref: str):
        rec = self.containers._get(ref)
        return rec, self.containers._layout(rec.id)

    def _access(self, ref: str, write: bool = False):
        """(record, spec, target, mode) for reaching the container's root as `cp` does."""
        from dockyard.runtime import fsaccess as FA
        from dockyard.runtime.containerspec import from_json

        rec, lay = self._find(ref)
        if rec.state in (ST.REMOVING, ST.DEAD):
            from dockyard.errors import Conflict

            raise Conflict(f"container {rec.id} is marked for removal and cannot be used")
        if write and rec.state == ST.RESTARTING:
            from dockyard.errors import Conflict

            # its overlay may be mounted again at any moment: never two writers on one upper
            raise Conflict(f"Container {rec.id} is restarting, wait until the container is running")
        spec = from_json(rec.spec)
        target = self._target(rec, lay, spec)
        mode = FA.LIVE if target.pid else (FA.WRITE if write else FA.VIEW)
        return rec, spec, target, mode

    # -- cp -----------------------------------------------------------------------------

    def stat_path(self, ref: str, path: str) -> PathStat:
        """Docker's HEAD /containers/{id}/archive: NotFound names container:path."""
        from dockyard.errors import Conflict
        from dockyard.runtime import fsaccess, fsops

        for attempt in range(2):
            _, _, target, mode = self._access(ref)
            try:
                return PathStat(**fsaccess.run(target, mode, fsops.stat_path, path))
            except NotFound:
                raise NotFound(f"No such container:path: {ref}:{path}") from None
            except Conflict:
                if mode != fsaccess.LIVE or attempt:
                    raise
                # it stopped between the record and the helper: reach it stopped
        raise AssertionError("unreachable")

    def open_archive(self, ref: str, path: str, rebase: str | None = None) -> ArchiveReader:
        """Docker's GET /containers/{id}/archive as a stream: the tar of `path`, its entries
        named from `rebase` (default: the path's base name)."""
        from dockyard.runtime import fsaccess, fsops

        st = self.stat_path(ref, path)
        _, _, target, mode = self._access(ref)
        r, w = os.pipe2(os.O_CLOEXEC)
        try:
            child = fsaccess.spawn(target, mode, fsops.archive, path, w, rebase, close_fds=(r,))
        except BaseException:
            os.close(r)
            raise
        finally:
            os.close(w)
        return ArchiveReader(st, r, child)

    def put_archive(self, ref: str, path: str, src, copy_uid_gid: bool = False) -> None:
        """Docker's PUT /containers/{id}/archive: extract the tar `src` (a binary stream,
        or `src(out)` writing it) into the directory `path`. Entries are owned by root
        unless `copy_uid_gid`."""
        from dockyard.runtime import fsaccess
        from dockyard.runtime.containerlock import LifecycleLock

        rec, spec, target, mode = self._access(ref, write=True)
        lock = None
        if mode == fsaccess.WRITE:  # its upper dir mounted read-write: no start meanwhile
            lock = LifecycleLock(self.containers._layout(rec.id).dir).__enter__()
            _, spec, target, mode = self._access(rec.id, write=True)
            if mode != fsaccess.WRITE:  # it started before we had the lock
                lock.release()
        try:
            self._extract(ref, path, src, copy_uid_gid, spec, target, mode)
        finally:
            if lock is not None:
                lock.release()

    def _extract(self, ref, path, src, copy_uid_gid, spec, target, mode) -> None:
        from dockyard.runtime import fsaccess, fsops

        volumes = _mount_destinations(spec)
        readonly = _mount_destinations(spec, readonly=True)
        r, w = os.pipe2(os.O_CLOEXEC)
        try:
            child = fsaccess.spawn(
                target, mode, fsops.extract, path, r, copy_uid_gid, spec.readonly, volumes,
                readonly, close_fds=(w,),
            )  # fmt: skip
        except BaseException:
            os.close(w)
            raise
        finally:
            os.close(r)
        try:
            if callable(src):
                with open(w, "wb", buffering=0, closefd=False) as out:
                    src(out)
            else:
                _pump(src, w)
        except BrokenPipeError:
            pass  # the helper stopped reading: its answer says why
        except BaseException:
            os.close(w)  # the helper sees a cut tar and stops; ours is the error to report
            try:
                child.wait()
            except Exception:
                pass
            raise
        os.close(w)
        try:
            child.wait()
        except NotFound:
            raise NotFound(f"No such container:path: {ref}:{path}") from None

    # -- diff / export ------------------------------------------------------------------

    def _scan(self, rec, lay):
        from dockyard.runtime import fsdiff
        from dockyard.runtime.containerspec import from_json

        spec = from_json(rec.spec)
        excluded = fsdiff.excluded_paths(_mount_destinations(spec))
        lowers = self.containers.images.snapshots.lowerdirs(rec.snapshot)
        return fsdiff.scan(lay.upper, lowers, excluded)

    def changes(self, ref: str) -> list:
        """Docker's GET /containers/{id}/changes: `fsdiff.Change`s in Docker's order."""
        rec, lay = self._find(ref)
        return self._scan(rec, lay)[0]

    def export(self, ref: str, out) -> None:
        """The container's merged root filesystem as a tar on `out` (a binary file)."""
        from dockyard.runtime import fsaccess, fsops

        rec, lay = self._find(ref)
        target = self._target(rec, lay)
        flush = getattr(out, "flush", None)
        if flush is not None:
            flush()
        try:
            fd = out.fileno()
        except (AttributeError, OSError, ValueError):
            fd = -1
        if fd >= 0:
            fsaccess.run(target, fsaccess.VIEW, fsops.export, fd)
            return
        r, w = os.pipe2(os.O_CLOEXEC)
        try:
            child = fsaccess.spawn(target, fsaccess.VIEW, fsops.export, w, close_fds=(r,))
        except BaseException:
            os.close(r)
            raise
        finally:
            os.close(w)
        try:
            with open(r, "rb", buffering=0) as f:
                while chunk := f.read(1 << 20):
                    out.write(chunk)
        finally:
            child.wait()

    # -- commit -------------------------------------------------------------------------

    def commit(
        self, ref: str, reference: str | None = None, author: str = "", comment: str = "",
        changes: list[str] | tuple[str, ...] = (), pause: bool = True,
    ) -> str:  # fmt: skip
        """Docker's POST /commit: a new image from the container's changes; its id."""
        from dockyard.runtime.containerlock import LifecycleLock

        rec, lay = self._find(ref)
        lock = None
        if rec.state not in ST.LIVE:  # stopped: no start changes its upper dir meanwhile
            lock = LifecycleLock(lay.dir).__enter__()
            rec, lay = self._find(ref)
        try:
            return self._commit(rec, lay, reference, author, comment, changes, pause)
        finally:
            if lock is not None:
                lock.release()

    def _commit(self, rec, lay, reference, author, comment, changes, pause) -> str:
        from dockyard.images.changes import apply_changes
        from dockyard.images.commit import CommitRequest
        from dockyard.images.commit import commit as make_image
        from dockyard.oci.image import parse_image_config
        from dockyard.runtime.containerspec import from_json
        from dockyard.services.commitconfig import container_config, created_by

        spec = from_json(rec.spec)
        images = self.containers.images
        parent = images.resolve(rec.image_id)
        pcfg = parse_image_config(images.content.read(parent.id, max_size=16 << 20))
        config = apply_changes(container_config(spec, pcfg.config), list(changes))
        tags = [_tag_name(reference)] if reference else []
        req = CommitRequest(parent.id, config, author, comment, created_by(spec, pcfg.config), tags)
        frozen = None
        if pause and rec.state == ST.RUNNING:
            from dockyard.runtime.freezeguard import Frozen
            from dockyard.runtime.launch import cgroup_name

            # thawed on every way out, this process's death included (its guard)
            frozen = Frozen(self.containers.driver, cgroup_name(rec.id)).__enter__()
        try:
            _, skip = self._scan(rec, lay)

            def write(out) -> None:
                _write_upper(lay.upper, skip, out)

            from dockyard.images.unpack import Stores
            from dockyard.metadata.lease import Lease, gc_lock_path

            stores = Stores(images.content, images.meta, images.snapshots)
            with Lease(images.meta, gc_lock_path(self.containers.config.root)) as lease:
                return make_image(stores, lease, req, write)
        finally:
            if frozen is not None:
                frozen.__exit__(None, None, None)


def _mount_destinations(spec, readonly: bool = False) -> list[str]:
    """Where binds, tmpfs and volumes are mounted in the container (only the read-only ones)."""
    dests = [d for d, _t, _s, o in spec.mounts if not readonly or "ro" in o]
    # named and anonymous volumes: (name, destination, mode, rw, ...), see runtime.volumes
    dests.extend(v[1] for v in getattr(spec, "volumes", ()) or () if not readonly or not v[3])
    return dests


def _tag_name(target: str) -> str:
    from dockyard import reference
    from dockyard.errors import InvalidArgument

    ref = reference.parse_normalized_tagged(target)
    if ref.digest:
        raise InvalidArgument("refusing to create a tag with a digest reference")
    return str(ref)


def _write_upper(upper: str, skip, out) -> None:
    from dockyard.archive.fdtree import TreeWriter
    from dockyard.archive.tarwriter import TarWriter

    fd = os.open(upper, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        w = TarWriter(out)
        TreeWriter(w, overlay_upper=True, skip=skip).add_root(fd, "")
        w.close()
    finally:
        os.close(fd)


def _pump(src, fd: int) -> None:
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    readinto = getattr(src, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(buf)
            chunk = view[: n or 0]
        else:
            chunk = src.read(1 << 20)
        if not chunk:
            return
        out = memoryview(chunk)
        while out:
            out = out[os.write(fd, out) :]
