"""The attached client's terminal and its attach to a running container (not a command).

`Session`: raw mode on our stdin while attached to a tty container (restored on every exit
path: SIGTERM and SIGHUP become an orderly exit), and the window size forwarded at the start
and on SIGWINCH over the container's attach socket. `attach_running`: hand our stdio to a
running container's supervisor and wait for its answer (exit code or detach).
"""

import os


def check_input(tty: bool, stdin: int) -> None:
    """Docker refuses -it when our stdin is not a terminal."""
    if tty and stdin >= 0 and not os.isatty(stdin):
        from dockyard.cli.command import CliError

        raise CliError("the input device is not a TTY", 1)


class Session:
    def __init__(self, raw: bool):
        self.raw = None
        self.want_raw = raw
        self.sock = None
        self.old: dict = {}

    def __enter__(self) -> "Session":
        import _signal

        def leave(signum, frame):
            raise SystemExit(128 + signum)

        def resized(signum, frame):
            self.send_size()

        for sig, handler in ((_signal.SIGTERM, leave), (_signal.SIGHUP, leave),
                             (_signal.SIGWINCH, resized)):  # fmt: skip
            self.old[sig] = _signal.signal(sig, handler)
        if self.want_raw and os.isatty(0):
            from dockyard.linux.pty import RawMode

            self.raw = RawMode(0).__enter__()
        return self

    def follow_size(self, state_dir: str, cid: str) -> None:
        """Connect for window sizes (only when our output is a terminal) and send ours."""
        if not os.isatty(1):
            return
        import time

        from dockyard.runtime.attachio import connect

        deadline = time.monotonic() + 2
        while self.sock is None:
            try:
                self.sock = connect(state_dir, cid, -1, -1, -1, b"")
            except OSError:
                # the supervisor binds its socket right after reporting the start
                if time.monotonic() > deadline:
                    return
                time.sleep(0.005)
        self.send_size()

    def send_size(self) -> None:
        if self.sock is None:
            return
        from dockyard.linux.pty import get_size
        from dockyard.runtime.attachio import send_size

        size = get_size(1)
        if size:
            send_size(self.sock, *size)

    def __exit__(self, *exc) -> None:
        import _signal

        for sig, handler in self.old.items():
            _signal.signal(sig, handler)
        self.old = {}
        if self.raw is not None:
            self.raw.restore()
            self.raw = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def attach_running(cli, svc, cid: str, stdin: int, tty: bool, keys: bytes, proxy: bool,
                   detach_note: str = "") -> int:  # fmt: skip
    """Attach our stdio to running `cid`; its exit code, or 0 when we detached (after
    printing `detach_note`, with our terminal restored)."""
    import _signal
    import time

    from dockyard.errors import Conflict, DockyardError
    from dockyard.runtime.attachio import connect, read_answer

    deadline = time.monotonic() + 5
    while True:
        try:
            sock = connect(cli.config.state_dir, cid, stdin, 1, 2, keys)
            break
        except OSError:
            # a supervisor that was just started may still be binding its socket
            if time.monotonic() > deadline or svc.inspect(cid)["State"]["Status"] != "running":
                raise Conflict("You cannot attach to a stopped container, start it first")
            time.sleep(0.02)
    old = {}

    def forward(signum, frame):
        try:
            svc.kill(cid, signum)
        except DockyardError:
            pass

    if proxy:
        for s in (_signal.SIGINT, _signal.SIGTERM):
            old[s] = _signal.signal(s, forward)
    session = Session(raw=stdin >= 0) if tty else None
    try:
        if session is not None:
            session.__enter__()
            session.sock = sock  # sizes go over the same connection
            session.send_size()
        answer = read_answer(sock)
    finally:
        if session is not None:
            session.sock = None
            session.__exit__(None, None, None)
        for s, h in old.items():
            _signal.signal(s, h)
        sock.close()
    if answer == "D":
        if detach_note:
            cli.err(detach_note)
        return 0
    exited = answer.startswith("C") and answer[1:].lstrip("-").isdigit()
    code = int(answer[1:]) if exited else None
    try:
        waited = svc.wait(cid)  # the record is written right after the answer
    except DockyardError:
        waited = 137
    return waited if code is None else code
