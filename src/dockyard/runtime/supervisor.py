"""The supervisor: the parent of one running container, outliving the CLI that started it.

`launch` forks it and it calls `supervise(plan)` in a new session: it spawns the init
(`linux.init.spawn`, the init brings up lo in its network namespace itself and then waits
at the barrier the launcher releases), owns the container's stdout and stderr (pipes),
appends them to the json-file log and forwards them, kept apart, to the attached client's
descriptors, and reaps the exit. Then, in this order: it writes the exit file (exit code,
OOMKilled, FinishedAt — readers apply it at once), tells an attached client the exit code,
and runs the finisher (`runtime.finish`: database record, cgroup removal, --rm, restart
policy). The overlay lives only in the container's mount namespace, so nothing is left
mounted on the host.

It stays single-threaded (the raw clone requires it) and imports little. It touches sqlite
only when `launch.prefork` forked it before its client had the database open (`sqlite_ok`):
then it finishes the container itself. Otherwise an attached supervisor starts the finisher
(a fresh interpreter) ahead, beside the container's start, and lets it go at the exit; a
detached one execs a fresh, small interpreter of itself, which finishes in-process.

Messages to the launcher on the status pipe (one line each): `P<init pid> <own pid> <own
start time>` once the init is ready at the barrier, then `X` once it has exec'd, or
`E<exit code>:<message>` when either step failed. On the result pipe (attach only):
`C<exit code>`.
"""

import os
from time import time_ns

from dockyard.runtime.exitfile import proc_start_time, write_exit
from dockyard.runtime.plan import Plan


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


def supervise_planned(plan_r: int, keep: set[int]) -> None:
    """Run in a supervisor forked ahead of its plan (`launch.prefork`); never returns.

    Warms up while the launcher works (the imports and libc the start needs, in the
    container init's too: it is cloned from here) and clones the init ahead
    (`initstart.clone_early`), then reads the plan; end-of-file without one means the launcher gave
    up."""
    code = 1
    try:
        import gc

        # What the client made stays out of every collection (a collection would write to
        # those objects, and copy their pages from the client's); the supervisor's own are
        # collected (whatever the client chose for itself).
        gc.freeze()
        gc.enable()
        os.setsid()
        _keep_only(keep)
        sc = _warm_up()
        from dockyard.runtime import initstart

        early = initstart.clone_early(sc)
        driver = initstart.detect()
        pending = initstart.cgroup_ahead(driver, early)
        chunks = []
        while True:
            b = os.read(plan_r, 65536)
            if not b:
                break
            chunks.append(b)
        os.close(plan_r)
        if not chunks:
            initstart.drop_cgroup(driver, pending, early)
            os._exit(0)
        from dockyard.runtime import handoff

        plan = handoff.loads(b"".join(chunks))
    except BaseException:
        os._exit(code)
    try:
        _run(plan, sc, early, driver, pending)
        code = 0
    except BaseException as e:
        _say(plan.status_w, f"E125:{type(e).__name__}: {e}")
        _note(plan, e)
    finally:
        os._exit(code)


def _warm_up(finish_here: bool = False):
    """Import now what the start path imports later, and load libc: a Syscalls to use."""
    import _socket  # noqa: F401 - the init brings up lo with it
    import fcntl  # noqa: F401
    import select  # noqa: F401
    import stat  # noqa: F401

    from dockyard import errors  # noqa: F401
    from dockyard.linux import caps, loopback, mounts, paths  # noqa: F401
    from dockyard.linux import init as _init  # noqa: F401
    from dockyard.linux import syscalls as S
    from dockyard.linux.cgroups import v1, v2  # noqa: F401 - the plan's driver

    # (containerspec: the plan's spec; what only serves once the container runs, the log
    # and the attach hub, is imported while the init sets up: `_run`'s `meanwhile`)
    from dockyard.runtime import containerspec, handoff, initstart  # noqa: F401

    sc = S.Syscalls()
    sc.prepare()
    if finish_here:
        _warm_up_finish()
    return sc


def _warm_up_finish() -> None:
    # `run --rm` waits for the finisher to remove the record: what it imports (sqlite
    # above all) is loaded ahead. (A detached supervisor finishes in a fresh interpreter;
    # a client with the database already open gets a finisher started ahead.)
    from dockyard.runtime import finish

    finish.warm_up()


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


def _run(plan: Plan, sc=None, early=None, driver=None, pending: str = "") -> None:
    import _signal as signal  # the C module: `signal` imports enum

    from dockyard.runtime import initstart

    make_cgroup = plan.init is None
    if make_cgroup:
        try:
            plan = initstart.complete(plan, driver)
        except BaseException:
            initstart.drop_cgroup(driver, pending, early)
            raise
    elif pending:  # (the init cloned early sat in it: not to be used)
        initstart.drop_cgroup(driver, pending, early)
        early = None

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
    if plan.init.cgroup_fd is not None:
        keep.add(plan.init.cgroup_fd)  # clone3 starts the init in it
    keep.update(fd for fd in (attach or ()) if fd >= 0)
    if early is not None:
        keep.update(early.fds())
    _keep_only(keep)
    stdin = attach[0] if attach is not None and attach[0] >= 0 else devnull
    # -i: the container reads a pipe of ours, which every attached client may feed (the
    # first client's stdin too: handing it over would shut the others out)
    if plan.tty or plan.open_stdin:
        from dockyard.runtime import attachio

        io = attachio.Streams(plan.tty, attach, devnull)
        cfg = plan.init.replace(barrier_fd=plan.barrier_r, **io.init_fields())
        out_r, out_w, err_r, err_w = io.out_r, -1, io.err_r, -1  # err_r: -1 with a tty
    else:
        io = None
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        cfg = plan.init.replace(stdio=(stdin, out_w, err_w), barrier_fd=plan.barrier_r)
    if cfg.cgroup_fd is None and plan.driver.version == 2 and not make_cgroup:
        # handed over: open our own
        cfg = cfg.replace(cgroup_fd=plan.driver.open_dir(plan.cgroup))
    # attached: this process stays a fork of the client (sqlite is off limits here), so the
    # finisher is a fresh interpreter; started now, it warms up beside the container's start
    detached = attach is None and plan.result_w < 0
    finisher = None
    if not detached and not plan.sqlite_ok:
        finisher = _Finisher.spawn(plan)
    old_limits = _set_rlimits(plan.rlimits)
    # the finisher's store: opened while the init assembles its root when there is such a
    # wait, else once it runs; a container as short as `true` is gone before it would be
    # (none for a client that removes the record itself: only if it turns out not to)
    wants_store = plan.sqlite_ok and not detached and not plan.client_removes
    opened = []

    def meanwhile() -> None:
        from dockyard.runtime import attachio, jsonlog, pump  # noqa: F401

        if wants_store:
            opened.append(_open_store(plan))

    # With the init cloned early its pid is known now: the launcher records the container
    # as running (and opens the barrier) while the init sets up, not after. A setup that
    # fails then is reported in place of "X", and the launcher undoes the record.
    me = os.getpid()
    early_p = initstart.takes_early(cfg, early, plan, make_cgroup)
    held = _hold_mounts(early.pid) if early_p else -1
    if early_p:
        _say(plan.status_w, f"P{early.pid} {me} {proc_start_time(me)}")
    # the container starts with default dispositions (Python ignores SIGPIPE)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        if make_cgroup:
            init = initstart.spawn_into_new_cgroup(cfg, sc, early, plan, meanwhile, pending)
        else:
            init = initstart.spawn(cfg, sc, early, plan.rlimits)
    except BaseException as e:
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        _release(held)
        _failed(plan, 125, str(e), finisher)
        return
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    _restore_rlimits(old_limits)
    if io is not None:
        out_r = io.spawned()  # the pty master, received from the init
    else:
        os.close(out_w)
        os.close(err_w)
    ack_r = plan.barrier_r if plan.client_removes else -1  # the client's word comes there
    if ack_r < 0:
        os.close(plan.barrier_r)
    if attach is not None and attach[0] >= 0 and io is None:
        os.close(attach[0])  # the init has it (no -i: a client's stdin, read or not)
    if not early_p:
        held = _hold_mounts(init.pid)  # (it waits at the barrier until we say P)
        _say(plan.status_w, f"P{init.pid} {me} {proc_start_time(me)}")
    try:
        init.wait_exec()
    except BaseException as e:
        code = exec_exit_code(e)
        os.close(out_r)
        if err_r >= 0:
            os.close(err_r)
        _release(held)
        _failed(plan, code, exec_message(cfg.argv[0], e), finisher)
        return
    _say(plan.status_w, "X")
    os.close(plan.status_w)
    if wants_store and not opened:
        meanwhile()
    store = opened[0] if opened else None
    from dockyard.runtime import attachio
    from dockyard.runtime import pump as P

    listener = attachio.try_listen(plan.state_dir, plan.cid)
    stdin_w = io.stdin_w if io is not None else -1
    started = time_ns() if plan.health else 0  # (the record says about the same)
    if detached:  # shed the client's memory
        _exec_slim(plan, init.pid, out_r, err_r, listener, stdin_w, started)
    hub = attachio.Hub(plan.tty, stdin_w, listener, plan.detach_keys, plan.state_dir, plan.cid)
    if attach is not None:
        client_in = attach[0] if io is not None else -1
        hub.add(attachio.Client(client_in, attach[1], attach[2], plan.result_w,
                                plan.detach_keys or attachio.DEFAULT_DETACH_KEYS, plan.tty))  # fmt: skip
    tick = P.health_watch(plan.root, plan.state_dir, plan.cid, plan.container_dir, init.pid,
                         started)  # fmt: skip
    code = P.pump_and_reap(plan.log_path, out_r, err_r, init.pid, hub, tick)
    try:
        oom = plan.driver.oom_kills(plan.cgroup) > 0
    except Exception:
        oom = False
    _finish(plan.container_dir, plan.root, plan.state_dir, plan.cid, code, oom,
            plan.result_w, hub, finisher, in_process=plan.sqlite_ok,
            hold_result=plan.auto_remove, store=store, ack_r=ack_r, held=held)  # fmt: skip


def _read_ack(fd: int) -> bool:
    """The client's word on the barrier pipe: b"D" (it removed the record) or end-of-file."""
    try:
        return os.read(fd, 1) == b"D"
    except OSError:
        return False
    finally:
        os.close(fd)


def _open_store(plan: Plan):
    """The finisher's imports and database connection, while the container runs (it
    finishes in this process): at the exit only the statements are left to run. (Not in
    the warm-up before the start: that must be over before the plan comes.)"""
    try:
        _warm_up_finish()
        from dockyard.runtime.store import ContainerStore

        return ContainerStore(plan.db_path)
    except Exception:
        return None  # the finisher opens its own


class _Finisher:
    """`runtime.finish` started ahead (posix_spawn: no copy of this process), waiting on a
    pipe: "go" once the exit file is written; end-of-file makes it leave without acting."""

    def __init__(self, pid: int, go_w: int):
        self.pid = pid
        self.go_w = go_w

    @classmethod
    def spawn(cls, plan: Plan) -> "_Finisher | None":
        import sys

        go_r, go_w = os.pipe2(os.O_CLOEXEC)
        try:
            os.set_inheritable(go_r, True)
            pid = os.posix_spawn(
                sys.executable,
                [sys.executable, "-S", "-m", "dockyard.runtime.finish", plan.root,
                 plan.state_dir, plan.cid, f"--wait={go_r}"],
                _python_env(),
            )  # fmt: skip
        except OSError:
            os.close(go_w)
            return None  # the exec'd finisher takes over at the end
        finally:
            os.close(go_r)
        return cls(pid, go_w)

    def go(self) -> None:
        """Let it finish, and wait: until it is done this process stands for the container
        (sup_pid), so nobody restarts or reconciles it meanwhile."""
        try:
            os.write(self.go_w, b"go")
        finally:
            self.cancel()

    def cancel(self) -> None:
        os.close(self.go_w)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _python(module: str, *args: str) -> None:
    """Exec a fresh interpreter (-S: no site, only the stdlib and our own package)."""
    import sys

    os.execve(sys.executable, [sys.executable, "-S", "-m", module, *args], _python_env())


def _python_env() -> dict[str, str]:
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": src}


def _exec_slim(plan: Plan, pid: int, out_r: int, err_r: int, listener, stdin_w: int,
               health_started: int) -> None:  # fmt: skip
    """Become a fresh, small interpreter that keeps the init as its child and the pipes:
    a forked supervisor carries the whole memory of the client that started it."""
    lfd = listener.detach() if listener is not None else -1
    for fd in (out_r, err_r, lfd, stdin_w):
        if fd >= 0:
            os.set_inheritable(fd, True)
    _python(
        "dockyard.runtime.supervisor", plan.cid, plan.container_dir, plan.log_path,
        plan.cgroup, plan.root, plan.state_dir, str(pid), str(out_r), str(err_r),
        f"{lfd},{stdin_w},{int(plan.tty)},{plan.detach_keys.hex()},{health_started}",
    )  # fmt: skip


def slim_main(argv: list[str]) -> int:
    """The detached supervisor after its exec: pump, reap, finish."""
    cid, cdir, log_path, cgroup, root, state_dir, pid, out_r, err_r, extra = argv
    out_fd, err_fd = int(out_r), int(err_r)
    lfd_s, stdin_s, tty_s, keys, health_s = extra.split(",")
    lfd, stdin_w = int(lfd_s), int(stdin_s)
    for fd in (out_fd, err_fd, lfd, stdin_w):
        if fd >= 0:
            os.set_inheritable(fd, False)
    try:
        from dockyard.runtime import attachio

        listener = attachio.adopt(lfd) if lfd >= 0 else None
        hub = attachio.Hub(tty_s == "1", stdin_w, listener, bytes.fromhex(keys), state_dir, cid)
        from dockyard.runtime import pump as P

        tick = P.health_watch(root, state_dir, cid, cdir, int(pid), int(health_s))
        code = P.pump_and_reap(log_path, out_fd, err_fd, int(pid), hub, tick)
        try:
            from dockyard.linux.cgroups import detect

            oom = detect().oom_kills(cgroup) > 0
        except Exception:
            oom = False
        _finish(cdir, root, state_dir, cid, code, oom, -1, hub, in_process=True)
    except BaseException as e:
        _note_in(cdir, e)
        return 1
    return 0


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


def _hold_mounts(pid: int) -> int:
    """A descriptor of the init's mount namespace, or -1. While it is open, the
    container's exit does not tear its mounts down (~0.7 ms here, the last process of a
    namespace unmounts all of it before its parent may reap it): the exit code reaches the
    client first, and `_release` pays for the teardown after."""
    try:
        return os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return -1


def _release(held: int) -> None:
    if held >= 0:
        os.close(held)  # the mounts go now, in this process


def _failed(plan: Plan, code: int, message: str, finisher=None) -> None:
    """Start failed: the launcher records it (it holds the database); we only tear down."""
    _say(plan.status_w, f"E{code}:{message}")
    os.close(plan.status_w)
    if finisher is not None:
        finisher.cancel()
    try:
        plan.driver.remove(plan.cgroup)
    except Exception:
        pass


def _finish(container_dir: str, root: str, state_dir: str, cid: str, code: int, oom: bool,
            result_w: int, attach, finisher=None, in_process: bool = False,
            hold_result: bool = False, store=None, ack_r: int = -1,
            held: int = -1) -> None:  # fmt: skip
    """Write the exit file, tell an attached client, then run the finisher: the one started
    ahead, or here when this is a fresh interpreter (`in_process`, the detached supervisor
    after its exec), or exec'd (sqlite must not be used in a process forked from one that
    had it open).

    `hold_result` (--rm): the result pipe stays open after the exit code until the record
    is gone, and its end-of-file tells the client so (it returns then, as Docker's does,
    without polling for it).

    `ack_r` (`Plan.client_removes`): the client removes the record and says "D" there; this
    process then only tidies (cgroup, directory). End-of-file instead: it removes it here.

    `held` (`_hold_mounts`): released once the clients are told, before any tidying."""
    finished = time_ns()
    me = os.getpid()
    write_exit(container_dir, me, proc_start_time(me), code, oom, finished)
    # the result first: an attached client exits now; the teardown follows
    if result_w >= 0:
        _say(result_w, f"C{code}")
        if not (hold_result and in_process):
            os.close(result_w)
            result_w = -1
    if attach is not None:
        attach.finish(code)  # the clients: told, their descriptors closed
    _release(held)
    if ack_r >= 0:
        removed = _read_ack(ack_r)
        from dockyard.runtime import finish

        if removed:
            os.close(result_w)
            finish.tidy_removed(root, state_dir, cid)
            return
        # (finish.run opens the store itself, below)
    if finisher is not None:
        finisher.go()
        os._exit(0)
    if in_process:
        from dockyard.runtime import finish

        finish.run(root, state_dir, cid, removed_fd=result_w, store=store)
        return
    _python("dockyard.runtime.finish", root, state_dir, cid)


if __name__ == "__main__":
    import sys

    sys.exit(slim_main(sys.argv[1:]))
