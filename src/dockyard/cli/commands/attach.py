"""Running a container in the foreground (`run` without -d, `start -a`): its output goes
straight to our stdout/stderr (the supervisor writes to them), SIGINT/SIGTERM are forwarded
to it while we wait, and the exit status is the container's own.

A start that cannot invoke the command carries `exit_code` (126, 127): one line, that status.
"""


def streams(interactive: bool, attach: list[str]) -> tuple[int, int, int]:
    """(stdin or -1, stdout or -1, stderr or -1) for `-i` and `-a STREAM...`."""
    want = {a.lower() for a in attach} or {"stdout", "stderr"}
    stdin = 0 if interactive or "stdin" in want else -1
    return (
        stdin,
        1 if "stdout" in want else -1,
        2 if "stderr" in want else -1,
    )


def start_failed(cli, svc, cid: str, auto_remove: bool, e) -> int:
    """Report a failed start; the status Docker gives it (126/127, else the error goes up)."""
    if auto_remove:
        _remove_quietly(svc, cid)
    code = getattr(e, "exit_code", None)
    if code is None:
        raise e
    cli.err(f"Error: {e}\n")
    return code


def foreground(cli, svc, cid: str, attach, auto_remove: bool, proxy: bool = True) -> int:
    """Start `cid` attached, wait for its exit code; with --rm, until it is removed too."""
    import signal

    from dockyard.errors import DockyardError
    from dockyard.runtime.launch import wait_result

    cli.stdout.flush()  # our own earlier output comes before the container's
    box = {"started": False, "pending": []}

    def forward(signum, frame):
        if box["started"]:
            _kill(svc, cid, signum)
        else:
            box["pending"].append(signum)

    old = {}
    if proxy:
        for s in (signal.SIGINT, signal.SIGTERM):
            old[s] = signal.signal(s, forward)
    try:
        try:
            started = svc.start(cid, attach)
        except DockyardError as e:
            return start_failed(cli, svc, cid, auto_remove, e)
        box["started"] = True
        for s in box["pending"]:
            _kill(svc, cid, s)
        if started is None or started.result_r < 0:  # already running: nothing to attach to
            code = svc.wait(cid)
        else:
            code = wait_result(started.result_r)
            if code is None:  # the supervisor died: the record tells what is known
                code = 137 if auto_remove else svc.wait(cid)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if auto_remove:
        wait_removed(svc, cid)
    else:
        _settle(svc, cid)
    return code


def _settle(svc, cid: str) -> None:
    """The exit is reported before it is recorded: wait for the record, so that a `ps` or
    `inspect` right after shows the container exited, as with Docker."""
    from dockyard.errors import DockyardError

    try:
        svc.wait(cid)
    except DockyardError:
        pass


def _kill(svc, cid: str, signum: int) -> None:
    from dockyard.errors import DockyardError

    try:
        svc.kill(cid, signum)
    except DockyardError:
        pass  # it exited meanwhile


def _remove_quietly(svc, cid: str) -> None:
    from dockyard.errors import DockyardError

    try:
        svc.remove(cid, force=True)
    except DockyardError:
        pass


def wait_removed(svc, cid: str, timeout: float = 30.0) -> None:
    """--rm: Docker returns once the container is gone, so `ps -a` right after shows nothing."""
    import time

    from dockyard.errors import NotFound

    deadline = time.monotonic() + timeout
    delay = 0.001
    while time.monotonic() < deadline:
        try:
            svc.store.get(cid)
        except NotFound:
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
