"""The supervisor's watch over a running container: its output copied to the log and the
attached clients until both streams end, the init reaped, and meanwhile the periodic work
(`health_watch`: a killed health monitor started again)."""

import os


def health_watch(root: str, state_dir: str, cid: str, container_dir: str, pid: int,
                 started_ns: int):  # fmt: skip
    """The pump's periodic work while the container runs: its health monitor started again
    when it died (`healthmonitor.repair`); None without a health check (`started_ns` 0)."""
    if not started_ns:
        return None

    def tick() -> None:
        from dockyard.config import Config
        from dockyard.runtime import healthmonitor

        try:
            healthmonitor.repair(Config(root=root, state_dir=state_dir), cid, container_dir,
                                 pid, started_ns)  # fmt: skip
        except Exception:
            pass  # the next command that looks at the container tries too (`ensure`)

    return tick


def pump_and_reap(log_path: str, out_r: int, err_r: int, pid: int, attach, tick=None) -> int:
    from dockyard.runtime.jsonlog import open_log

    log = open_log(log_path)  # None: --log-driver none; rotates with --log-opt max-size
    pump(out_r, err_r, log, attach, tick)
    if log is not None:
        log.close()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


HEALTH_WATCH_EVERY = 2.0  # seconds between `tick`s: a killed health monitor's longest gap


def pump(out_r: int, err_r: int, log_fd, attach, tick=None) -> None:
    """Copy the container's output to the log and the clients until both streams end;
    `tick()`, if given, runs every HEALTH_WATCH_EVERY seconds meanwhile."""
    import select

    from dockyard.runtime.jsonlog import Writer

    writers = {out_r: Writer(log_fd, "stdout"), err_r: Writer(log_fd, "stderr")}
    writers.pop(-1, None)  # a tty: one stream, logged as stdout
    hub = attach  # the clients (runtime.attachio.Hub), or None
    poller = select.poll()
    for fd in writers:
        poller.register(fd, select.POLLIN)
    if hub is not None:
        hub.start(poller)
    open_fds = set(writers)
    timeout = None
    if tick is not None:
        from time import monotonic

        due = monotonic() + HEALTH_WATCH_EVERY
    while open_fds:
        if tick is not None:
            now = monotonic()
            if now >= due:
                tick()
                due = now + HEALTH_WATCH_EVERY
            timeout = (due - now) * 1000 + 1
        for fd, ev in poller.poll(timeout):
            if fd not in open_fds:
                if hub is not None:
                    hub.handle(fd, ev)
                continue
            if ev & select.POLLOUT and hub is not None:
                hub.handle(fd, ev)  # the pty master takes the clients' input
                if not ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    continue
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            except OSError:  # EIO: the pty's last slave was closed
                data = b""
            if not data:
                poller.unregister(fd)
                open_fds.discard(fd)
                writers[fd].close()
                if hub is None or not hub.owns(fd):
                    os.close(fd)
                continue
            writers[fd].feed(data)
            if hub is not None:
                hub.output(data, fd == err_r)  # a client that went away is dropped
