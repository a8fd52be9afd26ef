"""Start a created container: cgroup, init config, the supervisor (double-forked), the barrier.

`start` runs in the engine's process. It prepares the cgroup and the `InitConfig`, forks
the supervisor (which forks once more and the middle process exits at once, so nobody has
to reap the supervisor), waits for the init to be ready, records the container as running,
releases the barrier and waits for the exec result. Only the fork model keeps the start
path free of a second interpreter start-up.

`prefork` forks the supervisor earlier, before `run` resolves the image: it imports and
loads libc beside the caller, and `start` then hands it the plan (`handoff`) instead of
forking.
"""

import os

from dockyard.errors import FailedPrecondition, NotFound, PermissionDenied
from dockyard.linux.record import Record


class Layout(Record):
    """A container's directories and files under `containers/<id>/`."""

    dir: str
    rootfs: str  # the mount point (mounted only inside the container's namespace)
    upper: str
    work: str
    log: str
    hostname: str
    hosts: str
    resolv: str
    __slots__ = _fields = ("dir", "rootfs", "upper", "work", "log", "hostname", "hosts", "resolv")


def layout(containers_dir: str, cid: str) -> Layout:
    d = os.path.join(containers_dir, cid)
    return Layout(
        dir=d,
        rootfs=os.path.join(d, "rootfs"),
        upper=os.path.join(d, "diff"),
        work=os.path.join(d, "work"),
        log=os.path.join(d, f"{cid}-json.log"),
        hostname=os.path.join(d, "hostname"),
        hosts=os.path.join(d, "hosts"),
        resolv=os.path.join(d, "resolv.conf"),
    )


class Started(Record):
    pid: int
    result_r: int  # -1 unless attached: read "C<code>" from it
    # `client_removes`: write "D" here once the record is gone (`say_removed`), or close it
    ack_w: int
    __slots__ = _fields = ("pid", "result_r", "ack_w")
    _defaults = {"ack_w": -1}


def cgroup_name(cid: str) -> str:
    return f"dockyard/{cid}"


def resources(spec):
    from dockyard.linux.cgroups.base import DEFAULT_DEVICE_RULES, Resources

    return Resources(
        memory=spec.memory or None,
        memory_swap=spec.memory_swap if spec.memory else None,
        cpu_quota=spec.cpu_quota or None,
        cpu_period=spec.cpu_period or None,
        cpu_shares=spec.cpu_shares or None,
        cpuset_cpus=spec.cpuset or None,
        cpuset_mems=spec.cpuset_mems or None,
        memory_reservation=spec.memory_reservation or None,
        pids_limit=spec.pids_limit or None,
        devices=None if spec.privileged else DEFAULT_DEVICE_RULES,
    )


def init_config(spec, lay: Layout, lowerdirs, bpf: bytes | None, cgroup_join, cgroup_fd):
    from dockyard.linux import init as I
    from dockyard.linux import mounts as M
    from dockyard.linux import syscalls as S

    mounts = [
        M.Mount(destination=d, type=t, source=s, options=tuple(o)) for d, t, s, o in spec.mounts
    ]
    own = {m.destination.rstrip("/") for m in mounts}
    for dest, src in (("/etc/hostname", lay.hostname), ("/etc/hosts", lay.hosts),
                      ("/etc/resolv.conf", lay.resolv)):  # fmt: skip
        if dest not in own and os.path.exists(src):
            mounts.append(M.Mount(destination=dest, type="bind", source=src, options=("bind",)))
    rootfs = M.RootfsSpec(
        rootfs=lay.rootfs,
        lowerdirs=tuple(lowerdirs),
        upperdir=lay.upper,
        workdir=lay.work,
        volatile=spec.auto_remove,
        readonly=spec.readonly,
        mounts=tuple(mounts),
        masked_paths=M.default_masked_paths() if spec.masked else (),
        readonly_paths=M.READONLY_PATHS if spec.masked else (),
        shm_size=spec.shm_size,
        sysctls=tuple(spec.sysctls),
    )
    ns = I.DEFAULT_NAMESPACES
    if spec.network == "host":
        ns &= ~S.CLONE_NEWNET
    return I.InitConfig(
        argv=spec.argv,
        env=spec.env,
        cwd=spec.cwd,
        hostname=spec.hostname if spec.network != "host" else "",
        domainname=spec.domainname,
        namespaces=ns,
        rootfs=rootfs,
        caps=frozenset(spec.caps),
        uid=spec.uid,
        gid=spec.gid,
        groups=tuple(spec.groups),
        no_new_privs=spec.no_new_privs,
        seccomp_bpf=bpf,
        cgroup_join=tuple(cgroup_join),
        cgroup_fd=cgroup_fd,
        loopback=bool(ns & S.CLONE_NEWNET),
    )


def prepare_cgroup(driver, cid: str, spec) -> tuple[tuple[str, ...], int | None]:
    """Create the container's cgroup with its limits; (join paths for v1, dir fd for v2)."""
    name = cgroup_name(cid)
    if driver.exists(name):
        driver.remove(name)  # left over from a crashed run
    driver.create(name)
    try:
        driver.set(name, resources(spec))
    except BaseException:
        driver.remove(name)
        raise
    if driver.version == 2:
        return (), driver.open_dir(name)
    return tuple(driver.join_paths(name)), None


class Prefork(Record):
    """A supervisor forked ahead of its plan (`prefork`): it warms up (imports, libc) while
    the caller resolves the image and creates the container, then waits for the plan on
    `plan_w`. The other fields are the launcher's ends of the usual pipes, and the
    supervisor's ends (same numbers in its fd table)."""

    plan_w: int
    sqlite_ok: bool  # no sqlite connection was open here at the fork
    status_r: int
    barrier_w: int
    result_r: int
    status_w: int
    barrier_r: int
    result_w: int
    middle: int  # the first fork, exiting at once: reaped when the plan goes (or not)
    __slots__ = _fields = (
        "plan_w", "sqlite_ok", "status_r", "barrier_w", "result_r", "status_w", "barrier_r",
        "result_w", "middle",
    )  # fmt: skip


def prefork(attach=None, db_path: str = "") -> Prefork:
    """Fork the supervisor now (double fork, as `start`), before the caller's heavy work:
    its start-up then runs beside the caller's, and the fork copies a small process.

    When nothing in this process has `db_path` open yet, the supervisor may use sqlite
    itself (and finish the container without a fresh interpreter)."""
    sqlite_ok = bool(db_path) and not _has_open(db_path)
    plan_r, plan_w = os.pipe2(os.O_CLOEXEC)
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    barrier_r, barrier_w = os.pipe2(os.O_CLOEXEC)
    result_r, result_w = os.pipe2(os.O_CLOEXEC) if attach is not None else (-1, -1)
    from dockyard.forkapart import fork_apart

    pid = fork_apart()  # its warm-up starts now, on the other core, not when we block
    if pid == 0:
        try:
            for fd in (plan_w, status_r, barrier_w, result_r):
                if fd >= 0:
                    os.close(fd)
            if os.fork() == 0:
                from dockyard.runtime import supervisor as SUP

                keep = {plan_r, status_w, barrier_r, result_w, *(attach or ())}
                SUP.supervise_planned(plan_r, keep)
        finally:
            os._exit(0)
    # not reaped here: it exits while the caller goes on (`_reap`)
    os.close(plan_r)
    return Prefork(
        plan_w, sqlite_ok, status_r, barrier_w, result_r, status_w, barrier_r, result_w, pid
    )


def _reap(pre: Prefork) -> None:
    try:
        os.waitpid(pre.middle, 0)
    except ChildProcessError:
        pass


def _has_open(db_path: str) -> bool:
    """Does any descriptor of this process name the database or its WAL/shm files?"""
    from dockyard.sqlitemod import open_descriptors

    return bool(open_descriptors(db_path))


def cancel(pre: Prefork) -> None:
    """The plan will not come: the supervisor reads end-of-file and exits."""
    for fd in (pre.plan_w, pre.status_r, pre.barrier_w, pre.result_r, pre.status_w,
               pre.barrier_r, pre.result_w):  # fmt: skip
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
    _reap(pre)


def start(
    store, rec, spec, lay: Layout, cfg, driver, config, attach=None,
    from_states: tuple[str, ...] = ("created", "exited"), pre: Prefork | None = None,
    detach_keys: bytes = b"", lowerdirs=(), bpf: bytes | None = None, before_wait=None,
    client_removes: bool = False,
) -> Started:  # fmt: skip
    """Fork the supervisor for `rec` (or hand the plan to `pre`, which this consumes) and
    return once the container has exec'd.

    `cfg` None (with `pre`): the supervisor builds the init config from `spec`,
    `lowerdirs` and `bpf`, and makes the cgroup (`driver` None: it detects its own).

    The record moves to running only from `from_states` (a policy restart passes
    ("restarting",), so a user's stop during the back-off wins).

    `before_wait()`: runs once the plan is handed over, while the init is being set up
    (`run` inserts the record then). If it raises, the supervisor is told to give up and
    waited for, so the caller may clean up after it.

    `client_removes` (run --rm, attached, with a supervisor forked ahead that may use
    sqlite): the caller removes the record once it reads the exit code, and tells the
    supervisor on `Started.ack_w` (`say_removed`), instead of waiting for the supervisor's
    finisher to do it."""
    client_removes = (
        client_removes and pre is not None and pre.sqlite_ok and attach is not None
        and spec.auto_remove
    )  # fmt: skip
    from dockyard.runtime.exitfile import exit_path
    from dockyard.runtime.plan import Plan

    def plan_for(init, status_w: int, barrier_r: int, result_w: int):
        return Plan(
            cid=rec.id,
            root=config.root,
            state_dir=config.state_dir,
            db_path=config.metadata_path,
            container_dir=lay.dir,
            log_path=lay.log,
            init=init,
            cgroup=cgroup_name(rec.id),
            driver=driver,
            rlimits=spec.rlimits,
            status_w=status_w,
            barrier_r=barrier_r,
            result_w=result_w,
            attach=attach,
            auto_remove=spec.auto_remove,
            sqlite_ok=pre is not None and pre.sqlite_ok,
            tty=spec.tty,
            open_stdin=spec.open_stdin,
            detach_keys=detach_keys,
            spec=spec if init is None else None,
            lowerdirs=tuple(lowerdirs) if init is None else (),
            bpf=bpf if init is None else None,
            client_removes=client_removes,
            health=bool(spec.healthcheck) and _probes(spec.healthcheck),
        )

    if pre is not None:
        status_r, status_w, barrier_r, barrier_w = (
            pre.status_r, pre.status_w, pre.barrier_r, pre.barrier_w,
        )  # fmt: skip
        result_r, result_w = (pre.result_r, pre.result_w) if attach is not None else (-1, -1)
        try:
            from dockyard.runtime import handoff

            _unlink_exit(exit_path(lay.dir))
            # our cgroup descriptor does not exist in the supervisor: it opens its own
            init = cfg.replace(cgroup_fd=None) if cfg and cfg.cgroup_fd is not None else cfg
            data = handoff.dumps(plan_for(init, status_w, barrier_r, result_w))
        except BaseException:
            cancel(pre)
            raise
        if attach is None and pre.result_r >= 0:
            os.close(pre.result_r)
            os.close(pre.result_w)
        try:
            _write_all(pre.plan_w, data)
        finally:
            os.close(pre.plan_w)
            _reap(pre)
    else:
        _unlink_exit(exit_path(lay.dir))
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        barrier_r, barrier_w = os.pipe2(os.O_CLOEXEC)
        result_r, result_w = os.pipe2(os.O_CLOEXEC) if attach is not None else (-1, -1)
        plan = plan_for(cfg, status_w, barrier_r, result_w)
        pid = os.fork()
        if pid == 0:
            try:
                for fd in (status_r, barrier_w, result_r):
                    if fd >= 0:
                        os.close(fd)
                if os.fork() == 0:
                    from dockyard.runtime import supervisor as SUP

                    SUP.supervise(plan)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    for fd in (status_w, barrier_r, result_w):
        if fd >= 0:
            os.close(fd)
    if cfg is not None and cfg.cgroup_fd is not None:
        os.close(cfg.cgroup_fd)
    import time

    try:
        if before_wait is not None:
            try:
                before_wait()
            except BaseException:
                os.close(barrier_w)  # the init leaves at the barrier, then its supervisor
                barrier_w = -1
                _drain(status_r)
                raise
        first = _line(status_r)
        if not first.startswith("P"):
            raise _start_error(first)
        init_pid_s, sup_pid_s, sup_start = first[1:].split(" ", 2)
        init_pid, sup_pid = int(init_pid_s), int(sup_pid_s)
        moved = store.update(
            rec.id, from_states, state="running", pid=init_pid,
            sup_pid=sup_pid, sup_start=sup_start, started=time.time_ns(),
            finished=0, exit_code=0, error="", oom_killed=False,
        )  # fmt: skip
        if not moved:  # someone else moved it meanwhile; closing the barrier ends the init
            from dockyard.errors import Conflict

            raise Conflict(f"container {rec.id} changed state while starting")
        os.write(barrier_w, b"1")
        second = _line(status_r)
        if second != "X":
            raise _start_error(second)
    except BaseException as e:
        if result_r >= 0:
            os.close(result_r)
        if barrier_w >= 0:
            os.close(barrier_w)
        if getattr(e, "exit_code", None) is not None:
            # Docker keeps a container that failed to start as created, with the error
            store.update(
                rec.id, ("created", "running", "restarting"), state="created", pid=0, sup_pid=0,
                sup_start="", exit_code=e.exit_code, error=str(e), finished=0,
            )  # fmt: skip
        raise
    finally:
        os.close(status_r)
    if not client_removes:  # else it carries the client's word that the record is gone
        os.close(barrier_w)
        barrier_w = -1
    return Started(init_pid, result_r, barrier_w)


def _probes(hc: dict) -> bool:
    from dockyard.runtime.healthconfig import active

    return active(hc)


def say_removed(ack_w: int, removed: bool) -> None:
    """Tell a `client_removes` supervisor whether the record is gone (it tidies the rest)
    or not (it removes the record itself); closes `ack_w`."""
    try:
        if removed:
            os.write(ack_w, b"D")
    except OSError:
        pass  # the supervisor is gone
    finally:
        os.close(ack_w)


def _drain(status_r: int, timeout: float = 30.0) -> None:
    """Read the status pipe to its end, then wait for the supervisor it named ("P<init>
    <supervisor> ...") to exit: it has given up the start, and its init (whose mounts hold
    the container's directory) is gone."""
    import select
    import time

    deadline = time.monotonic() + timeout
    said = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([status_r], [], [], left)[0]:
            return
        try:
            chunk = os.read(status_r, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            break
        said += chunk
    first = said.split(b"\n", 1)[0].split()
    if not (first and first[0].startswith(b"P") and len(first) > 1 and first[1].isdigit()):
        return
    try:
        pidfd = os.pidfd_open(int(first[1]))
    except OSError:
        return  # gone already
    try:
        select.select([pidfd], [], [], max(deadline - time.monotonic(), 0))
    finally:
        os.close(pidfd)


def _unlink_exit(path: str) -> None:
    try:
        os.unlink(path)  # from the previous run
    except FileNotFoundError:
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _line(fd: int) -> str:
    buf = b""
    while not buf.endswith(b"\n"):
        b = os.read(fd, 1)
        if not b:
            break
        buf += b
    return buf.decode(errors="replace").rstrip("\n")


def _start_error(line: str) -> Exception:
    if not line:
        return FailedPrecondition("container supervisor exited during start")
    if line.startswith("E"):
        code_s, _, msg = line[1:].partition(":")
        code = int(code_s) if code_s.isdigit() else 125
    else:
        code, msg = 125, line
    cls = {127: NotFound, 126: PermissionDenied}.get(code, FailedPrecondition)
    err = cls(msg)
    err.exit_code = code  # the CLI exits with it (Docker's 125/126/127)
    return err


def wait_result(result_r: int) -> int | None:
    """Block until the supervisor reports the exit code (None if it died first, or the
    client detached: `read_result` tells these apart)."""
    line = read_result(result_r)
    if line.startswith("C") and line[1:].lstrip("-").isdigit():
        return int(line[1:])
    return None


def read_result(result_r: int, until_eof: bool = False) -> str:
    """The supervisor's answer on the result pipe, which this closes: "C<code>" when the
    container exited, "D" when the client typed its detach keys, "" if it died first.

    `until_eof` (--rm): after "C", wait for the end of the pipe too: the supervisor holds
    it until the container's record is gone."""
    line = _line(result_r)
    try:
        if until_eof and line.startswith("C"):
            while os.read(result_r, 64):
                pass
    finally:
        os.close(result_r)
    return line
