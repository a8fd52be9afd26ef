"""The supervisor's plan: everything a forked supervisor needs to start and watch one
container, built by `launch` (and sent through `handoff` to a supervisor forked ahead).

Apart from the supervisor so that the launcher, on every `run`'s path, does not import it."""

from dockyard.linux.record import Record


class Plan(Record):
    """What the forked supervisor needs; built by `launch` before the fork."""

    cid: str
    root: str  # the engine's Config (the finisher rebuilds it to restart the container)
    state_dir: str
    db_path: str
    container_dir: str
    log_path: str
    init: object  # linux.init.InitConfig without stdio/barrier
    cgroup: str
    driver: object  # CgroupDriver
    rlimits: tuple[tuple[int, int, int], ...]
    status_w: int
    barrier_r: int
    result_w: int  # -1 when nobody is attached
    attach: tuple[int, int, int] | None  # the client's stdin (or -1), stdout, stderr
    auto_remove: bool
    # forked before this process had any sqlite connection (launch.prefork): it may open its
    # own, and finish here instead of in a fresh interpreter
    sqlite_ok: bool
    tty: bool  # a pty: the master here, the container's own slave on its 0-2
    open_stdin: bool  # -i: the container's stdin stays open for clients (a pipe or the pty)
    detach_keys: bytes  # the starting client's (b"": ctrl-p ctrl-q)
    # `init` None: the supervisor builds it from these, and makes the cgroup itself (with
    # `driver` None, detected here)
    spec: object  # runtime.containerspec.ContainerSpec
    lowerdirs: tuple[str, ...]
    bpf: bytes | None
    # run --rm, attached: the client removes the record itself once told the exit code, and
    # says so on the barrier pipe ("D"; end-of-file: it did not, this process does)
    client_removes: bool
    health: bool  # a health check that probes: its monitor is watched from here
    __slots__ = _fields = (
        "cid",
        "root",
        "state_dir",
        "db_path",
        "container_dir",
        "log_path",
        "init",
        "cgroup",
        "driver",
        "rlimits",
        "status_w",
        "barrier_r",
        "result_w",
        "attach",
        "auto_remove",
        "sqlite_ok",
        "tty",
        "open_stdin",
        "detach_keys",
        "spec",
        "lowerdirs",
        "bpf",
        "client_removes",
        "health",
    )
    _defaults = {
        "sqlite_ok": False, "tty": False, "open_stdin": False, "detach_keys": b"",
        "spec": None, "lowerdirs": (), "bpf": None,
        "client_removes": False, "health": False,
    }  # fmt: skip
