"""Exec: run a new process inside a running container (Docker's `exec`), and `run_in`, the
capture-and-wait form health checks use.

`prepare` finds the container (reconciled), checks it is running (Docker's Conflict
messages otherwise), and builds the `linux.nsenter.ExecConfig` from its stored spec: its
capability set (all with --privileged), no-new-privileges, its cached seccomp BPF, its
cgroup, its env with -e on top, its user or -u (resolved in the container's own files),
its working directory or -w. `start` spawns it; the exit status is the command's own, 126
when it cannot be invoked, 127 when it is not found, with Docker's messages.
"""

import os

from dockyard.errors import Conflict, InvalidArgument

OUTPUT_LIMIT = 4096


class ExecFailed(Exception):
    """The command could not be started: Docker's message and exit status (126/127)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def prepare(
    config, cid: str, argv, env=(), user: str | None = None, workdir: str | None = None,
    privileged: bool = False, tty: bool = False, stdio=(-1, -1, -1), detach: bool = False,
    winsize: tuple[int, int] | None = None, outlive_caller: bool = False,
):  # fmt: skip
    """The `ExecConfig` for `argv` in container `cid` (and the user resolver).
    `outlive_caller`: the command runs on if this process dies (Docker's `exec` client)."""
    from dockyard.linux import nsenter
    from dockyard.runtime import spec as S
    from dockyard.runtime.launch import cgroup_name

    if not argv or not argv[0]:
        raise InvalidArgument("no command specified")
    rec, driver = _running(config, cid)
    from dockyard.runtime.starter import spec_and_bpf

    spec, bpf = spec_and_bpf(config, rec)
    env_all = S.merge_env(spec.env, tuple(env))
    if user is not None and user != spec.user and not any(e.startswith("HOME=") for e in env):
        # the container's HOME is its own user's: another user gets theirs (nsenter)
        env_all = tuple(e for e in env_all if not e.startswith("HOME="))
    if tty and not any(e.startswith("TERM=") for e in env_all):
        env_all = (*env_all, "TERM=xterm")
    cwd = spec.cwd
    if workdir:
        cwd = S.resolve_workdir(workdir, "/")
    caps = None
    if spec.caps is not None:
        from dockyard.linux import caps as C

        caps = C.resolve((), (), True) if privileged else frozenset(spec.caps)
    cfg = nsenter.ExecConfig(
        init_pid=rec.pid,
        argv=tuple(argv),
        env=env_all,
        cwd=cwd,
        user=spec.user if user is None else user,
        caps=caps,
        no_new_privs=spec.no_new_privs,
        seccomp_bpf=bpf,
        cgroup_join=tuple(driver.join_paths(cgroup_name(rec.id))),
        stdio=tuple(stdio),
        tty=tty,
        winsize=winsize,
        detach=detach,
        outlive_caller=outlive_caller,
        namespaces=tuple(n for n in nsenter.NAMESPACES if n != "net" or spec.network != "host"),
    )
    return rec, cfg


def _running(config, ref: str):
    """The container's record if it is running, else Docker's error; and the cgroup driver."""
    from dockyard.linux.cgroups import detect
    from dockyard.runtime import state as ST
    from dockyard.runtime.containerspec import from_json
    from dockyard.runtime.launch import layout
    from dockyard.runtime.reconcile import reconcile
    from dockyard.runtime.store import ContainerStore

    if not os.path.exists(config.metadata_path):
        from dockyard.errors import NotFound

        raise NotFound(f"No such container: {ref}")
    store = ContainerStore(config.metadata_path)
    try:
        rec = store.find(ref)
        driver = detect()
        if rec.state in ST.LIVE:
            spec = from_json(rec.spec)
            lay = layout(config.containers_dir, rec.id)
            rec = reconcile(store, rec, driver, config.metadata_path, lay.dir, spec.auto_remove)
            if rec is None:
                from dockyard.errors import NotFound

                raise NotFound(f"No such container: {ref}")
    finally:
        store.close()
    if rec.state == ST.PAUSED:
        raise Conflict(f"Container {rec.id} is paused, unpause the container before exec")
    if rec.state == ST.RESTARTING:
        raise Conflict(f"Container {rec.id} is restarting, wait until the container is running")
    if rec.state != ST.RUNNING or rec.pid <= 0:
        raise Conflict(f"container {rec.id} is not running")
    return rec, driver


def start(cfg):
    """Spawn the prepared process; returns `nsenter.Entered` once it has exec'd, or raises
    `ExecFailed` (the middle process is reaped then)."""
    from dockyard.linux import nsenter
    from dockyard.runtime.spec import resolve_user

    pair = None
    if cfg.tty:  # the pty is opened inside, in the container's devpts; its master comes here
        import _socket

        pair = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
        cfg = cfg.replace(console_fd=pair[1].fileno())
    try:
        proc = nsenter.spawn(cfg, resolve_user)
        if pair is not None:
            pair[1].close()
        data = proc.wait_exec()
        if data:
            _reap(proc.pid)
            raise failure(cfg.argv[0], data)
        if pair is not None:
            from dockyard.linux.pty import receive_master

            proc.master = receive_master(pair[0])
    finally:
        if pair is not None:
            pair[0].close()
            pair[1].close()
    return proc


def failure(argv0: str, data: bytes) -> ExecFailed:
    """Docker's message and status for a status line from `nsenter`."""
    import errno

    from dockyard.linux.nsenter import parse_failure

    stage, num, _kind, msg = parse_failure(data)
    head = "OCI runtime exec failed: exec failed: unable to start container process: "
    if stage == "X":
        if num in (errno.ENOENT, errno.ENOTDIR):
            if "/" in argv0:
                why = f"stat {argv0}: no such file or directory"
            else:
                why = "executable file not found in $PATH"
            return ExecFailed(f'{head}exec: "{argv0}": {why}: unknown', 127)
        why = "permission denied" if num in (errno.EACCES, errno.EPERM) else msg.lower()
        return ExecFailed(f'{head}exec: "{argv0}": {why}: unknown', 126)
    return ExecFailed(f"{head}{msg}: unknown", 126)


def _reap(pid: int) -> int:
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return -1
        code = os.waitstatus_to_exitcode(status)
        return 128 - code if code < 0 else code


def wait(proc) -> int:
    """The command's exit status (the middle process passes it on)."""
    return _reap(proc.pid)


class RunResult:
    """What `run_in_full` saw: the exit code, the first 4096 bytes of stdout+stderr, and
    whether there was more (Docker's health log then adds "...")."""

    __slots__ = ("exit_code", "output", "truncated")

    def __init__(self, exit_code: int, output: bytes, truncated: bool = False):
        self.exit_code = exit_code
        self.output = output
        self.truncated = truncated


def run_in(
    config, cid: str, argv: list[str], env: tuple[str, ...] = (), user: str | None = None,
    workdir: str | None = None, timeout: float | None = None,
) -> tuple[int, bytes]:  # fmt: skip
    """Run `argv` in running container `cid`; (exit code, stdout+stderr, first 4096 bytes).

    On `timeout` (seconds) the process is killed and the code is -1. Raises Conflict when
    the container is not running, NotFound when unknown."""
    r = run_in_full(config, cid, argv, env, user, workdir, timeout)
    return r.exit_code, r.output


def run_in_full(
    config, cid: str, argv: list[str], env: tuple[str, ...] = (), user: str | None = None,
    workdir: str | None = None, timeout: float | None = None,
) -> RunResult:  # fmt: skip
    """`run_in`, telling also whether the output went past the first 4096 bytes."""
    import time

    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    try:
        null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _rec, cfg = prepare(config, cid, argv, env, user, workdir, stdio=(null, out_w, out_w))
            try:
                proc = start(cfg)
            except ExecFailed as e:
                msg = str(e).encode()
                return RunResult(e.exit_code, msg[:OUTPUT_LIMIT], len(msg) > OUTPUT_LIMIT)
        finally:
            os.close(null)
            os.close(out_w)
        deadline = None if timeout is None else time.monotonic() + timeout
        out, code = _collect(out_r, proc.pid, deadline)
    finally:
        os.close(out_r)
    return RunResult(code, out[:OUTPUT_LIMIT], len(out) > OUTPUT_LIMIT)


def _collect(out_r: int, pid: int, deadline: float | None) -> tuple[bytes, int]:
    """Read the output until the process exits (a background child holding the pipe
    does not keep us), or kill it at the deadline. Up to one byte past the limit is kept:
    the caller's sign that there was more."""
    import select
    import time

    keep = OUTPUT_LIMIT + 1
    pidfd = os.pidfd_open(pid)
    buf = bytearray()
    poller = select.poll()
    poller.register(out_r, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    reading = True
    try:
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = poller.poll(None if left is None else int(left * 1000) + 1)
            if not ready and deadline is not None and time.monotonic() >= deadline:
                os.kill(pid, 9)  # the command follows: its parent-death signal
                _reap(pid)
                return bytes(buf[:keep]), -1
            for fd, _ev in ready:
                if fd == out_r and reading:
                    data = os.read(out_r, 65536)
                    if not data:
                        reading = False
                        poller.unregister(out_r)
                    elif len(buf) < keep:
                        buf += data
                elif fd == pidfd:
                    code = _reap(pid)
                    if reading:
                        os.set_blocking(out_r, False)
                        try:
                            while len(buf) < keep:
                                data = os.read(out_r, 65536)
                                if not data:
                                    break
                                buf += data
                        except BlockingIOError:
                            pass
                    return bytes(buf[:keep]), code
    finally:
        os.close(pidfd)
