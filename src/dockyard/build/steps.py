"""Metadata instructions: how ENV, WORKDIR, CMD, LABEL ... change the image config."""

import os

from dockyard.errors import InvalidArgument

DEFAULT_SHELL = ("/bin/sh", "-c")


def env_set(env: tuple[str, ...] | None, key: str, value: str) -> tuple[str, ...]:
    out = [e for e in (env or ()) if e.partition("=")[0] != key]
    out.append(f"{key}={value}")
    return tuple(out)


def env_dict(env) -> dict[str, str]:
    return dict(e.partition("=")[::2] for e in (env or ()))


def shell_of(cfg) -> tuple[str, ...]:
    return tuple(cfg.shell) if cfg.shell else DEFAULT_SHELL


def apply(cfg, inst, cmd_set: bool):
    """The ContainerConfig after the metadata instruction `inst`; (config, cmd_set)."""
    from dockyard import dockerfile as D

    if isinstance(inst, D.Env):
        env = cfg.env
        for kv in inst.pairs:
            env = env_set(env, kv.key, kv.value)
        return cfg.replace(env=env), cmd_set
    if isinstance(inst, D.Workdir):
        path = inst.path
        if not path.startswith("/"):
            path = os.path.join(cfg.working_dir or "/", path)
        return cfg.replace(working_dir=os.path.normpath(path)), cmd_set
    if isinstance(inst, D.Label):
        labels = dict(cfg.labels or {})
        for kv in inst.pairs:
            labels[kv.key] = kv.value
        return cfg.replace(labels=labels), cmd_set
    if isinstance(inst, D.Maintainer):
        return cfg, cmd_set  # goes to the image's author
    if isinstance(inst, D.Expose):
        ports = dict(cfg.exposed_ports or {})
        for p in inst.ports:
            p = p if "/" in p else p + "/tcp"
            ports[p.lower()] = {}
        return cfg.replace(exposed_ports=ports), cmd_set
    if isinstance(inst, D.Volume):
        vols = dict(cfg.volumes or {})
        for p in inst.paths:
            if not p.strip():
                raise InvalidArgument(
                    f"Dockerfile:{inst.line}: VOLUME specified can not be an empty string"
                )
            vols[p] = {}
        return cfg.replace(volumes=vols), cmd_set
    if isinstance(inst, D.User):
        return cfg.replace(user=inst.user), cmd_set
    if isinstance(inst, D.StopSignal):
        return cfg.replace(stop_signal=inst.signal), cmd_set
    if isinstance(inst, D.Shell):
        return cfg.replace(shell=tuple(inst.shell)), cmd_set
    if isinstance(inst, D.Cmd):
        argv = (*shell_of(cfg), inst.command[0]) if inst.shell else tuple(inst.command)
        return cfg.replace(cmd=argv), True
    if isinstance(inst, D.Entrypoint):
        argv = (*shell_of(cfg), inst.command[0]) if inst.shell else tuple(inst.command)
        # Docker: an ENTRYPOINT drops a CMD inherited from the base image
        return cfg.replace(entrypoint=argv, cmd=cfg.cmd if cmd_set else None), cmd_set
    if isinstance(inst, D.Healthcheck):
        from dockyard.oci.image import Healthcheck

        hc = Healthcheck(
            test=tuple(inst.test),
            interval=inst.interval,
            timeout=inst.timeout,
            start_period=inst.start_period,
            start_interval=inst.start_interval,
            retries=inst.retries,
        )
        return cfg.replace(healthcheck=hc), cmd_set
    if isinstance(inst, D.Onbuild):
        return cfg.replace(on_build=(*(cfg.on_build or ()), inst.expression)), cmd_set
    raise InvalidArgument(f"Dockerfile:{inst.line}: unknown instruction: {inst.keyword}")


def created_by(inst, argv=None, args: dict | None = None) -> str:
    from dockyard import dockerfile as D

    if isinstance(inst, D.Run):
        prefix = ""
        if args:
            prefix = f"|{len(args)} " + " ".join(f"{k}={v}" for k, v in sorted(args.items())) + " "
        return f"RUN {prefix}{' '.join(argv or inst.command)} # buildkit"
    if isinstance(inst, (D.Copy, D.Add)):
        return f"{inst.original} # buildkit"
    return inst.original
