"""Docker's container JSON: `inspect` (ContainerJSON) and `ps` (/containers/json summaries).

Pure rendering from a record and its spec; filters for `ps` as Docker applies them.
"""

from dockyard.runtime import state as ST
from dockyard.runtime.jsonlog import rfc3339nano

ZERO_TIME = "0001-01-01T00:00:00Z"


def _time(ns: int) -> str:
    return rfc3339nano(ns) if ns else ZERO_TIME


def _mounts(spec) -> list[dict]:
    vols = getattr(spec, "volumes", None) or ()
    own = {v[1] for v in vols}  # a volume's host mount is shown as the volume
    out = []
    for dest, typ, src, opts in spec.mounts:
        if dest in own:
            continue
        rw = "ro" not in opts
        prop = next((o for o in opts if "private" in o or "slave" in o or "shared" in o), "")
        if typ == "bind":
            prop = prop or "rprivate"
        out.append(
            {"Type": typ, "Source": src if typ == "bind" else "", "Destination": dest,
             "Mode": ",".join(o for o in opts if o in ("ro", "rw", "z", "Z")),
             "RW": rw, "Propagation": prop}
        )  # fmt: skip
    if vols:
        from dockyard.runtime.volumes import mount_json

        out.extend(mount_json(spec))
    return out


def _restart(spec) -> dict:
    return {"Name": spec.restart if spec.restart != "no" else "no",
            "MaximumRetryCount": spec.restart_max}  # fmt: skip


def _state(rec, now_ns: int) -> dict:
    return {
        "Status": rec.state,
        "Running": rec.state in (ST.RUNNING, ST.PAUSED),
        "Paused": rec.state == ST.PAUSED,
        "Restarting": rec.state == ST.RESTARTING,
        "OOMKilled": bool(rec.oom_killed),
        "Dead": rec.state == ST.DEAD,
        "Pid": rec.pid if rec.state in ST.LIVE else 0,
        "ExitCode": rec.exit_code,
        "Error": rec.error,
        "StartedAt": _time(rec.started),
        "FinishedAt": _time(rec.finished),
    }


def inspect(rec, spec, lay, image_env: tuple, now_ns: int) -> dict:
    from dockyard.linux import caps as C

    default_caps = {C.number(n) for n in C.DEFAULT}
    caps = set(spec.caps)
    cap_add = None if spec.privileged else sorted(C.NAMES[c][4:] for c in caps - default_caps)
    cap_drop = None if spec.privileged else sorted(C.NAMES[c][4:] for c in default_caps - caps)
    sec = [] if spec.seccomp == "default" else [f"seccomp={spec.seccomp}"]
    if not spec.no_new_privs:
        sec.append("no-new-privileges=false")
    return {
        "Id": rec.id,
        "Created": _time(rec.created),
        "Path": _argv(spec)[0],
        "Args": list(_argv(spec)[1:]),
        "State": _with_health(_state(rec, now_ns), rec, spec, lay.dir),
        "Image": rec.image_id,
        "ResolvConfPath": lay.resolv,
        "HostnamePath": lay.hostname,
        "HostsPath": lay.hosts,
        "LogPath": lay.log,
        "Name": "/" + rec.name,
        "RestartCount": rec.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": {
            "Binds": [
                f"{s}:{d}" + (":" + ",".join(o) if o else "")
                for d, t, s, o in spec.mounts
                if t == "bind" and d not in {v[1] for v in spec.volumes}
            ]
            + [v[6] for v in spec.volumes if v[6]]
            or None,
            "NetworkMode": spec.network,
            "RestartPolicy": _restart(spec),
            "AutoRemove": spec.auto_remove,
            "CapAdd": cap_add or None,
            "CapDrop": cap_drop or None,
            "Privileged": spec.privileged,
            "ReadonlyRootfs": spec.readonly,
            "SecurityOpt": sec or None,
            "Tmpfs": {
                d: ",".join(o)
                for d, t, s, o in spec.mounts
                if t == "tmpfs" and d not in {v[1] for v in spec.volumes}
            }
            or None,
            "ShmSize": spec.shm_size,
            "Memory": spec.memory,
            "MemorySwap": spec.memory_swap or 0,
            "CpuShares": spec.cpu_shares,
            "CpusetCpus": spec.cpuset,
            **_update_fields(rec.spec),  # NanoCpus, CpuPeriod/Quota, CpusetMems, MemoryReservation
            "PidsLimit": spec.pids_limit or None,
            "Ulimits": [{"Name": _rlimit_name(r), "Soft": s, "Hard": h} for r, s, h in spec.rlimits]
            or None,
            "LogConfig": {"Type": spec.log_driver, "Config": dict(spec.log_opts)},
            "ExtraHosts": list(spec.extra_hosts) or None,
            "Init": True if spec.init else None,
            "MaskedPaths": None,
            "ReadonlyPaths": None,
        },
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {"UpperDir": lay.upper, "WorkDir": lay.work, "MergedDir": lay.rootfs},
        },
        "Mounts": _mounts(spec),
        "Config": {
            "Hostname": spec.hostname,
            "Domainname": spec.domainname,
            "User": spec.user,
            "AttachStdin": False,
            "AttachStdout": False,
            "AttachStderr": False,
            "Tty": spec.tty,
            "OpenStdin": spec.open_stdin,
            "StdinOnce": False,
            "Env": list(spec.env),
            "Cmd": _cmd(spec),
            "Image": rec.image,
            "Volumes": None,
            "WorkingDir": spec.cwd if spec.cwd != "/" else "",
            "Entrypoint": list(spec.entrypoint) if getattr(spec, "entrypoint", None) else None,
            "OnBuild": None,
            "Labels": dict(spec.labels),
            "StopSignal": _signame(spec.stop_signal),
            "StopTimeout": spec.stop_timeout,
            **({"Healthcheck": spec.healthcheck} if spec.healthcheck is not None else {}),
        },
        "NetworkSettings": {"Networks": {spec.network: {}} if spec.network else {}},
    }


def _update_fields(spec_json: str) -> dict:
    from dockyard.runtime.update import host_config

    return host_config(spec_json)


def _signame(n: int) -> str:
    import signal

    try:
        return signal.Signals(n).name
    except ValueError:
        return str(n)


def _rlimit_name(res: int) -> str:
    from dockyard.runtime.spec import _RLIMITS

    return next((k for k, v in _RLIMITS.items() if v == res), str(res))


def _argv(spec) -> tuple:
    """The command as the user gave it: without our init in front (`--init`)."""
    argv = spec.argv
    if getattr(spec, "init", False) and len(argv) > 2 and argv[1] == "--":
        return tuple(argv[2:])
    return tuple(argv)


def _cmd(spec) -> list | None:
    """Config.Cmd: the container's own when kept apart from the entrypoint; an older spec
    has only the argv."""
    if getattr(spec, "cmd", None) is None:
        return list(_argv(spec))
    return list(spec.cmd) or None


def _with_health(state: dict, rec, spec, container_dir: str) -> dict:
    """State.Health, for a container whose health check runs a probe."""
    if spec.healthcheck is not None:
        from dockyard.runtime import health

        h = health.current(spec, container_dir, rec.state in ST.LIVE)
        if h is not None:
            state["Health"] = h.to_json()
    return state


def _status(rec, spec, now_ns: int, container_dir: str | None) -> str:
    """ps's STATUS: Docker's State.String(), "(healthy)" and the like after "Up ..."."""
    text = ST.status_text(rec.state, rec.exit_code, rec.started, rec.finished, now_ns)
    if rec.state == ST.RUNNING and container_dir and getattr(spec, "healthcheck", None):
        from dockyard.runtime import health

        st = health.status(spec, container_dir, True)
        if st != health.NONE:
            text += f" ({health.suffix(st)})"
    return text


def health_of(rec, spec, container_dir: str) -> str:
    """ps --filter health=: starting, healthy, unhealthy or none."""
    if not getattr(spec, "healthcheck", None):
        return "none"
    from dockyard.runtime import health

    return health.status(spec, container_dir, rec.state in ST.LIVE)


def summary(rec, spec, now_ns: int, size_rw: int | None = None,
            container_dir: str | None = None) -> dict:  # fmt: skip
    out = {
        "Id": rec.id,
        "Names": ["/" + rec.name],
        "Image": rec.image,
        "ImageID": rec.image_id,
        "Command": " ".join(_argv(spec)),
        "Created": rec.created // 1_000_000_000,
        "Ports": [],
        "Labels": dict(spec.labels),
        "State": rec.state,
        "Status": _status(rec, spec, now_ns, container_dir),
        "HostConfig": {"NetworkMode": spec.network},
        "NetworkSettings": {"Networks": {}},
        "Mounts": _mounts(spec),
    }
    if size_rw is not None:
        out["SizeRw"] = size_rw
    return out


_FILTERS = (
    "id", "name", "label", "status", "exited", "before", "since", "ancestor", "volume", "health",
)  # fmt: skip
HEALTH_FILTERS = ("starting", "healthy", "unhealthy", "none")


def check_filters(filters: dict) -> None:
    from dockyard.errors import InvalidArgument

    for key, values in filters.items():
        if key not in _FILTERS:
            raise InvalidArgument(f"invalid filter '{key}'")
        if key == "status":
            for v in values:
                if v not in ST.STATES:
                    raise InvalidArgument(
                        f"invalid filter 'status={v}': Invalid filter 'status={v}'"
                    )
        if key == "health":
            for v in values:
                if v not in HEALTH_FILTERS:
                    raise InvalidArgument(f"Unrecognised filter value for health: {v}")
        if key == "exited":
            for v in values:
                if not v.lstrip("-").isdigit():
                    raise InvalidArgument(f"invalid filter 'exited={v}'")


def matches(rec, spec, filters: dict, container_dir: str = "") -> bool:
    for key, values in filters.items():
        if not values:
            continue
        if key == "health" and health_of(rec, spec, container_dir) not in values:
            return False
        if key == "id" and not any(rec.id.startswith(v) for v in values):
            return False
        if key == "name" and not _name_matches(values, "/" + rec.name):
            return False
        if key == "status" and rec.state not in values:
            return False
        if key == "exited" and (rec.state != ST.EXITED or str(rec.exit_code) not in values):
            return False
        if key == "label":
            from dockyard.labels import matches

            if not matches(dict(spec.labels), values):
                return False
        if key == "ancestor" and not any(v in (rec.image, rec.image_id) for v in values):
            return False
        if key == "volume" and not _uses_volume(spec, values):
            return False
    return True


def _uses_volume(spec, values) -> bool:
    """Docker's `volume` filter: a volume name, a bind source or a mount destination."""
    for v in getattr(spec, "volumes", None) or ():
        if v[0] in values or v[1] in values:
            return True
    return any(m[0] in values or (m[1] == "bind" and m[2] in values) for m in spec.mounts)


def _name_matches(patterns, name: str) -> bool:
    import re  # only here: ~2 ms to import, and most `ps` calls have no name filter

    return any(re.search(v, name) for v in patterns)
