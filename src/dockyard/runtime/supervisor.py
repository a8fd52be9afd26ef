"""The supervisor: the parent of one running container, outliving the CLI that started it.

`launch` forks it and it calls `supervise(plan)` in a new session: it spawns the init
(`linux.init.spawn`, the init then waits at the barrier the launcher releases), brings up
lo in the container's network namespace, owns the container's stdout and stderr (pipes),
appends them to the json-file log and forwards them, kept apart, to the attached client's
descriptors, and reaps the exit. Then, in this order: it writes the exit file (exit code,
OOMKilled, FinishedAt — readers apply it at once), tells an attached client the exit code,
and execs the finisher (`runtime.finish`: database record, cgroup removal, --rm, restart
policy). The overlay lives only in the container's mount namespace, so nothing is left
mounted on the host.

It stays single-threaded (the raw clone requires it), imports little and never touches
sqlite (it was forked from a process that had the database open).

Messages to the launcher on the status pipe (one line each): `P<init pid> <own pid> <own
start time>` once the init is ready at the barrier, then `X` once it has exec'd, or
`E<exit code>:<message>` when either step failed. On the result pipe (attach only):
`C<exit code>`.
"""

import os

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
    )


def proc_start_time(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat ("" when gone): with the pid, names one process for good."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return ""
    fields = data[data.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else ""


def supervise(plan: Plan) -> None:
    """Run in the forked child; never returns."""
    code = 1
    try:
        os.setsid()
        _run(plan)
        code = 0
    except BaseException as e:  # the launcher is told through the status pipe
        _say(plan.status_w, f"E125:{type(e).__name__}: {e}")
        _note(plan, e)
    finally:
        os._exit(code)


def _note(plan: Plan, e: BaseException) -> None:
    _note_in(plan.container_dir, e)


def _note_in(container_dir: str, e: BaseException) -> None:
    """Leave the reason next to the log: nobody else may be listening any more."""
    try:
        import traceback

        with open(os.path.join(container_dir, "supervisor.err"), "a") as f:
            traceback.print_exception(e, file=f)
    except OSError:
        pass


def _say(fd: int, text: str) -> None:
    try:
        os.write(fd, (text.replace("\n", " ") + "\n").encode(errors="replace"))
    except OSError:
        pass


def _keep_only(keep: set[int]) -> None:
    # the client's descriptors (pytest's, a terminal's sockets ...) must not stay open here
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _run(plan: Plan) -> None:
    import signal

    from dockyard.linux import init as I

    devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    attach = plan.attach
    # the supervisor's own 0-2 become /dev/null; the client's fds are kept at high numbers
    if attach is not None:
        attach = tuple(
            os.dup(fd) if fd >= 0 else -1 for fd in attach
        )  # dup is inheritable: close-on-exec below
        for fd in attach:
            if fd >= 0:
                os.set_inheritable(fd, False)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    keep = {plan.status_w, plan.barrier_r, plan.result_w, devnull}
    keep.update(fd for fd in (attach or ()) if fd >= 0)
    _keep_only(keep)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    stdin = attach[0] if attach is not None and attach[0] >= 0 else devnull
    cfg = plan.init.replace(stdio=(stdin, out_w, err_w), barrier_fd=plan.barrier_r)
    old_limits = _set_rlimits(plan.rlimits)
    # the container starts with default dispositions (Python ignores SIGPIPE)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        init = I.spawn(cfg)
    except BaseException as e:
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        _failed(plan, 125, str(e))
        return
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    _restore_rlimits(old_limits)
    os.close(out_w)
    os.close(err_w)
    os.close(plan.barrier_r)
    if attach is not None and attach[0] >= 0:
        os.close(attach[0])
    if plan.init.namespaces & 0x40000000:  # its own network namespace: lo up, as Docker
        try:
            from dockyard.runtime.loopback import bring_up

            bring_up(init.pid)
        except BaseException as e:
            os.kill(init.pid, signal.SIGKILL)
            os.waitpid(init.pid, 0)
            _failed(plan, 125, str(e))
            return
    me = os.getpid()
    _say(plan.status_w, f"P{init.pid} {me} {proc_start_time(me)}")
    try:
        init.wait_exec()
    except BaseException as e:
        code = exec_exit_code(e)
        os.close(out_r)
        os.close(err_r)
        _failed(plan, code, exec_message(cfg.argv[0], e))
        return
    _say(plan.status_w, "X")
    os.close(plan.status_w)
    if attach is None and plan.result_w < 0:
        _exec_slim(plan, init.pid, out_r, err_r)  # detached: shed the client's memory
    code = _pump_and_reap(plan.log_path, out_r, err_r, init.pid, attach)
    try:
        oom = plan.driver.oom_kills(plan.cgroup) > 0
    except Exception:
        oom = False
    _finish(plan.container_dir, plan.root, plan.state_dir, plan.cid, code, oom,
            plan.result_w, attach)  # fmt: skip


def _pump_and_reap(log_path: str, out_r: int, err_r: int, pid: int, attach) -> int:
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    _pump(out_r, err_r, log_fd, attach)
    os.close(log_fd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _python(module: str, *args: str) -> None:
    """Exec a fresh interpreter (-S: no site, only the stdlib and our own package)."""
    import sys

    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": src}
    os.execve(sys.executable, [sys.executable, "-S", "-m", module, *args], env)


def _exec_slim(plan: Plan, pid: int, out_r: int, err_r: int) -> None:
    """Become a fresh, small interpreter that keeps the init as its child and the pipes:
    a forked supervisor carries the whole memory of the client that started it."""
    os.set_inheritable(out_r, True)
    os.set_inheritable(err_r, True)
    _python(
        "dockyard.runtime.supervisor", plan.cid, plan.container_dir, plan.log_path,
        plan.cgroup, plan.root, plan.state_dir, str(pid), str(out_r), str(err_r),
    )  # fmt: skip


def slim_main(argv: list[str]) -> int:
    """The detached supervisor after its exec: pump, reap, finish."""
    cid, cdir, log_path, cgroup, root, state_dir, pid, out_r, err_r = argv
    out_fd, err_fd = int(out_r), int(err_r)
    os.set_inheritable(out_fd, False)
    os.set_inheritable(err_fd, False)
    try:
        code = _pump_and_reap(log_path, out_fd, err_fd, int(pid), None)
        try:
            from dockyard.linux.cgroups import detect

            oom = detect().oom_kills(cgroup) > 0
        except Exception:
            oom = False
        _finish(cdir, root, state_dir, cid, code, oom, -1, None)
    except BaseException as e:
        _note_in(cdir, e)
        return 1
    return 0


def _pump(out_r: int, err_r: int, log_fd: int, attach) -> None:
    import select

    from dockyard.runtime.jsonlog import Writer

    writers = {out_r: Writer(log_fd, "stdout"), err_r: Writer(log_fd, "stderr")}
    targets = {out_r: attach[1] if attach else -1, err_r: attach[2] if attach else -1}
    poller = select.poll()
    for fd in writers:
        poller.register(fd, select.POLLIN)
    open_fds = set(writers)
    while open_fds:
        for fd, _ev in poller.poll():
            data = os.read(fd, 65536)
            if not data:
                poller.unregister(fd)
                open_fds.discard(fd)
                writers[fd].close()
                os.close(fd)
                continue
            writers[fd].feed(data)
            t = targets[fd]
            if t >= 0:
                try:
                    _write_all(t, data)
                except OSError:
                    targets[fd] = -1  # the client went away; the log still gets everything


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _set_rlimits(rlimits):
    if not rlimits:
        return ()
    import resource

    old = []
    for res, soft, hard in rlimits:
        old.append((res, resource.getrlimit(res)))
        resource.setrlimit(res, (soft, hard))
    return old


def _restore_rlimits(old) -> None:
    if old:
        import resource

        for res, limits in old:
            try:
                resource.setrlimit(res, limits)
            except (ValueError, OSError):
                pass


def exec_exit_code(e: BaseException) -> int:
    """Docker CLI's mapping: not found 127, permission denied / is a directory 126."""
    from dockyard.errors import NotFound, PermissionDenied

    text = str(e)
    if isinstance(e, NotFound) or "No such file" in text:
        return 127
    if isinstance(e, PermissionDenied) or "Permission denied" in text or "Is a directory" in text:
        return 126
    return 125


def exec_message(argv0: str, e: BaseException) -> str:
    code = exec_exit_code(e)
    if code == 127 and "/" not in argv0:
        why = "executable file not found in $PATH"
    elif code == 127:
        why = f"stat {argv0}: no such file or directory"
    elif code == 126:
        why = "permission denied"
    else:
        why = str(e)
    return (
        "failed to create task for container: failed to start container process: "
        f'exec: "{argv0}": {why}: unknown'
    )


def _failed(plan: Plan, code: int, message: str) -> None:
    """Start failed: the launcher records it (it holds the database); we only tear down."""
    _say(plan.status_w, f"E{code}:{message}")
    os.close(plan.status_w)
    try:
        plan.driver.remove(plan.cgroup)
    except Exception:
        pass


def _finish(container_dir: str, root: str, state_dir: str, cid: str, code: int, oom: bool,
            result_w: int, attach) -> None:  # fmt: skip
    """Write the exit file, tell an attached client, then exec the finisher (a fresh
    interpreter: sqlite must not be used in a process forked from one that had it open)."""
    import time

    finished = time.time_ns()
    me = os.getpid()
    write_exit(container_dir, me, proc_start_time(me), code, oom, finished)
    # the result first: an attached client exits now; the teardown follows
    if result_w >= 0:
        _say(result_w, f"C{code}")
        os.close(result_w)
    for fd in attach or ():
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
    _python("dockyard.runtime.finish", root, state_dir, cid)


def exit_path(container_dir: str) -> str:
    return os.path.join(container_dir, "exit")


def write_exit(container_dir: str, sup_pid: int, sup_start: str, code: int, oom: bool,
               finished: int) -> None:  # fmt: skip
    path = exit_path(container_dir)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, f"{sup_pid} {sup_start} {code} {int(oom)} {finished}\n".encode())
    finally:
        os.close(fd)
    os.rename(tmp, path)


def read_exit(container_dir: str):
    """(sup_pid, sup_start, code, oom, finished) or None."""
    try:
        with open(exit_path(container_dir), "rb") as f:
            parts = f.read(200).split()
        return int(parts[0]), parts[1].decode(), int(parts[2]), parts[3] == b"1", int(parts[4])
    except (OSError, ValueError, IndexError):
        return None


if __name__ == "__main__":
    import sys

    sys.exit(slim_main(sys.argv[1:]))
