"""Starting a container record: the seccomp program, the cgroup, the init config, the
supervisor. Shared by the service's `start` and the finisher's policy restart.

`seccomp_path` finds (or compiles once) the BPF file for a spec; the default profile's
file is found through a small index keyed by capabilities, kernel and machine, so the
start path never builds the profile.
"""

import os

from dockyard.errors import InvalidArgument


def seccomp_path(root: str, spec) -> str:
    from dockyard.linux.seccomp import cache

    if spec.seccomp == "default":
        return cache.default_program(os.path.join(root, "seccomp"), frozenset(spec.caps))[0]
    return _compile(root, spec)


def _compile(root: str, spec) -> str:
    """A profile from a file (`--security-opt seccomp=FILE`), compiled and cached."""
    from dockyard.linux import caps as C
    from dockyard.linux.seccomp import cache, profile
    from dockyard.linux.seccomp.dockerjson import MAX_PROFILE, parse

    try:
        with open(spec.seccomp, "rb") as f:
            data = f.read(MAX_PROFILE + 1)
    except OSError as e:
        raise InvalidArgument(f"opening seccomp profile ({spec.seccomp}) failed: {e}")
    resolved = profile.resolve(parse(data), C.names(frozenset(spec.caps)))
    path, _ = cache.get_or_compile(os.path.join(root, "seccomp"), resolved)
    return path


def start(config, store, driver, rec, lowerdirs, attach=None, from_states=("created", "exited"),
          pre=None, detach_keys: bytes = b"", spec=None, before_wait=None,
          client_removes: bool = False):  # fmt: skip
    """Start `rec` (already checked by the caller); returns `launch.Started`. `pre`: a
    supervisor already forked (`launch.prefork`), consumed here: it makes the cgroup and the
    init's config itself, beside the init's own start. `spec`: the record's spec, when the
    caller has it decoded already. `driver`: the cgroup driver, or a callable returning it
    (a forked supervisor detects its own). `before_wait`, `client_removes`: see
    `launch.start`."""
    from dockyard.runtime import launch

    try:
        spec, bpf = spec_and_bpf(config, rec, spec)
        lay = launch.layout(config.containers_dir, rec.id)
        if pre is None:
            driver = _driver(driver)
            join, cg_fd = launch.prepare_cgroup(driver, rec.id, spec)
    except BaseException:
        if pre is not None:
            launch.cancel(pre)
        raise
    handed = False
    lock = -1
    try:
        # with `pre`, the supervisor builds it
        cfg = launch.init_config(spec, lay, lowerdirs, bpf, join, cg_fd) if pre is None else None
        if not (attach is not None and spec.open_stdin):
            attach = None if attach is None else (-1, attach[1], attach[2])
        # wait for a cp into the stopped container or a commit (runtime.containerlock), and
        # hold them off until it runs: its upper dir is never mounted read-write twice
        lock = os.open(os.path.join(lay.dir, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        os.lockf(lock, os.F_LOCK, 0)
        handed = True  # launch.start owns `pre` from here, on every path
        started = launch.start(
            store, rec, spec, lay, cfg, driver if pre is None else None, config, attach,
            from_states, pre, detach_keys, lowerdirs=lowerdirs, bpf=bpf, before_wait=before_wait,
            client_removes=client_removes,
        )  # fmt: skip
    except BaseException:
        if pre is not None and not handed:
            launch.cancel(pre)
        from dockyard.runtime.cleanup import remove_cgroup

        remove_cgroup(_driver(driver), launch.cgroup_name(rec.id))
        raise
    finally:
        if lock >= 0:
            os.close(lock)  # drops the lock
    if spec.healthcheck is not None:  # its monitor, started with every start and restart
        from dockyard.runtime.healthmonitor import start_for

        start_for(config, rec.id, lay.dir, spec, started.pid)
    return started


def _driver(driver):
    return driver() if callable(driver) else driver


def spec_and_bpf(config, rec, spec=None):
    """The record's spec (`spec`, if decoded already) and its seccomp BPF bytes (None when
    unconfined), compiled again if the cache was cleared."""
    from dockyard.linux.seccomp import cache

    if spec is None:
        from dockyard.runtime.containerspec import from_json

        spec = from_json(rec.spec)
    bpf = None
    if spec.seccomp != "unconfined":
        bpf = cache.read(spec.seccomp_bpf)
        if bpf is None:  # the cache was cleared: compile again
            spec = spec.replace(seccomp_bpf=seccomp_path(config.root, spec))
            bpf = cache.read(spec.seccomp_bpf)
    return spec, bpf


def lowerdirs(config, key: str) -> list[str]:
    """The image's snapshot dirs, top-most first, without the image service."""
    from dockyard.metadata.store import MetadataStore

    meta = MetadataStore(config.metadata_path)
    try:
        return [r.dir for r in meta.snapshot_chain(key)]
    finally:
        meta.close()
