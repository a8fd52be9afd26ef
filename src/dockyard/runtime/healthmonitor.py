"""The health monitor: one small process per running container that has a health check.

`spawn` is called by the start path once the container runs (a start, a restart, a policy
restart): it resets the state file to "starting" and starts the monitor, detached (double
fork, a new session, then a fresh interpreter: it outlives the CLI and is nobody's zombie),
holding a pidfd of the container's init. The monitor probes on Docker's schedule, runs each
probe inside the container (`runtime.execute.run_in`, with the probe's timeout: a probe
that overruns it is killed and counts as exit code -1), writes the state file after every
probe, and leaves the moment the init exits — the pidfd wakes it, even mid-wait.

One monitor at a time: a running monitor holds an flock on `containers/<id>/health.lock`
(the kernel drops it when the monitor dies, kill -9 included), and the file says for which
init the start path started one. A monitor killed while its container runs is started
again by the container's supervisor, which looks every few seconds (`repair`), or sooner
by the next command that looks at the container (`ensure`, from the service's
reconciliation, as a dead supervisor is noticed): either takes the lock without waiting — held
means a monitor is alive — and hands the held lock down to the new monitor, which carries
on from the state file (status, streak and log kept). A monitor started while the last
run's one still holds the lock (it leaves as soon as it notices its init's exit) waits for
it.

    python -S -m dockyard.runtime.healthmonitor ROOT STATE_DIR ID PIDFD STARTED_NS LOCK_FD
"""

import os
import sys


def start_for(config, cid: str, container_dir: str, spec, pid: int) -> None:
    """The start path's hook: a monitor when the container's check runs a probe. A
    monitor that cannot start leaves the container running, and says why in health.err."""
    from dockyard.runtime.healthconfig import active

    if not active(spec.healthcheck):
        return
    import time

    try:
        spawn(config, cid, container_dir, pid, time.time_ns())
    except OSError as e:
        _note(config.root, cid, e)


LOCK = "health.lock"


def spawn(config, cid: str, container_dir: str, pid: int, started_ns: int) -> bool:
    """Start the monitor for the init `pid` (a start); False when that init is already gone."""
    from dockyard.runtime import health

    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return False
    lock = -1
    try:
        lock = os.open(
            os.path.join(container_dir, LOCK), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
        )
        _try_lock(lock)  # not free: the last run's monitor, leaving; ours waits for it
        _mark(lock, pid)  # (after the lock: `ensure` never takes this start for a dead one)
        # while the init lives nobody removes the container's directory: write now
        st = health.read(container_dir) or health.State()
        st.restart()
        health.write(container_dir, st)
        _detach(config, cid, pidfd, lock, started_ns)
    finally:
        os.close(pidfd)
        if lock >= 0:
            os.close(lock)
    return True


def ensure(config, rec, container_dir: str) -> bool:
    """For a running container whose supervisor is alive: when the monitor its start began
    is gone (killed), start another, which goes on from the state file; True when it did.
    Cheap when there is nothing to do: one open and one non-blocking flock."""
    if rec.state != "running" or not rec.pid:
        return False
    return repair(config, rec.id, container_dir, rec.pid, rec.started)


def repair(config, cid: str, container_dir: str, pid: int, started_ns: int) -> bool:
    """`ensure` for the init `pid` started at `started_ns`, without the record: also what the
    supervisor runs every few seconds while the container runs."""
    try:
        lock = os.open(os.path.join(container_dir, LOCK), os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False  # no check, or never started one
    pidfd = -1
    try:
        if not _try_lock(lock) or _marked(lock) != pid:
            return False  # alive; or this run's start has not started one yet
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return False  # the init is gone: the supervisor records the exit
        if _wait_exit(pidfd, 0):
            return False
        _detach(config, cid, pidfd, lock, started_ns)
        return True
    finally:
        if pidfd >= 0:
            os.close(pidfd)
        os.close(lock)  # the monitor holds the lock now (or nobody does)


def _try_lock(fd: int) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _mark(fd: int, pid: int) -> None:
    os.pwrite(fd, f"{pid:<15}\n".encode(), 0)


def _marked(fd: int) -> int:
    try:
        return int(os.pread(fd, 16, 0) or b"0")
    except ValueError:
        return 0


def _detach(config, cid: str, pidfd: int, lock: int, started_ns: int) -> None:
    """The monitor, detached: double fork, a new session, a fresh interpreter."""
    child = os.fork()
    if child == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                _exec(config, cid, pidfd, lock, started_ns)
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def _exec(config, cid: str, pidfd: int, lock: int, started_ns: int) -> None:
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    keep = sorted((pidfd, lock))
    for fd in keep:
        os.set_inheritable(fd, True)
    os.closerange(3, keep[0])
    os.closerange(keep[0] + 1, keep[1])
    os.closerange(keep[1] + 1, 65536)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": src}
    os.execve(sys.executable, [sys.executable, "-S", "-m", "dockyard.runtime.healthmonitor",
                               config.root, config.state_dir, cid, str(pidfd),
                               str(started_ns), str(lock)], env)  # fmt: skip


def run(config, cid: str, container_dir: str, pidfd: int, started_ns: int, probe,
        clock=None, wait=None) -> None:  # fmt: skip
    """The probe loop until the init behind `pidfd` exits. `probe(timeout_ns)` returns a
    `health.Result`; `clock`/`wait` are the time source and the pidfd wait (for tests)."""
    import time

    from dockyard.runtime import health
    from dockyard.runtime.healthconfig import Timing

    clock = clock or time.time_ns
    wait = wait or _wait_exit
    hc, _ = probe.config
    timing = Timing(hc)
    st = health.read(container_dir) or health.State()
    while True:
        delay = st.next_delay(clock(), started_ns, timing)
        if wait(pidfd, delay):
            return
        result = probe(timing.timeout)
        if wait(pidfd, 0) or (result.exit_code != 0 and _stopping(container_dir, pidfd, wait)):
            return  # stopped meanwhile: Docker stops the monitor first, the result is dropped
        st.record(result, started_ns, timing.start_period, timing.retries)
        health.write(container_dir, st)


STOP_GRACE = 2_000_000_000


def _stopping(container_dir: str, pidfd: int, wait) -> bool:
    """A user's stop, kill or rm is under way (its mark is down) and the init exits within
    a grace period: the probe failed because the container is going away."""
    from dockyard.runtime.restart import stopped_path

    return os.path.exists(stopped_path(container_dir)) and wait(pidfd, STOP_GRACE)


def _wait_exit(pidfd: int, delay_ns: int) -> bool:
    """Sleep up to `delay_ns` or until the init exits; True when it has."""
    import select

    p = select.poll()
    p.register(pidfd, select.POLLIN)
    return bool(p.poll(max(delay_ns // 1_000_000, 0)))


class Probe:
    """Runs the container's check inside it through `runtime.execute.run_in_full`."""

    def __init__(self, config, cid: str, spec):
        from dockyard.runtime.healthconfig import probe_argv

        self.cfg = config
        self.cid = cid
        self.argv = probe_argv(spec.healthcheck, getattr(spec, "shell", None))
        self.config = (spec.healthcheck, self.argv)

    def __call__(self, timeout_ns: int):
        import time

        from dockyard.runtime import health
        from dockyard.runtime.execute import run_in_full
        from dockyard.runtime.healthconfig import go_duration

        start = time.time_ns()
        try:
            # the container's env, user and working directory, as Docker's probes
            r = run_in_full(self.cfg, self.cid, list(self.argv), timeout=timeout_ns / 1e9)
        except Exception as e:  # could not run (paused, gone): Docker records -1, the error
            return health.Result(start, time.time_ns(), -1, str(e))
        code = r.exit_code
        text = health.cap_output(r.output or b"", r.truncated)
        if code == -1:  # killed at the timeout
            msg = f"Health check exceeded timeout ({go_duration(timeout_ns)})"
            text = f"{msg}: {text}" if text else msg
        return health.Result(start, time.time_ns(), code, text)


def main(argv: list[str]) -> int:
    root, state_dir, cid, pidfd_s, started_s, lock_s = argv
    pidfd, lock = int(pidfd_s), int(lock_s)
    os.set_inheritable(pidfd, False)
    os.set_inheritable(lock, False)
    try:
        # held already, or the last run's monitor is leaving: wait, unless our init goes first
        while not _try_lock(lock):
            if _wait_exit(pidfd, 100_000_000):
                return 0
        from dockyard.config import Config
        from dockyard.errors import NotFound
        from dockyard.runtime.containerspec import from_json
        from dockyard.runtime.launch import layout
        from dockyard.runtime.store import ContainerStore

        config = Config(root=root, state_dir=state_dir)
        store = ContainerStore(config.metadata_path)
        try:
            spec = from_json(store.get(cid).spec)
        except NotFound:
            return 0  # removed already (a short `run --rm`)
        finally:
            store.close()
        lay = layout(config.containers_dir, cid)
        run(config, cid, lay.dir, pidfd, int(started_s), Probe(config, cid, spec))
    except BaseException as e:
        _note(root, cid, e)
        return 1
    return 0


def _note(root: str, cid: str, e: BaseException) -> None:
    try:
        import traceback

        with open(os.path.join(root, "containers", cid, "health.err"), "a") as f:
            traceback.print_exception(e, file=f)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
