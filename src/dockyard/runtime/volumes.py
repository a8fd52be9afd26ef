"""Volumes for containers: which ones a container asks for (pure), creating them, turning
them into mounts, and letting them go when the container is removed.

A volume lives in `volumes/<name>/_data` (the parents 0700). Its local-driver options pick
what a container really mounts: nothing (the directory, bound), `type=tmpfs` (a tmpfs of
its own, made at each start), or `type=none,o=bind,device=/path` (that host directory).

`plan` decides from the options: each `-v name:/p`, `-v /p` and `--mount type=volume`, then
every image VOLUME path no mount covers, becomes an entry of `ContainerSpec.volumes`:
(name, destination, mode, rw, nocopy, labels, bind text, anonymous), the name "" for an
anonymous one until `attach` names it.
`attach` (at create) names the anonymous ones, creates what is missing, records the
references, fills empty volumes from the image (`copyup`) and adds the host mounts to the
spec. `release` (at removal) drops the references and, when asked, the container's
anonymous volumes nobody else uses (as Docker, a volume the container named is never removed
with it, even one that was created anonymous).
"""

import os

from dockyard.errors import InvalidArgument, NotFound, Unsupported
from dockyard.topdir import make_top_dir

DRIVER = "local"
_LOCAL_OPTS = ("type", "device", "o")
_BIND_OPTS = frozenset({"bind", "rbind", "ro", "rw"})


# -- planning (pure) ----------------------------------------------------------------------


def plan(binds, volume_mounts, image_volumes, seen: set) -> tuple:
    """The spec's volume entries. `binds` are (source, destination, options, text) of the
    `-v` values naming volumes; `seen` holds every destination already mounted (updated)."""
    import posixpath

    out = []

    def add(name, dest, mode, rw, nocopy, labels, text):
        key = posixpath.normpath(dest).rstrip("/") or "/"
        if key in seen:
            raise InvalidArgument(f"Duplicate mount point: {key}")
        seen.add(key)
        out.append((name, dest, mode, rw, nocopy, tuple(labels), text, not name))

    for src, dst, opts, text in binds:
        rw = "ro" not in opts
        mode = ",".join(o for o in opts if o not in ("nocopy", "rw")) or ("z" if src else "")
        add(src, dst, mode, rw, "nocopy" in opts, (), text if src else "")
    for src, dst, ro, nocopy, labels in volume_mounts:
        if not dst.startswith("/") or dst.rstrip("/") == "":
            raise InvalidArgument(
                f"invalid mount config for type \"volume\": invalid mount path: '{dst}' mount path must be absolute"
            )
        if src:
            from dockyard.metadata.volumes import validate_name

            try:
                validate_name(src)
            except InvalidArgument as e:
                raise InvalidArgument(f"create {src}: {e}") from None
        add(src, dst, "", not ro, nocopy, labels, "")
    for dest in image_volumes:
        if not dest.startswith("/"):
            continue  # Docker refuses such an image at build; a hand-made one is ignored
        key = posixpath.normpath(dest).rstrip("/") or "/"
        if key == "/" or any(key == s for s in seen):
            continue
        add("", key, "", True, False, (), "")
    return tuple(out)


def volume_dir(volumes_dir: str, name: str) -> str:
    return os.path.join(volumes_dir, name)


def data_dir(volumes_dir: str, name: str) -> str:
    return os.path.join(volumes_dir, name, "_data")


def new_name() -> str:
    return os.urandom(32).hex()


def check_options(driver: str, options) -> None:
    """The local driver's `-o` keys; a bind needs an existing directory."""
    if driver != DRIVER:
        raise NotFound(f'plugin "{driver}" not found')
    opts = dict(options)
    for key in opts:
        if key not in _LOCAL_OPTS:
            raise InvalidArgument(f'invalid option: "{key}"')
    kind = opts.get("type", "")
    if not opts:
        return
    if kind == "tmpfs":
        return
    if kind in ("none", "") and _is_bind(opts):
        device = opts.get("device", "")
        if not device.startswith("/"):
            raise InvalidArgument("invalid option: bind device must be an absolute path")
        if not os.path.isdir(device):
            raise NotFound(
                f"failed to mount local volume: mount {device}: no such file or directory"
            )
        return
    if not kind:
        raise InvalidArgument('missing required option: "type"')
    raise Unsupported(f"volume type {kind!r} is not supported (use tmpfs or none with o=bind)")


def _is_bind(opts: dict) -> bool:
    return any(o in ("bind", "rbind") for o in opts.get("o", "").split(","))


# -- creating and removing ----------------------------------------------------------------


def _mkdir(path: str, mode: int) -> None:
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        return
    os.chmod(path, mode)  # mkdir's mode is filtered by the umask


def ensure(store, volumes_dir: str, name: str, labels=(), options=(), anonymous: bool = False):
    """The volume `name`, created (directories first, then the record) if it does not
    exist; (record, created)."""
    import time

    from dockyard.metadata.volumes import VolumeRecord, validate_name

    validate_name(name)
    rec = store.find(name)
    if rec is not None:
        return rec, False
    check_options(DRIVER, options)
    make_top_dir(volumes_dir)
    _mkdir(volume_dir(volumes_dir, name), 0o700)
    _mkdir(data_dir(volumes_dir, name), 0o755)
    rec = VolumeRecord(
        name, DRIVER, tuple(sorted(labels)), tuple(options), time.time_ns(), anonymous
    )
    if not store.insert(rec):
        return store.get(name), False  # someone else created it meanwhile
    return rec, True


def remove(store, volumes_dir: str, name: str, force: bool = False) -> bool:
    """Delete the record (Conflict while used), then its directory; False if it was absent
    and `force` said that is fine."""
    if store.find(name) is None and force:
        return False
    store.delete(name, force=force)
    remove_data(volumes_dir, name)
    return True


def remove_data(volumes_dir: str, name: str) -> None:
    """The volume's directory: renamed aside first (atomic), then deleted."""
    from dockyard.metadata.volumes import validate_name
    from dockyard.runtime.cleanup import remove_dir

    validate_name(name)  # one plain path component: never leaves volumes_dir
    path = volume_dir(volumes_dir, name)
    gone = os.path.join(volumes_dir, f".removing-{name}-{os.getpid()}")
    try:
        os.rename(path, gone)
    except FileNotFoundError:
        return
    remove_dir(gone)


def size(volumes_dir: str, name: str) -> int:
    """Bytes in the volume's directory (not following symlinks or crossing mounts)."""
    from dockyard.treesize import tree_size

    return tree_size(data_dir(volumes_dir, name), one_device=True)


# -- containers ---------------------------------------------------------------------------


def host_mount(volumes_dir: str, rec, dest: str, rw: bool) -> tuple:
    """The (destination, type, source, options) a container mounts for the volume."""
    opts = dict(rec.options)
    ro = () if rw else ("ro",)
    if opts.get("type") == "tmpfs":
        extra = tuple(o for o in opts.get("o", "").split(",") if o)
        return (dest, "tmpfs", "tmpfs", ro + extra)
    if opts and _is_bind(opts):
        device = opts.get("device", "")
        if not os.path.isdir(device):
            raise NotFound(
                f"error while mounting volume '{rec.name}': failed to mount local volume: "
                f"mount {device}: no such file or directory"
            )
        return (dest, "bind", device, (*ro, "rbind"))
    return (dest, "bind", data_dir(volumes_dir, rec.name), (*ro, "rbind"))


def attach(config, spec, cid: str, layers):
    """Create and reference the spec's volumes, fill empty ones from the image (`layers`:
    the container's upper dir then the image's lowerdirs), add their mounts; the new spec."""
    from dockyard.metadata.volumes import VolumeStore
    from dockyard.runtime import copyup

    for entry in spec.volumes:  # all checked before anything is created
        _check_target(copyup.clamp(layers, entry[1]), entry[1])
    entries = []
    mounts = list(spec.mounts)
    made: list[str] = []
    with VolumeStore(config.metadata_path) as store:
        try:
            for name, dest, mode, rw, nocopy, labels, text, anonymous in spec.volumes:
                name = name or new_name()
                with store.transaction():
                    rec, created = ensure(store, config.volumes_dir, name, labels, (), anonymous)
                    store.add_refs(cid, (name,))
                if created and anonymous:
                    made.append(name)
                entries.append((name, dest, mode, rw, nocopy, labels, text, anonymous))
                mount = host_mount(config.volumes_dir, rec, dest, rw)
                mounts.append(mount)
                if not nocopy and mount[1] == "bind":
                    copyup.fill(layers, dest, mount[2])
        except BaseException:
            _release(store, config.volumes_dir, cid, made)
            raise
    return spec.replace(volumes=tuple(entries), mounts=tuple(mounts))


def anonymous_names(spec) -> list[str]:
    """The volumes the container asked for without a name (`-v /p`, image VOLUMEs)."""
    return [v[0] for v in spec.volumes if len(v) > 7 and v[7] and v[0]]


def _check_target(where: str, dest: str) -> None:
    """Where a destination really lands in the image (its symlinks resolved) must not be
    the root or inside /proc, as runc refuses (an image could aim VOLUME at either)."""
    if where == "/":
        raise InvalidArgument(f"invalid mount config: {dest} resolves to the container's root")
    if where == "/proc" or where.startswith("/proc/"):
        raise InvalidArgument(
            f'invalid mount config: "{dest}" cannot be mounted because it is inside /proc'
        )


def release(db_path: str, volumes_dir: str, cid: str, remove_names=()) -> None:
    """Forget the container's references, then remove the volumes of `remove_names` (see
    `anonymous_names`: Docker's `rm -v` and `--rm`) that no other container uses."""
    from dockyard.metadata.volumes import VolumeStore

    with VolumeStore(db_path) as store:
        _release(store, volumes_dir, cid, remove_names)


def _release(store, volumes_dir: str, cid: str, remove_names) -> None:
    from dockyard.errors import Conflict

    with store.transaction():
        store.drop_refs(cid)
    for name in remove_names:
        rec = store.find(name)
        if rec is None or not rec.anonymous:
            continue
        try:
            remove(store, volumes_dir, name)
        except (Conflict, NotFound):
            continue  # another container uses it, or it went meanwhile


def mount_json(spec) -> list[dict]:
    """Docker's `Mounts` entries of the spec's volumes (inspect and ps)."""
    by_dest = {m[0]: m for m in spec.mounts}
    out = []
    for name, dest, mode, rw, *_ in spec.volumes:
        m = by_dest.get(dest)
        out.append(
            {"Type": "volume", "Name": name, "Source": m[2] if m and m[1] == "bind" else "",
             "Destination": dest, "Driver": DRIVER, "Mode": mode, "RW": bool(rw),
             "Propagation": ""}
        )  # fmt: skip
    return out
