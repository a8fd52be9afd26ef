"""Docker's container JSON: `inspect` (ContainerJSON) and `ps` (/containers/json summaries).

Pure rendering from a record and its spec; filters for `ps` as Docker applies them.
"""

from dockyard.runtime import state as ST
from dockyard.runtime.jsonlog import rfc3339nano

ZERO_TIME = "0001-01-01T00:00:00Z"


def _time(ns: int) -> str:
    return rfc3339nano(ns) if ns else ZERO_TIME


def _mounts(spec) -> list[dict]:
    out = []
    for dest, typ, src, opts in spec.mounts:
        rw = "ro" not in opts
        prop = next((o for o in opts if "private" in o or "slave" in o or "shared" in o), "")
        if typ == "bind":
            prop = prop or "rprivate"
        out.append(
            {"Type": typ, "Source": src if typ == "bind" else "", "Destination": dest,
             "Mode": ",".join(o for o in opts if o in ("ro", "rw", "z", "Z")),
             "RW": rw, "Propagation": prop}
        )  # fmt: skip
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
        "Path": spec.argv[0],
        "Args": list(spec.argv[1:]),
        "State": _state(rec, now_ns),
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
                if t == "bind"
            ]
            or None,
            "NetworkMode": spec.network,
            "RestartPolicy": _restart(spec),
            "AutoRemove": spec.auto_remove,
            "CapAdd": cap_add or None,
            "CapDrop": cap_drop or None,
            "Privileged": spec.privileged,
            "ReadonlyRootfs": spec.readonly,
            "SecurityOpt": sec or None,
            "Tmpfs": {d: ",".join(o) for d, t, s, o in spec.mounts if t == "tmpfs"} or None,
            "ShmSize": spec.shm_size,
            "Memory": spec.memory,
            "MemorySwap": spec.memory_swap or 0,
            "NanoCpus": spec.cpu_quota * 10_000 if spec.cpu_period == 100000 else 0,
            "CpuShares": spec.cpu_shares,
            "CpusetCpus": spec.cpuset,
            "PidsLimit": spec.pids_limit or None,
            "Ulimits": [{"Name": _rlimit_name(r), "Soft": s, "Hard": h} for r, s, h in spec.rlimits]
            or None,
            "LogConfig": {"Type": "json-file", "Config": {}},
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
            "Cmd": list(spec.argv),
            "Image": rec.image,
            "Volumes": None,
            "WorkingDir": spec.cwd if spec.cwd != "/" else "",
            "Entrypoint": None,
            "OnBuild": None,
            "Labels": dict(spec.labels),
            "StopSignal": _signame(spec.stop_signal),
            "StopTimeout": spec.stop_timeout,
        },
        "NetworkSettings": {"Networks": {spec.network: {}} if spec.network else {}},
    }


def _signame(n: int) -> str:
    import signal

    try:
        return signal.Signals(n).name
    except ValueError:
        return str(n)


def _rlimit_name(res: int) -> str:
    from dockyard.runtime.spec import _RLIMITS

    return next((k for k, v in _RLIMITS.items() if v == res), str(res))


def summary(rec, spec, now_ns: int, size_rw: int | None = None) -> dict:
    out = {
        "Id": rec.id,
        "Names": ["/" + rec.name],
        "Image": rec.image,
        "ImageID": rec.image_id,
        "Command": " ".join(spec.argv),
        "Created": rec.created // 1_000_000_000,
        "Ports": [],
        "Labels": dict(spec.labels),
        "State": rec.state,
        "Status": ST.status_text(rec.state, rec.exit_code, rec.started, rec.finished, now_ns),
        "HostConfig": {"NetworkMode": spec.network},
        "NetworkSettings": {"Networks": {}},
        "Mounts": _mounts(spec),
    }
    if size_rw is not None:
        out["SizeRw"] = size_rw
    return out


_FILTERS = ("id", "name", "label", "status", "exited", "before", "since", "ancestor")


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
        if key == "exited":
            for v in values:
                if not v.lstrip("-").isdigit():
                    raise InvalidArgument(f"invalid filter 'exited={v}'")


def matches(rec, spec, filters: dict) -> bool:
    for key, values in filters.items():
        if not values:
            continue
        if key == "id" and not any(rec.id.startswith(v) for v in values):
            return False
        if key == "name" and not _name_matches(values, "/" + rec.name):
            return False
        if key == "status" and rec.state not in values:
            return False
        if key == "exited" and (rec.state != ST.EXITED or str(rec.exit_code) not in values):
            return False
        if key == "label":
            labels = dict(spec.labels)
            for v in values:
                k, eq, val = v.partition("=")
                if k not in labels or (eq and labels[k] != val):
                    return False
        if key == "ancestor" and not any(v in (rec.image, rec.image_id) for v in values):
            return False
    return True


def _name_matches(patterns, name: str) -> bool:
    import re  # only here: ~2 ms to import, and most `ps` calls have no name filter

    return any(re.search(v, name) for v in patterns)
