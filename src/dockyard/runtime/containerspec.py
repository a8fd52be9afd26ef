"""`ContainerSpec`: the decided container (pure), built from `RunOptions` + image defaults.

It holds everything the supervisor needs to start the init and everything inspect shows:
argv, env, user ids, capabilities, the seccomp choice, mounts, masks, resources, rlimits,
the stop signal and the restart policy. It is stored as JSON with the container record
(`to_json`/`from_json`) and never recomputed at start.
"""

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.linux.record import Record
from dockyard.runtime import spec as S


class ContainerSpec(Record):
    argv: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str
    user: str  # as given (-u or the image's)
    uid: int
    gid: int
    groups: tuple[int, ...]
    hostname: str
    domainname: str
    caps: tuple[int, ...]
    seccomp: str  # "default" | "unconfined" | a profile file (create turns it into the BPF path)
    seccomp_bpf: str  # the cached BPF file (set at create)
    no_new_privs: bool
    network: str  # "none" | "host"
    readonly: bool
    mounts: tuple[tuple[str, str, str, tuple[str, ...]], ...]  # (dest, type, source, options)
    masked: bool  # Docker's masked and read-only paths (off when privileged)
    shm_size: int
    memory: int
    memory_swap: int | None
    cpu_quota: int
    cpu_period: int
    cpu_shares: int
    cpuset: str
    pids_limit: int
    rlimits: tuple[tuple[int, int, int], ...]
    stop_signal: int
    stop_timeout: int
    restart: str
    restart_max: int
    auto_remove: bool
    tty: bool
    open_stdin: bool
    privileged: bool
    labels: tuple[tuple[str, str], ...]
    __slots__ = _fields = (
        "argv",
        "env",
        "cwd",
        "user",
        "uid",
        "gid",
        "groups",
        "hostname",
        "domainname",
        "caps",
        "seccomp",
        "seccomp_bpf",
        "no_new_privs",
        "network",
        "readonly",
        "mounts",
        "masked",
        "shm_size",
        "memory",
        "memory_swap",
        "cpu_quota",
        "cpu_period",
        "cpu_shares",
        "cpuset",
        "pids_limit",
        "rlimits",
        "stop_signal",
        "stop_timeout",
        "restart",
        "restart_max",
        "auto_remove",
        "tty",
        "open_stdin",
        "privileged",
        "labels",
    )


def _size(value, what: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        if value < 0:
            raise InvalidArgument(f"invalid {what}: {value}")
        return value
    from dockyard.linux.cgroups.flags import ram_in_bytes

    return ram_in_bytes(str(value))


def build(
    opts: S.RunOptions,
    image: S.ImageDefaults,
    user: S.ExecUser,
    container_id: str,
    ncpu: int | None = None,
) -> ContainerSpec:
    """Decide the container. `user` comes from `spec.resolve_user` on the image's files."""
    from dockyard.linux import caps as C
    from dockyard.linux.cgroups import flags as F

    if opts.tty:
        raise Unsupported("--tty is not supported yet")
    if opts.init:
        raise Unsupported("--init is not supported yet (no docker-init on this host)")
    if opts.sysctl:
        raise Unsupported("--sysctl is not supported yet")
    network = opts.network or "default"
    if network not in S.NETWORKS:
        raise Unsupported(f"network {network} not found (only none and host are supported)")
    argv = S.resolve_argv(opts, image)
    hostname = opts.hostname or container_id[:12]
    if len(hostname) > 64 or "\0" in hostname or "/" in hostname:
        raise InvalidArgument(f"invalid hostname format: {hostname}")
    if network == "host" and not opts.hostname:
        import os

        hostname = os.uname().nodename
    env = S.merge_env(image.env, opts.env, hostname, user.home)
    cwd = S.resolve_workdir(opts.workdir, image.workdir)
    caps = C.resolve(opts.cap_add, opts.cap_drop, opts.privileged)
    seccomp, nnp = S.parse_security_opts(opts.security_opt)
    if opts.privileged:
        seccomp = "unconfined"
    memory = F.memory_limit(str(opts.memory)) if opts.memory not in (None, "", 0, "0") else 0
    swap = F.memory_swap(memory, opts.memory_swap)
    quota, period = (0, 0)
    if opts.cpus not in (None, "", "0"):
        quota, period = F.cpu_quota(str(opts.cpus), ncpu)
    pids = F.pids_limit(opts.pids_limit) if opts.pids_limit is not None else 0
    mounts: list[tuple[str, str, str, tuple[str, ...]]] = []
    seen: set[str] = set()
    for b in opts.binds:
        src, dst, mopts = S.parse_bind(b)
        _unique(seen, dst)
        mounts.append((dst, "bind", src, mopts))
    for t in opts.tmpfs:
        dst, topts = S.parse_tmpfs(t)
        _unique(seen, dst)
        mounts.append((dst, "tmpfs", "tmpfs", topts))
    policy, retries = S.parse_restart(opts.restart)
    if opts.auto_remove and policy != "no":
        raise InvalidArgument("conflicting options: cannot specify both --restart and --rm")
    stop_sig = S.parse_signal(opts.stop_signal or image.stop_signal or "SIGTERM")
    timeout = S.DEFAULT_STOP_TIMEOUT if opts.stop_timeout is None else opts.stop_timeout
    labels = dict(image.labels)
    labels.update(dict(opts.labels))
    return ContainerSpec(
        argv=argv,
        env=env,
        cwd=cwd,
        user=opts.user or image.user,
        uid=user.uid,
        gid=user.gid,
        groups=user.groups,
        hostname=hostname,
        domainname=opts.domainname,
        caps=tuple(sorted(caps)),
        seccomp=seccomp,
        seccomp_bpf="",
        no_new_privs=nnp,
        network="host" if network == "host" else "none",
        readonly=opts.read_only,
        mounts=tuple(mounts),
        masked=not opts.privileged,
        shm_size=_size(opts.shm_size, "--shm-size") or 64 << 20,
        memory=memory,
        memory_swap=swap,
        cpu_quota=quota,
        cpu_period=period,
        cpu_shares=int(opts.cpu_shares or 0),
        cpuset=opts.cpuset or "",
        pids_limit=pids,
        rlimits=tuple(S.parse_ulimit(u) for u in opts.ulimits),
        stop_signal=stop_sig,
        stop_timeout=timeout,
        restart=policy,
        restart_max=retries,
        auto_remove=opts.auto_remove,
        tty=opts.tty,
        open_stdin=opts.stdin,
        privileged=opts.privileged,
        labels=tuple(sorted(labels.items())),
    )


def _unique(seen: set[str], dst: str) -> None:
    key = dst.rstrip("/") or "/"
    if key in seen:
        raise InvalidArgument(f"Duplicate mount point: {key}")
    seen.add(key)


def to_json(spec: ContainerSpec) -> str:
    from dockyard.runtime import fastjson

    return fastjson.dumps({f: getattr(spec, f) for f in spec._fields})


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def from_json(text: str) -> ContainerSpec:
    from dockyard.runtime import fastjson

    doc = fastjson.loads(text)
    return ContainerSpec(**{f: _tuples(doc[f]) for f in ContainerSpec._fields})


def view(text: str):
    """The stored spec as read-only attributes, without building a `ContainerSpec`: lists
    stay lists. For listing many containers (`ps`), where only a few fields are read."""
    from types import SimpleNamespace

    from dockyard.runtime import fastjson

    return SimpleNamespace(**fastjson.loads(text))
