"""The flags `run` and `create` share, and turning their values into a `RunOptions`.

Docker's client does part of the work before the daemon sees anything: a bare `-e KEY` takes
the caller's value, `--env-file`/`--label-file` are read here, `--mount` is parsed into binds
and tmpfs mounts, `--network` is checked. What the runtime cannot do yet it refuses itself
(`Unsupported`); the few flags it has no field for are refused here the same way.
"""

from dockyard.cli.flags import BOOL, INT, LIST, Flag
from dockyard.errors import InvalidArgument, Unsupported

RUN_FLAGS = (
    Flag("add-host", kind=LIST, help="Add a custom host-to-IP mapping (host:ip)"),
    Flag("attach", "a", LIST, help="Attach to STDIN, STDOUT or STDERR"),
    Flag("cap-add", kind=LIST, help="Add Linux capabilities"),
    Flag("cap-drop", kind=LIST, help="Drop Linux capabilities"),
    Flag("cidfile", help="Write the container ID to the file"),
    Flag("cpu-shares", "c", INT, help="CPU shares (relative weight)"),
    Flag("cpus", metavar="decimal", help="Number of CPUs"),
    Flag("cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)"),
    Flag("domainname", help="Container NIS domain name"),
    Flag("entrypoint", help="Overwrite the default ENTRYPOINT of the image"),
    Flag("env", "e", LIST, help="Set environment variables"),
    Flag("env-file", kind=LIST, help="Read in a file of environment variables"),
    Flag("health-cmd", help="Command to run to check health"),
    Flag("health-interval", metavar="duration", help="Time between running the check (ms|s|m|h) (default 0s)"),
    Flag("health-retries", kind=INT, help="Consecutive failures needed to report unhealthy"),
    Flag("health-start-interval", metavar="duration", help="Time between running the check during the start period (ms|s|m|h) (default 0s)"),
    Flag("health-start-period", metavar="duration", help="Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)"),
    Flag("health-timeout", metavar="duration", help="Maximum time to allow one check to run (ms|s|m|h) (default 0s)"),
    Flag("hostname", "h", help="Container host name"),
    Flag("init", kind=BOOL, help="Run an init inside the container that forwards signals and reaps processes"),
    Flag("interactive", "i", BOOL, help="Keep STDIN open even if not attached"),
    Flag("label", "l", LIST, help="Set meta data on a container"),
    Flag("label-file", kind=LIST, help="Read in a line delimited file of labels"),
    Flag("log-driver", help="Logging driver for the container"),
    Flag("log-opt", kind=LIST, help="Log driver options"),
    Flag("memory", "m", metavar="bytes", help="Memory limit"),
    Flag("memory-swap", metavar="bytes", help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
    Flag("mount", kind=LIST, metavar="mount", help="Attach a filesystem mount to the container"),
    Flag("name", help="Assign a name to the container"),
    Flag("network", aliases=("net",), metavar="network", help="Connect a container to a network"),
    Flag("no-healthcheck", kind=BOOL, help="Disable any container-specified HEALTHCHECK"),
    Flag("pids-limit", kind=INT, help="Tune container pids limit (set -1 for unlimited)"),
    Flag("privileged", kind=BOOL, help="Give extended privileges to this container"),
    Flag("publish", "p", LIST, help="Publish a container's port(s) to the host"),
    Flag("pull", default="missing", help='Pull image before running ("always", "missing", "never")'),
    Flag("quiet", "q", BOOL, help="Suppress the pull output"),
    Flag("read-only", kind=BOOL, help="Mount the container's root filesystem as read only"),
    Flag("restart", default="no", help="Restart policy to apply when a container exits"),
    Flag("rm", kind=BOOL, help="Automatically remove the container and its associated anonymous volumes when it exits"),
    Flag("security-opt", kind=LIST, help="Security Options"),
    Flag("shm-size", metavar="bytes", help="Size of /dev/shm"),
    Flag("stop-signal", help="Signal to stop the container"),
    Flag("stop-timeout", kind=INT, help="Timeout (in seconds) to stop a container"),
    Flag("sysctl", kind=LIST, metavar="map", help="Sysctl options"),
    Flag("tmpfs", kind=LIST, help="Mount a tmpfs directory"),
    Flag("tty", "t", BOOL, help="Allocate a pseudo-TTY"),
    Flag("ulimit", kind=LIST, metavar="ulimit", help="Ulimit options"),
    Flag("user", "u", help="Username or UID (format: <name|uid>[:<group|gid>])"),
    Flag("volume", "v", LIST, help="Bind mount a volume"),
    Flag("workdir", "w", help="Working directory inside the container"),
)  # fmt: skip

NETWORKS = ("none", "host")
ATTACHABLE = ("stdin", "stdout", "stderr")


def read_lines(path: str, what: str) -> list[str]:
    """A small text file's lines (env or label file), with Docker's error for a missing one."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read(1 << 20)
    except OSError as e:
        raise InvalidArgument(f"open {path}: {(e.strerror or str(e)).lower()}") from None
    return text.splitlines()


def env_file(lines: list[str], environ) -> list[str]:
    """Docker's parseEnvFile: comments and blank lines skipped, a bare name takes the caller's
    value (or is dropped when unset), whitespace in a name is an error."""
    out = []
    for raw in lines:
        line = raw.lstrip(" \t")
        if not line or line.startswith("#"):
            continue
        name, eq, value = line.partition("=")
        if not name:
            raise InvalidArgument(f"no variable name on line '{raw}'")
        if any(c in name for c in " \t\n\r\v\f"):
            raise InvalidArgument(f"variable '{name}' contains whitespaces")
        if eq:
            out.append(f"{name}={value}")
        elif name in environ:
            out.append(f"{name}={environ[name]}")
    return out


def env_values(values: list[str], environ) -> list[str]:
    """-e: KEY=VALUE as is; a bare KEY takes the caller's value, or is left out."""
    out = []
    for v in values:
        name, eq, _ = v.partition("=")
        if not name:
            raise InvalidArgument(f"invalid environment variable: {v}")
        if eq:
            out.append(v)
        elif name in environ:
            out.append(f"{name}={environ[name]}")
    return out


def label_file(lines: list[str]) -> list[str]:
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def labels(values: list[str]) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for v in values:
        key, _, value = v.partition("=")
        if not key:
            raise InvalidArgument(f"invalid label '{v}': empty name")
        out[key] = value
    return tuple(out.items())


def sysctls(values: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values:
        key, eq, value = v.partition("=")
        if not eq or not key:
            raise InvalidArgument(
                f'invalid argument "{v}" for "--sysctl" flag: sysctl \'{v}\' is not allowed'
            )
        out.append((key, value))
    return tuple(out)


def _true(text: str, key: str) -> bool:
    if text in ("", "1", "true", "True", "TRUE"):
        return True
    if text in ("0", "false", "False", "FALSE"):
        return False
    raise InvalidArgument(f"invalid value for {key}: {text}")


def parse_mount(value: str) -> tuple[str, str | tuple]:
    """`--mount type=bind,source=/a,target=/b,readonly` -> ("bind", "/a:/b:ro") or
    ("tmpfs", "/b:size=...,mode=...") — the `-v`/`--tmpfs` forms the runtime takes — or
    ("volume", (source, target, readonly, nocopy, labels)) for `RunOptions.volume_mounts`."""
    fields: dict[str, str] = {}
    labels: list[str] = []
    for part in _csv(value):
        key, eq, val = part.partition("=")
        key = key.strip().lower()
        if not eq and key not in ("readonly", "ro", "volume-nocopy"):
            raise InvalidArgument(f"invalid field '{part}' must be a key=value pair")
        if key == "volume-label":
            labels.append(val)
            continue
        fields[key] = val
    kind = fields.pop("type", "volume")
    src = fields.pop("source", None) or fields.pop("src", None) or ""
    dst = fields.pop("target", None) or fields.pop("destination", None) or fields.pop("dst", None)
    if not dst:
        raise InvalidArgument("target is required")
    ro = False
    for key in ("readonly", "ro"):
        if key in fields:
            ro = _true(fields.pop(key), key)
    if kind == "bind":
        if not src:
            raise InvalidArgument("source is required when specifying bind mounts")
        opts = ["ro" if ro else "rw"]
        if "bind-propagation" in fields:
            opts.append(fields.pop("bind-propagation"))
        _no_extra(fields, kind)
        return "bind", f"{src}:{dst}:{','.join(opts)}"
    if kind == "tmpfs":
        if src:
            raise InvalidArgument("source is not supported for tmpfs mounts")
        opts = ["ro"] if ro else []
        if "tmpfs-size" in fields:
            opts.append("size=" + fields.pop("tmpfs-size"))
        if "tmpfs-mode" in fields:
            opts.append("mode=" + fields.pop("tmpfs-mode"))
        _no_extra(fields, kind)
        return "tmpfs", dst + (":" + ",".join(opts) if opts else "")
    if kind == "volume":
        return "volume", _volume_mount(src, dst, ro, fields, labels)
    raise InvalidArgument(f"invalid mount type: {kind!r}")


def _volume_mount(src: str, dst: str, ro: bool, fields: dict, labels: list[str]) -> tuple:
    nocopy = "volume-nocopy" in fields and _true(fields.pop("volume-nocopy"), "volume-nocopy")
    driver = fields.pop("volume-driver", "local") or "local"
    if driver != "local":
        raise Unsupported(f'volume driver "{driver}" is not supported (only "local")')
    if "volume-opt" in fields:
        raise Unsupported("volume-opt is not supported: create the volume first (volume create -o)")
    _no_extra(fields, "volume")
    from dockyard.metadata.volumes import parse_pairs

    return (src, dst, ro, nocopy, parse_pairs(labels, "label"))


def _no_extra(fields: dict, kind: str) -> None:
    for key in fields:
        raise InvalidArgument(f"unexpected key '{key}' in '{kind}' mount")


def _csv(text: str) -> list[str]:
    if '"' not in text:
        return [p for p in text.split(",") if p]
    import csv

    return [p for p in next(csv.reader([text])) if p]


def check_network(value: str) -> str:
    if value in NETWORKS:
        return value
    if value in ("", "default", "bridge"):
        raise Unsupported(
            "bridge networking is not available yet: use --network none or --network host"
        )
    raise Unsupported(
        f"network {value} not found: only --network none and --network host are available "
        "(bridge networking is not available yet)"
    )


def options(opts, args: list[str], environ) -> "RunOptions":  # noqa: F821 - lazy import
    """The `RunOptions` for parsed `run`/`create` flags and IMAGE [COMMAND] [ARG...]."""
    from dockyard.runtime.etcfiles import extra_hosts
    from dockyard.runtime.spec import RunOptions

    hosts = extra_hosts(opts.add_host) if opts.add_host else ()
    if opts.publish:
        raise Unsupported("publishing ports needs bridge networking, which is not available yet")
    if opts.pull not in ("missing", "always", "never"):
        raise InvalidArgument(
            f'invalid pull option: \'{opts.pull}\': must be one of "always", "missing" or "never"'
        )
    for a in opts.attach:
        if a.lower() not in ATTACHABLE:
            raise InvalidArgument(f"valid streams are STDIN, STDOUT and STDERR: {a}")
    env = []
    for path in opts.env_file:
        env.extend(env_file(read_lines(path, "env"), environ))
    env.extend(env_values(opts.env, environ))
    label_values = []
    for path in opts.label_file:
        label_values.extend(label_file(read_lines(path, "label")))
    label_values.extend(opts.label)
    binds = list(opts.volume)
    tmpfs = list(opts.tmpfs)
    volume_mounts = []
    for m in opts.mount:
        kind, spec = parse_mount(m)
        {"bind": binds, "tmpfs": tmpfs, "volume": volume_mounts}[kind].append(spec)
    network = check_network(opts.network) if "network" in opts.changed else "default"
    entrypoint = None
    if "entrypoint" in opts.changed:
        entrypoint = (opts.entrypoint,) if opts.entrypoint else ("",)
    return RunOptions(
        image=args[0],
        cmd=tuple(args[1:]) or None,
        entrypoint=entrypoint,
        env=tuple(env),
        workdir=opts.workdir,
        user=opts.user,
        hostname=opts.hostname,
        domainname=opts.domainname,
        labels=labels(label_values),
        name=opts.name,
        binds=tuple(binds),
        tmpfs=tuple(tmpfs),
        volume_mounts=tuple(volume_mounts),
        read_only=opts.read_only,
        memory=opts.memory or None,
        memory_swap=opts.memory_swap or None,
        cpus=opts.cpus or None,
        cpu_shares=opts.cpu_shares or None,
        cpuset=opts.cpuset_cpus or None,
        pids_limit=opts.pids_limit if "pids-limit" in opts.changed else None,
        ulimits=tuple(opts.ulimit),
        shm_size=opts.shm_size or None,
        init=opts.init,
        restart=opts.restart or "no",
        stop_signal=opts.stop_signal,
        stop_timeout=opts.stop_timeout if "stop-timeout" in opts.changed else None,
        cap_add=tuple(opts.cap_add),
        cap_drop=tuple(opts.cap_drop),
        privileged=opts.privileged,
        security_opt=tuple(opts.security_opt),
        sysctl=sysctls(opts.sysctl),
        network=network,
        auto_remove=opts.rm,
        tty=opts.tty,
        stdin=opts.interactive,
        **health_options(opts),
        log_driver=opts.log_driver or "json-file",
        log_opts=log_opts(opts.log_opt, opts.log_driver),
        extra_hosts=hosts,
    )


def _duration(opts, name: str) -> int | None:
    """A Go duration flag (pflag's message when it is not one), in ns."""
    text = getattr(opts, name.replace("-", "_"))
    if name not in opts.changed:
        return None
    from dockyard.dockerfile.durations import parse_duration

    try:
        return parse_duration(text)
    except InvalidArgument as e:
        raise InvalidArgument(f'invalid argument "{text}" for "--{name}" flag: {e}') from None


def health_options(opts) -> dict:
    """The `--health-*` and `--no-healthcheck` fields of `RunOptions`."""
    if not (opts.no_healthcheck or any(n.startswith("health-") for n in opts.changed)):
        return {}
    return {
        "health_cmd": opts.health_cmd or None,
        "health_interval": _duration(opts, "health-interval"),
        "health_timeout": _duration(opts, "health-timeout"),
        "health_start_period": _duration(opts, "health-start-period"),
        "health_start_interval": _duration(opts, "health-start-interval"),
        "health_retries": opts.health_retries if "health-retries" in opts.changed else None,
        "no_healthcheck": opts.no_healthcheck,
    }


def log_opts(values: list[str], driver: str = "") -> tuple[tuple[str, str], ...]:
    """--log-opt key=value as Docker's client reads them (a bare key has an empty value)."""
    if driver == "none" and values:
        raise InvalidArgument("invalid logging opts for driver none")
    return tuple((k, v) for k, _, v in (o.partition("=") for o in values))


def write_cidfile(path: str, cid: str) -> None:
    """--cidfile: Docker refuses an existing file; written whole (temp + rename)."""
    import os

    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(cid)
    os.rename(tmp, path)


def check_cidfile(path: str) -> None:
    import os

    if path and os.path.exists(path):
        raise InvalidArgument(
            f"container ID file found, make sure the other container isn't running or delete {path}"
        )
