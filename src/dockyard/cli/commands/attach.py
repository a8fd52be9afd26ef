"""`attach` / `container attach`, and running a container in the foreground (`run` without
-d, `start -a`): its output goes straight to our stdout/stderr (the supervisor writes to
them), SIGINT/SIGTERM are forwarded to it while we wait (not with a tty: the keys reach it
through the terminal), and the exit status is the container's own.

With a tty our terminal is in raw mode while attached and its size follows ours
(`ttyclient`); the detach keys (ctrl-p ctrl-q unless --detach-keys) leave the container
running and exit 0. A start that cannot invoke the command carries `exit_code` (126, 127):
one line, that status.
"""

from dockyard.cli.command import Command
from dockyard.cli.flags import BOOL, Flag

COMMAND = Command(
    "attach [OPTIONS] CONTAINER",
    "Attach local standard input, output, and error streams to a running container",
    flags=(
        Flag("detach-keys", help="Override the key sequence for detaching a container"),
        Flag("no-stdin", kind=BOOL, help="Do not attach STDIN"),
        Flag(
            "sig-proxy", kind=BOOL, default=True, help="Proxy all received signals to the process"
        ),
    ),
    args=("exact", 1),
    aliases="dockyard container attach, dockyard attach",
)


def run(cli, opts, args: list[str]) -> int:
    from dockyard.cli.commands import ttyclient
    from dockyard.errors import Conflict
    from dockyard.runtime.attachio import parse_detach_keys

    keys = parse_detach_keys(opts.detach_keys)
    svc = cli.containers
    info = svc.inspect(args[0])
    cid, state = info["Id"], info["State"]
    if state.get("Paused"):
        raise Conflict("You cannot attach to a paused container, unpause it first")
    if not state.get("Running") or state.get("Restarting"):
        raise Conflict("You cannot attach to a stopped container, start it first")
    tty = bool(info["Config"].get("Tty"))
    stdin = 0 if info["Config"].get("OpenStdin") and not opts.no_stdin else -1
    ttyclient.check_input(tty, stdin)
    cli.stdout.flush()
    return ttyclient.attach_running(
        cli, svc, cid, stdin, tty, keys, opts.sig_proxy and not tty, "read escape sequence\n"
    )


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
    cli, svc, cid: str | None, attach, auto_remove: bool, proxy: bool = True, ropts=None,
    tty: bool = False, detach_keys: bytes = b"", pre=None,
) -> int:  # fmt: skip
    """Start `cid` attached, wait for its exit code; with --rm, until it is removed too.

    With `ropts` (and no `cid`), create and start the container in one go
    (`create_and_start`, whose supervisor is forked ahead: `pre`, if the caller forked it
    already); a failed create raises."""
    # `_signal`, not `signal`: the same functions without the enum wrappers (~1.3 ms)
    import _signal

    from dockyard.errors import DockyardError
    from dockyard.runtime.launch import read_result

    cli.stdout.flush()  # our own earlier output comes before the container's
    session = None
    if tty:
        from dockyard.cli.commands import ttyclient

        ttyclient.check_input(tty, attach[0])
        session = ttyclient.Session(raw=attach[0] >= 0).__enter__()
        proxy = False  # the terminal carries ^C to the container
    box = {"cid": None, "pending": []}  # until started, a signal waits for the container
    started = None
    removed = False

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
                started = svc.start(cid, attach, detach_keys)
            else:
                cid, started = svc.create_and_start(ropts, attach, detach_keys, pre=pre,
                                                    client_removes=auto_remove)  # fmt: skip
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
            if session is not None:
                session.follow_size(cli.config.state_dir, cid)
            ours = started.ack_w >= 0  # we remove the record (`remove_run`), not its finisher
            line = read_result(started.result_r, until_eof=auto_remove and not ours)
            if line == "D":  # detached: the container runs on
                return 0
            if line.startswith("C") and line[1:].lstrip("-").isdigit():
                code = int(line[1:])
                removed = ours and svc.remove_run(cid, started)
            else:  # the supervisor died: the record tells what is known
                code = 137 if auto_remove else svc.wait(cid)
    finally:
        for s, h in old.items():
            _signal.signal(s, h)
        if session is not None:
            session.__exit__(None, None, None)
        if started is not None and started.ack_w >= 0 and not removed:
            from dockyard.runtime.launch import say_removed

            say_removed(started.ack_w, False)  # its supervisor removes it, now or at the exit
    if auto_remove and not removed:
        wait_removed(svc, cid)
    elif not removed:  # (a record we removed has nothing to settle)
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
