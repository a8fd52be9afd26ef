"""The health monitor: one small process per running container that has a health check.

`spawn` is called by the start path once the container runs (a start, a restart, a policy
restart): it resets the state file to "starting" and starts the monitor, detached (double
fork, a new session, then a fresh interpreter: it outlives the CLI and is nobody's zombie),
holding a pidfd of the container's init. The monitor probes on Docker's schedule, runs each
probe inside the container (`runtime.execute.run_in`, with the probe's timeout: a probe
that overruns it is killed and counts as exit code -1), writes the state file after every
probe, and leaves the moment the init exits — the pidfd wakes it, even mid-wait.

    python -S -m dockyard.runtime.healthmonitor ROOT STATE_DIR ID PIDFD STARTED_NS
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


def spawn(config, cid: str, container_dir: str, pid: int, started_ns: int) -> bool:
    """Start the monitor for the init `pid`; False when that init is already gone."""
    from dockyard.runtime import health

    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        # while the init lives nobody removes the container's directory: write now
        st = health.read(container_dir) or health.State()
        st.restart()
        health.write(container_dir, st)
        child = os.fork()
        if child == 0:
            try:
                os.setsid()
                if os.fork() == 0:
                    _exec(config, cid, pidfd, started_ns)
            finally:
                os._exit(0)
        os.waitpid(child, 0)
    finally:
        os.close(pidfd)
    return True


def _exec(config, cid: str, pidfd: int, started_ns: int) -> None:
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.set_inheritable(pidfd, True)
    os.closerange(3, pidfd)
    os.closerange(pidfd + 1, 65536)
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": src}
    os.execve(sys.executable, [sys.executable, "-S", "-m", "dockyard.runtime.healthmonitor",
                               config.root, config.state_dir, cid, str(pidfd),
                               str(started_ns)], env)  # fmt: skip


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
    root, state_dir, cid, pidfd_s, started_s = argv
    pidfd = int(pidfd_s)
    os.set_inheritable(pidfd, False)
    try:
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
