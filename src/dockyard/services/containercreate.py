"""Creating a container for `ContainerService`: the image resolved, the spec decided, the
directories and /etc files made, the record inserted (or left to the caller: `run` inserts
it once the start is under way), and undoing all that when something fails."""

import os

from dockyard.errors import Conflict, InvalidArgument
from dockyard.runtime import state as ST
from dockyard.topdir import make_top_dir


def create(svc, opts, insert: bool = True):
    """`create`: (record, its spec, the image's lowerdirs), for a start right after.
    `insert` False: everything but the record, which the caller inserts (`insert_record`) or
    undoes (`undo_create`)."""
    import time

    from dockyard.runtime import containerspec as CS
    from dockyard.runtime import etcfiles, names, rootfs
    from dockyard.runtime import spec as S
    from dockyard.runtime.store import ContainerRecord

    if not opts.image:
        raise InvalidArgument("image name cannot be empty")
    img = svc.images.resolve(opts.image)
    diff_ids, defaults = S.image_defaults(svc._image_config(img.id))
    if not diff_ids:
        raise InvalidArgument(f"image {opts.image} has no layers")
    top = diff_ids[0] if len(diff_ids) == 1 else _top_chain_id(diff_ids)
    lowers = lowerdirs(svc.images, top)
    user_spec = opts.user or defaults.user
    passwd = rootfs.read_file(lowers, "/etc/passwd") or ""
    group = rootfs.read_file(lowers, "/etc/group") or ""
    user = S.resolve_user(user_spec, passwd, group)
    cid = names.new_id()
    spec = CS.build(opts, defaults, user, cid, os.cpu_count())
    if spec.seccomp != "unconfined":
        from dockyard.runtime.starter import seccomp_path

        spec = spec.replace(seccomp_bpf=seccomp_path(svc.config.root, spec))
    name = names.validate(opts.name) if opts.name else ""
    lay = svc._layout(cid)
    make_top_dir(svc.config.containers_dir)
    os.mkdir(lay.dir, 0o700)
    try:
        for d in (lay.rootfs, lay.upper, lay.work):
            os.mkdir(d, 0o755)
        rootfs.ensure_dir(lowers, lay.upper, spec.cwd)
        etcfiles.write_all(lay, spec.hostname, spec.extra_hosts)
        if spec.log_driver != "json-file" or spec.log_opts:
            from dockyard.runtime.jsonlog import write_config

            write_config(lay.dir, spec.log_driver, spec.log_opts)
        if spec.volumes:  # create, reference and fill them; their mounts join the spec
            from dockyard.runtime import volumes

            spec = volumes.attach(svc.config, spec, cid, (lay.upper, *lowers))
        rec = ContainerRecord(
            id=cid, name=name or names.generate(), image=opts.image, image_id=img.id,
            snapshot=top, created=time.time_ns(), state=ST.CREATED, spec=CS.to_json(spec),
        )  # fmt: skip
        if insert:
            insert_record(svc, rec, generated=not name)
    except BaseException:
        undo_create(svc, cid, spec)
        raise
    return rec, spec, lowers


def undo_create(svc, cid: str, spec) -> None:
    """What `_create` made besides the record: the volumes' references, the directory."""
    from dockyard.runtime.cleanup import remove_dir

    if spec.volumes:
        from dockyard.runtime import volumes as V

        V.release(svc.config.metadata_path, svc.config.volumes_dir, cid,
                  V.anonymous_names(spec))  # fmt: skip
    remove_dir(svc._layout(cid).dir)


def insert_record(svc, rec, generated: bool) -> None:
    from dockyard.runtime import names

    for attempt in range(10):
        try:
            svc.store.insert(rec)
            return
        except Conflict:
            if not generated or attempt == 9:
                raise
            rec = rec.replace(name=names.generate(attempt + 1))


def lowerdirs(images, key: str) -> list[str]:
    """The snapshot's fs dirs, top-most first, straight from the metadata (the snapshot
    store's `lowerdirs`, without importing it: ~2 ms on every `run`)."""
    return [r.dir for r in images.meta.snapshot_chain(key)]


def _top_chain_id(diff_ids) -> str:
    # apart: oci.ids imports hashlib (~2 ms), which a one-layer image never needs
    from dockyard.oci.ids import chain_ids

    return chain_ids(diff_ids)[-1]
