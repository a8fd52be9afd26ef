"""Docker's run options and an image config turned into a container spec (pure).

`RunOptions` is what `docker run`/`create` accept, typed. `build` merges them with the
image's config the way Docker does: entrypoint + cmd, env with a default PATH, working
directory, `-u user[:group]` looked up in the image's /etc/passwd and /etc/group (their text
is passed in; reading it safely from the layers is `rootfs`'s job), capabilities, mounts,
resources and the stop signal. The result, `ContainerSpec`, is stored with the container
and is everything the supervisor needs to start it. Records, not dataclasses: this is on
the start path.
"""

from dockyard.errors import InvalidArgument
from dockyard.linux.record import Record

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_STOP_TIMEOUT = 10
MAX_ID = (1 << 31) - 1
RESTART_POLICIES = ("no", "always", "on-failure", "unless-stopped")
NETWORKS = ("none", "host", "default", "bridge")


class RunOptions(Record):
    """`docker run` options (the CLI and the API both build one)."""

    image: str
    cmd: tuple[str, ...] | None  # None: the image's
    entrypoint: tuple[str, ...] | None  # None: the image's; () or ("",): none
    env: tuple[str, ...]  # "K=V" (a bare "K" is dropped: the CLI resolves it)
    workdir: str
    user: str
    hostname: str
    domainname: str
    labels: tuple[tuple[str, str], ...]
    name: str
    binds: tuple[str, ...]  # "/host:/ctr[:ro|rw,...]"
    tmpfs: tuple[str, ...]  # "/ctr[:opts]"
    # --mount type=volume: (source or "", target, readonly, nocopy, ((label, value), ...))
    volume_mounts: tuple[tuple[str, str, bool, bool, tuple[tuple[str, str], ...]], ...]
    read_only: bool
    memory: int | str | None  # bytes or "64m"
    memory_swap: int | str | None
    cpus: str | None
    cpu_shares: int | None
    cpuset: str | None
    pids_limit: int | None
    ulimits: tuple[str, ...]  # "nofile=1024[:2048]"
    shm_size: int | str | None
    init: bool
    restart: str  # "no" | "always" | "on-failure[:N]" | "unless-stopped"
    stop_signal: str
    stop_timeout: int | None
    cap_add: tuple[str, ...]
    cap_drop: tuple[str, ...]
    privileged: bool
    security_opt: tuple[str, ...]
    sysctl: tuple[tuple[str, str], ...]
    network: str  # "none" | "host" | "default"
    auto_remove: bool
    tty: bool
    stdin: bool  # -i: keep stdin open
    # health checks (None: the image's), durations in ns; see runtime.healthconfig
    health_cmd: str | None
    health_interval: int | None
    health_timeout: int | None
    health_start_period: int | None
    health_start_interval: int | None
    health_retries: int | None
    no_healthcheck: bool
    log_driver: str  # "json-file" | "none"
    log_opts: tuple[tuple[str, str], ...]  # --log-opt max-size=10m
    extra_hosts: tuple[str, ...]  # --add-host "name:ip"
    __slots__ = _fields = (
        "image",
        "cmd",
        "entrypoint",
        "env",
        "workdir",
        "user",
        "hostname",
        "domainname",
        "labels",
        "name",
        "binds",
        "tmpfs",
        "volume_mounts",
        "read_only",
        "memory",
        "memory_swap",
        "cpus",
        "cpu_shares",
        "cpuset",
        "pids_limit",
        "ulimits",
        "shm_size",
        "init",
        "restart",
        "stop_signal",
        "stop_timeout",
        "cap_add",
        "cap_drop",
        "privileged",
        "security_opt",
        "sysctl",
        "network",
        "auto_remove",
        "tty",
        "stdin",
        "health_cmd",
        "health_interval",
        "health_timeout",
        "health_start_period",
        "health_start_interval",
        "health_retries",
        "no_healthcheck",
        "log_driver",
        "log_opts",
        "extra_hosts",
    )
    _defaults = {
        "cmd": None,
        "entrypoint": None,
        "env": (),
        "workdir": "",
        "user": "",
        "hostname": "",
        "domainname": "",
        "labels": (),
        "name": "",
        "binds": (),
        "tmpfs": (),
        "volume_mounts": (),
        "read_only": False,
        "memory": None,
        "memory_swap": None,
        "cpus": None,
        "cpu_shares": None,
        "cpuset": None,
        "pids_limit": None,
        "ulimits": (),
        "shm_size": None,
        "init": False,
        "restart": "no",
        "stop_signal": "",
        "stop_timeout": None,
        "cap_add": (),
        "cap_drop": (),
        "privileged": False,
        "security_opt": (),
        "sysctl": (),
        "network": "default",
        "auto_remove": False,
        "tty": False,
        "stdin": False,
        "health_cmd": None,
        "health_interval": None,
        "health_timeout": None,
        "health_start_period": None,
        "health_start_interval": None,
        "health_retries": None,
        "no_healthcheck": False,
        "log_driver": "json-file",
        "log_opts": (),
        "extra_hosts": (),
    }


class ImageDefaults(Record):
    """The parts of an image config a container starts from."""

    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    env: tuple[str, ...]
    workdir: str
    user: str
    stop_signal: str
    labels: tuple[tuple[str, str], ...]
    volumes: tuple[str, ...]  # VOLUME paths
    healthcheck: dict | None  # the image's Healthcheck, as in its config JSON
    shell: tuple[str, ...] | None
    __slots__ = _fields = (
        "entrypoint", "cmd", "env", "workdir", "user", "stop_signal", "labels", "volumes",
        "healthcheck",
        "shell",
    )  # fmt: skip
    _defaults = {
        "entrypoint": None,
        "cmd": None,
        "env": (),
        "workdir": "",
        "user": "",
        "stop_signal": "",
        "labels": (),
        "volumes": (),
        "healthcheck": None,
        "shell": None,
    }


class ExecUser(Record):
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str
    __slots__ = _fields = ("uid", "gid", "groups", "home")


def image_defaults(config_bytes: bytes) -> tuple[tuple[str, ...], ImageDefaults]:
    """(diff ids, container defaults) from an image config's JSON. A narrow reader of the
    fields a container needs: `oci.image` costs the start path ~15 ms of imports."""
    from dockyard import fastjson

    try:
        doc = fastjson.loads(config_bytes)
        c = doc.get("config") or {}
        diff_ids = tuple((doc.get("rootfs") or {}).get("diff_ids") or ())
        labels = c.get("Labels") or {}

        def strs(v, what):
            if v is None:
                return None
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise InvalidArgument(f"image config: {what} must be a list of strings")
            return tuple(v)

        d = ImageDefaults(
            entrypoint=strs(c.get("Entrypoint"), "Entrypoint"),
            cmd=strs(c.get("Cmd"), "Cmd"),
            env=strs(c.get("Env"), "Env") or (),
            workdir=str(c.get("WorkingDir") or ""),
            user=str(c.get("User") or ""),
            stop_signal=str(c.get("StopSignal") or ""),
            labels=tuple((str(k), str(v)) for k, v in labels.items()),
            volumes=tuple(sorted(str(k) for k in (c.get("Volumes") or {}))),
            healthcheck=c.get("Healthcheck") if isinstance(c.get("Healthcheck"), dict) else None,
            shell=strs(c.get("Shell"), "Shell"),
        )
    except (ValueError, AttributeError, TypeError) as e:
        raise InvalidArgument(f"invalid image config: {e}")
    if not all(isinstance(x, str) for x in diff_ids):
        raise InvalidArgument("invalid image config: rootfs.diff_ids")
    return diff_ids, d


# -- argv, env, workdir -------------------------------------------------------------------


def resolve_argv(opts: RunOptions, image: ImageDefaults) -> tuple[str, ...]:
    """Docker's rule: --entrypoint replaces the image's and drops its cmd; args replace cmd."""
    entry, cmd = resolve_entry_cmd(opts, image)
    argv = entry + cmd
    if not argv:
        raise InvalidArgument("No command specified")
    return argv


def resolve_entry_cmd(opts: RunOptions, image: ImageDefaults) -> tuple[tuple, tuple]:
    """(Entrypoint, Cmd) of the container, as Docker's Config keeps them apart."""
    if opts.entrypoint is not None:
        entry = tuple(a for a in opts.entrypoint if a != "") if opts.entrypoint != ("",) else ()
        return entry, tuple(opts.cmd or ())
    cmd = opts.cmd if opts.cmd else (image.cmd or ())
    return tuple(image.entrypoint or ()), tuple(cmd)


def merge_env(image_env, user_env, hostname: str = "", home: str = "") -> tuple[str, ...]:
    """Image env overridden by -e (last wins, order kept), PATH defaulted, HOSTNAME and HOME
    added like Docker and runc do."""
    merged: dict[str, str] = {}
    for item in (*image_env, *user_env):
        key, eq, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid environment variable: {item}")
        if not eq:
            continue  # "-e K" with K unset on the client: Docker leaves it out
        if "\0" in item:
            raise InvalidArgument(f"invalid environment variable: {key}")
        merged[key] = value
    out = {}
    if "PATH" not in merged:
        out["PATH"] = DEFAULT_PATH
    if hostname and "HOSTNAME" not in merged:
        out["HOSTNAME"] = hostname
    out.update(merged)
    if home and "HOME" not in out:
        out["HOME"] = home
    return tuple(f"{k}={v}" for k, v in out.items())


def resolve_workdir(opts_workdir: str, image_workdir: str) -> str:
    wd = opts_workdir or image_workdir or "/"
    if not wd.startswith("/"):
        raise InvalidArgument(
            f"the working directory '{wd}' is invalid, it needs to be an absolute path"
        )
    if "\0" in wd:
        raise InvalidArgument("the working directory contains a NUL byte")
    import posixpath

    return posixpath.normpath(wd) if wd != "/" else "/"


# -- users --------------------------------------------------------------------------------


def _parse_db(text: str, min_fields: int) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) >= min_fields:
            rows.append(parts)
    return rows


def _id(s: str) -> int | None:
    if s.isascii() and s.isdigit():
        n = int(s)
        if n <= MAX_ID:
            return n
    return None


def resolve_user(spec: str, passwd: str, group: str) -> ExecUser:
    """runc's GetExecUser: `user[:group]` by name or number against the image's files."""
    user_part, _, group_part = spec.partition(":")
    users = _parse_db(passwd, 7)
    groups = _parse_db(group, 4)
    uid, gid, home, name = 0, 0, "/", ""
    want = user_part or "0"
    num = _id(want)
    found = None
    for row in users:
        if (num is None and row[0] == want) or (num is not None and _id(row[2]) == num):
            found = row
            break
    if found is not None:
        name = found[0]
        uid = _id(found[2]) if _id(found[2]) is not None else 0
        gid = _id(found[3]) if _id(found[3]) is not None else 0
        home = found[5] or "/"
    elif num is not None:
        uid = num
    else:
        raise InvalidArgument(f"unable to find user {want}: no matching entries in passwd file")
    if group_part:
        gnum = _id(group_part)
        gfound = None
        for row in groups:
            if (gnum is None and row[0] == group_part) or (
                gnum is not None and _id(row[2]) == gnum
            ):
                gfound = row
                break
        if gfound is not None:
            gid = _id(gfound[2]) or 0
        elif gnum is not None:
            gid = gnum
        else:
            raise InvalidArgument(
                f"unable to find group {group_part}: no matching entries in group file"
            )
    extra: list[int] = []
    if name and not group_part:
        for row in groups:
            members = [m.strip() for m in row[3].split(",") if m.strip()]
            g = _id(row[2])
            if name in members and g is not None and g != gid and g not in extra:
                extra.append(g)
    return ExecUser(uid, gid, (gid, *extra) if not group_part else (gid,), home)


# -- mounts -------------------------------------------------------------------------------

_BIND_OPTS = frozenset(
    {"ro", "rw", "z", "Z", "private", "rprivate", "slave", "rslave", "shared", "rshared"}
    | {"nocopy", "bind", "rbind"}
)


def parse_bind(value: str) -> tuple[str, str, tuple[str, ...]]:
    """`-v /host:/ctr[:opts]` -> (source, destination, mount options).

    `-v name:/ctr[:opts]` names a volume (source is the checked name, "nocopy" is kept);
    `-v /ctr` asks for an anonymous one (source "")."""
    parts = value.split(":")
    if len(parts) == 1 and parts[0].startswith("/") and parts[0] != "/":
        return "", parts[0], ()
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise InvalidArgument(f"invalid volume specification: '{value}'")
    src, dst = parts[0], parts[1]
    if not src.startswith("/"):
        from dockyard.metadata.volumes import validate_name

        try:
            validate_name(src)
        except InvalidArgument as e:
            raise InvalidArgument(f"create {src}: {e}") from None
    if not dst.startswith("/"):
        raise InvalidArgument(f"invalid volume specification: '{value}': not an absolute path")
    if dst == "/":
        raise InvalidArgument(f"invalid volume specification: '{value}': destination can't be '/'")
    opts = [o for o in (parts[2].split(",") if len(parts) == 3 else []) if o]
    for o in opts:
        if o not in _BIND_OPTS:
            raise InvalidArgument(f"invalid mode: {o}")
    if "ro" in opts and "rw" in opts:
        raise InvalidArgument(f"invalid mode: {parts[2]}")
    drop = ("z", "Z", "nocopy") if src.startswith("/") else ("z", "Z")
    return src, dst, tuple(o for o in opts if o not in drop)


def parse_tmpfs(value: str) -> tuple[str, tuple[str, ...]]:
    """`--tmpfs /ctr[:opts]` -> (destination, options); Docker's defaults noexec,nosuid,nodev."""
    dst, _, opts = value.partition(":")
    if not dst.startswith("/"):
        raise InvalidArgument(f"invalid tmpfs specification: '{value}': not an absolute path")
    given = tuple(o for o in opts.split(",") if o)
    base = ("noexec", "nosuid", "nodev")
    return dst, tuple(o for o in base if o not in given and _opposite(o) not in given) + given


def _opposite(opt: str) -> str:
    return opt[2:] if opt.startswith("no") else "no" + opt


# -- resources, limits, policies ----------------------------------------------------------

_RLIMITS = {
    "core": 4,
    "cpu": 0,
    "data": 2,
    "fsize": 1,
    "locks": 10,
    "memlock": 8,
    "msgqueue": 12,
    "nice": 13,
    "nofile": 7,
    "nproc": 6,
    "rss": 5,
    "rtprio": 14,
    "rttime": 15,
    "sigpending": 11,
    "stack": 3,
}


def parse_ulimit(value: str) -> tuple[int, int, int]:
    """`nofile=1024[:2048]` -> (resource number, soft, hard)."""
    name, eq, limits = value.partition("=")
    if not eq or name not in _RLIMITS:
        raise InvalidArgument(f"invalid ulimit argument: {value}")
    soft_s, _, hard_s = limits.partition(":")
    try:
        soft = int(soft_s)
        hard = int(hard_s) if hard_s else soft
    except ValueError:
        raise InvalidArgument(f"invalid ulimit argument: {value}")
    if soft > hard:
        raise InvalidArgument(
            f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        )
    to_kernel = lambda n: -1 if n < 0 else n  # noqa: E731 - -1 is RLIM_INFINITY
    return _RLIMITS[name], to_kernel(soft), to_kernel(hard)


def parse_restart(value: str) -> tuple[str, int]:
    """`--restart` -> (policy, maximum retries)."""
    name, _, count = (value or "no").partition(":")
    if name not in RESTART_POLICIES:
        raise InvalidArgument(f"invalid restart policy '{name}'")
    if count:
        if name != "on-failure":
            raise InvalidArgument(
                f"maximum retry count cannot be used with restart policy '{name}'"
            )
        n = _id(count)
        if n is None:
            raise InvalidArgument("invalid restart policy: maximum retry count must be an integer")
        return name, n
    return name, 0


def parse_signal(value: str) -> int:
    """A signal as Docker accepts it: "SIGTERM", "TERM", "term", "15"."""
    import _signal as signal  # the C module: `signal` imports enum (~1.5 ms on every run)

    s = value.strip()
    if s.isdigit():
        n = int(s)
        if 0 < n < 65:
            return n
        raise InvalidArgument(f"Invalid signal: {value}")
    up = s.upper()
    if not up.startswith("SIG"):
        up = "SIG" + up
    if up.startswith("SIGRTMIN+") or up.startswith("SIGRTMAX-"):
        base, _, off = up[3:].partition("+" if "+" in up else "-")
        if off.isdigit():
            n = signal.SIGRTMIN + int(off) if base == "RTMIN" else signal.SIGRTMAX - int(off)
            if signal.SIGRTMIN <= n <= signal.SIGRTMAX:
                return int(n)
    # signal.Signals' members: the upper-case SIG* names that are not SIG_ constants
    named = up.isidentifier() and up.isupper() and not up.startswith("SIG_")
    sig = getattr(signal, up, None) if named else None
    if not isinstance(sig, int):
        raise InvalidArgument(f"Invalid signal: {value}")
    return int(sig)


def parse_security_opts(opts) -> tuple[str, bool]:
    """(seccomp: "default" | "unconfined" | a profile path, no_new_privileges)."""
    seccomp, nnp = "default", True
    for opt in opts:
        key, sep, value = opt.partition("=")
        if not sep:
            key, sep, value = opt.partition(":")
        if key == "seccomp" and value:
            seccomp = value
        elif key == "no-new-privileges":
            if value in ("", "true"):
                nnp = True
            elif value == "false":
                nnp = False
            else:
                raise InvalidArgument(f"invalid --security-opt 2: {opt!r}")
        elif key in ("apparmor", "label"):
            continue  # not on this host; Docker ignores them when the LSM is absent
        else:
            raise InvalidArgument(f"invalid --security-opt: {opt!r}")
    return seccomp, nnp
