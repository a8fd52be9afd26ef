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
    healthcheck: dict | None  # Docker's Config.Healthcheck, merged (runtime.healthconfig)
    shell: tuple[str, ...] | None  # the image's SHELL (runs a CMD-SHELL probe)
    log_driver: str  # "json-file" | "none"
    log_opts: tuple[tuple[str, str], ...]
    extra_hosts: tuple[str, ...]  # "name:ip", written into /etc/hosts
    init: bool  # argv runs under /sbin/docker-init (our dockyard-init)
    # (name, destination, mode, rw, nocopy, labels, -v text): see runtime.volumes
    volumes: tuple[tuple, ...]
    sysctls: tuple[tuple[str, str], ...]  # --sysctl, validated (runtime.sysctl)
    # Config.Entrypoint and Config.Cmd apart (argv is their sum, or init + it); None in a
    # spec stored before they were kept
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    nano_cpus: int | None  # --cpus as given (update keeps it); None: not from --cpus
    cpuset_mems: str
    memory_reservation: int
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
        "healthcheck",
        "shell",
        "log_driver",
        "log_opts",
        "extra_hosts",
        "init",
        "volumes",
        "sysctls",
        "entrypoint",
        "cmd",
        "nano_cpus",
        "cpuset_mems",
        "memory_reservation",
    )
    # fields added later: a spec stored before them reads with these
    _defaults = {
        "healthcheck": None,
        "shell": None,
        "log_driver": "json-file",
        "log_opts": (),
        "extra_hosts": (),
        "init": False,
        "volumes": (),
        "sysctls": (),
        "entrypoint": None,
        "cmd": None,
        "nano_cpus": None,
        "cpuset_mems": "",
        "memory_reservation": 0,
    }


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

    network = opts.network or "default"
    if network not in S.NETWORKS:
        raise Unsupported(f"network {network} not found (only none and host are supported)")
    entry, cmd = S.resolve_entry_cmd(opts, image)
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
    quota, period, nano = (0, 0, None)
    if opts.cpus not in (None, "", "0"):
        quota, period = F.cpu_quota(str(opts.cpus), ncpu)
        nano = round(float(opts.cpus) * 1e9)
    pids = F.pids_limit(opts.pids_limit) if opts.pids_limit is not None else 0
    mounts: list[tuple[str, str, str, tuple[str, ...]]] = []
    seen: set[str] = set()
    named = []
    for b in opts.binds:
        src, dst, mopts = S.parse_bind(b)
        if not src.startswith("/"):  # a volume: `runtime.volumes` plans it below
            named.append((src, dst, mopts, b))
            continue
        _unique(seen, dst)
        mounts.append((dst, "bind", src, mopts))
    for t in opts.tmpfs:
        dst, topts = S.parse_tmpfs(t)
        _unique(seen, dst)
        mounts.append((dst, "tmpfs", "tmpfs", topts))
    volumes = ()
    if named or opts.volume_mounts or image.volumes:
        from dockyard.runtime.volumes import plan

        volumes = plan(named, opts.volume_mounts, image.volumes, seen)
    policy, retries = S.parse_restart(opts.restart)
    if opts.auto_remove and policy != "no":
        raise InvalidArgument("conflicting options: cannot specify both --restart and --rm")
    stop_sig = S.parse_signal(opts.stop_signal or image.stop_signal or "SIGTERM")
    timeout = S.DEFAULT_STOP_TIMEOUT if opts.stop_timeout is None else opts.stop_timeout
    labels = dict(image.labels)
    labels.update(dict(opts.labels))
    sysctls = ()
    if opts.sysctl:
        from dockyard.runtime.sysctl import validate

        sysctls = validate(opts.sysctl, network)
    health, log_opts, extra_hosts = _health_log_hosts(opts, image)
    if opts.init:
        from dockyard.linux import initc

        _unique(seen, initc.CONTAINER_PATH)
        mounts.append((initc.CONTAINER_PATH, "bind", initc.binary_path(), ("ro",)))
        argv = (initc.CONTAINER_PATH, "--", *argv)
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
        healthcheck=health,
        shell=image.shell,
        log_driver=opts.log_driver or "json-file",
        log_opts=log_opts,
        extra_hosts=extra_hosts,
        init=bool(opts.init),
        sysctls=sysctls,
        volumes=volumes,
        entrypoint=entry,
        cmd=cmd,
        nano_cpus=nano,
        cpuset_mems="",
        memory_reservation=0,
    )


def _health_log_hosts(opts: S.RunOptions, image: S.ImageDefaults):
    """(health check, log options, extra hosts), decided only when asked for: the modules
    that decide them stay off the plain `run` path."""
    health = None
    if image.healthcheck is not None or opts.no_healthcheck or opts.health_cmd or any(
        (opts.health_interval, opts.health_timeout, opts.health_start_period,
         opts.health_start_interval, opts.health_retries)
    ):  # fmt: skip
        from dockyard.runtime import healthconfig

        health = healthconfig.decide(opts, image.healthcheck)
    log_opts = ()
    if opts.log_opts or opts.log_driver not in ("", "json-file"):
        from dockyard.runtime import jsonlog

        log_opts = jsonlog.log_config(opts.log_driver or "json-file", opts.log_opts)
    extra_hosts = ()
    if opts.extra_hosts:
        from dockyard.runtime import etcfiles

        extra_hosts = etcfiles.extra_hosts(opts.extra_hosts)
    return health, log_opts, extra_hosts


def _unique(seen: set[str], dst: str) -> None:
    key = dst.rstrip("/") or "/"
    if key in seen:
        raise InvalidArgument(f"Duplicate mount point: {key}")
    seen.add(key)


def to_json(spec: ContainerSpec) -> str:
    from dockyard import fastjson

    return fastjson.dumps({f: getattr(spec, f) for f in spec._fields})


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def from_json(text: str) -> ContainerSpec:
    from dockyard import fastjson

    doc = fastjson.loads(text)
    d = ContainerSpec._defaults  # a field with a default may be missing (stored before it)
    return ContainerSpec(
        **{f: _tuples(doc[f]) for f in ContainerSpec._fields if f in doc or f not in d}
    )


def view(text: str):
    """The stored spec as read-only attributes, without building a `ContainerSpec`: lists
    stay lists. For listing many containers (`ps`), where only a few fields are read."""
    from types import SimpleNamespace

    from dockyard import fastjson

    return SimpleNamespace(**fastjson.loads(text))
