"""The `config` of a committed image: the container's Config as Docker keeps it, merged over
the parent image's (Docker's commit `merge`), before `--change` lines apply.

Entrypoint and Cmd come from the spec, which keeps them apart; a spec stored before it did
has only the argv, split again against the parent's Entrypoint (an argv that starts with it
kept it; otherwise the user gave --entrypoint, whose single word is the first). Env loses what the engine adds at
start (PATH when defaulted, HOSTNAME, HOME) unless the parent image has it.
"""

from dockyard.oci.image import ContainerConfig


def split_argv(argv, parent: ContainerConfig, spec=None):
    """(Entrypoint, Cmd) for the container's argv."""
    if spec is not None and spec.cmd is not None:
        return (spec.entrypoint or None), (spec.cmd or None)
    argv = tuple(argv)
    entry = tuple(parent.entrypoint or ())
    if entry and argv[: len(entry)] == entry:
        rest = argv[len(entry) :]
        return entry, (rest or None)
    if entry:
        return argv[:1], (argv[1:] or None)
    return None, (argv or None)


def _env(spec, parent: ContainerConfig) -> tuple[str, ...]:
    from dockyard.runtime.spec import DEFAULT_PATH

    own = {e.partition("=")[0]: e for e in parent.env or ()}
    out = []
    for item in spec.env:
        key, _, value = item.partition("=")
        if key not in own:
            if key == "HOSTNAME" and value == spec.hostname:
                continue
            if key == "PATH" and value == DEFAULT_PATH:
                continue
            if key == "HOME":
                continue
        out.append(item)
    return tuple(out)


def container_config(spec, parent: ContainerConfig) -> ContainerConfig:
    entrypoint, cmd = split_argv(spec.argv, parent, spec)
    env = _env(spec, parent)
    workdir = spec.cwd if (spec.cwd != "/" or parent.working_dir) else ""
    labels = dict(spec.labels) if spec.labels or parent.labels is not None else None
    stop = parent.stop_signal
    if not stop and spec.stop_signal != 15:  # SIGTERM, the default
        import signal as _signal

        try:
            stop = _signal.Signals(spec.stop_signal).name
        except ValueError:
            stop = str(spec.stop_signal)
    return parent.replace(
        user=spec.user,
        env=env if env or parent.env is not None else None,
        entrypoint=entrypoint,
        cmd=cmd,
        working_dir=workdir,
        labels=labels,
        stop_signal=stop,
    )


def created_by(spec, parent: ContainerConfig) -> str:
    """Docker's history `created_by` for a commit: the container's Cmd joined by spaces."""
    _, cmd = split_argv(spec.argv, parent, spec)
    return " ".join(cmd or ())
