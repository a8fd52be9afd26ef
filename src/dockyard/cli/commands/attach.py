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


def foreground(
    cli, svc, cid: str | None, attach, auto_remove: bool, proxy: bool = True, ropts=None
) -> int:
    """Start `cid` attached, wait for its exit code; with --rm, until it is removed too.

    With `ropts` (and no `cid`), create and start the container in one go
    (`create_and_start`, whose supervisor is forked ahead); a failed create raises."""
    # `_signal`, not `signal`: the same functions without the enum wrappers (~1.3 ms)
    import _signal

    from dockyard.errors import DockyardError
    from dockyard.runtime.launch import wait_result

    cli.stdout.flush()  # our own earlier output comes before the container's
    box = {"cid": None, "pending": []}  # until started, a signal waits for the container

    def forward(signum, frame):
        if box["cid"]:
            _kill(svc, box["cid"], signum)
        else:
            box["pending"].append(signum)

    old = {}
    if proxy:
        for s in (_signal.SIGINT, _signal.SIGTERM):
            old[s] = _signal.signal(s, forward)
    try:
        try:
            if ropts is None:
                started = svc.start(cid, attach)
            else:
                cid, started = svc.create_and_start(ropts, attach)
        except DockyardError as e:
            if ropts is not None:  # the service removed a failed --rm container itself
                return start_failed(cli, svc, "", False, e)
            return start_failed(cli, svc, cid, auto_remove, e)
        box["cid"] = cid
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
            _signal.signal(s, h)
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
        # the finisher removes the record within a few ms of the exit: a long back-off
        # would only add to every `run --rm`
        delay = min(delay * 2, 0.004)
