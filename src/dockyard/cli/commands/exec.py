"""`exec` / `container exec`: run a new command in a running container (`runtime.execute`).

Without -t the command gets our own stdin (-i, else /dev/null), stdout and stderr. With -t
it gets a pty of the container's own devpts, whose master we pump here: our terminal in raw
mode (with -i), its size forwarded on SIGWINCH, the detach keys leave the command running
(a small process of ours keeps its terminal open). The exit status is the command's own;
126 when it cannot be invoked, 127 when it is not found, with Docker's messages.

As Docker's client, this one forwards no signal: Ctrl-C (or any death of this process)
ends the client only, the command runs on (with -t its terminal is kept open). `-dt`
gives the detached command a terminal too, held open by a small process of ours.
"""

from dockyard.cli.command import Command
from dockyard.cli.flags import BOOL, LIST, Flag

COMMAND = Command(
    "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
    "Execute a command in a running container",
    flags=(
        Flag("detach", "d", BOOL, help="Detached mode: run command in the background"),
        Flag("detach-keys", help="Override the key sequence for detaching a container"),
        Flag("env", "e", LIST, help="Set environment variables"),
        Flag("env-file", kind=LIST, help="Read in a file of environment variables"),
        Flag("interactive", "i", BOOL, help="Keep STDIN open even if not attached"),
        Flag("privileged", kind=BOOL, help="Give extended privileges to the command"),
        Flag("tty", "t", BOOL, help="Allocate a pseudo-TTY"),
        Flag("user", "u", help='Username or UID (format: "<name|uid>[:<group|gid>]")'),
        Flag("workdir", "w", help="Working directory inside the container"),
    ),
    args=("min", 2),
    interspersed=False,
    aliases="dockyard container exec, dockyard exec",
)


def run(cli, opts, args: list[str]) -> int:
    import os

    from dockyard.cli.commands.runflags import env_file, env_values, read_lines
    from dockyard.runtime import execute
    from dockyard.runtime.attachio import parse_detach_keys

    keys = parse_detach_keys(opts.detach_keys)
    env = []
    for path in opts.env_file:
        env.extend(env_file(read_lines(path, "env"), os.environ))
    env.extend(env_values(opts.env, os.environ))
    tty = opts.tty
    stdin = 0 if opts.interactive and not opts.detach else -1
    if tty and not opts.detach:
        from dockyard.cli.commands.ttyclient import check_input

        check_input(tty, stdin)
    null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    try:
        if opts.detach:
            stdio = (null, null, null)
        else:
            cli.stdout.flush()
            stdio = (stdin if stdin >= 0 else null, 1, 2)
        winsize = None
        if tty and not opts.detach:
            from dockyard.linux.pty import get_size

            winsize = get_size(1)
        _rec, cfg = execute.prepare(
            cli.config, args[0], args[1:], tuple(env), opts.user or None, opts.workdir or None,
            privileged=opts.privileged, tty=tty, stdio=stdio, detach=opts.detach,
            winsize=winsize, outlive_caller=True,
        )  # fmt: skip
        try:
            proc = execute.start(cfg)
        except execute.ExecFailed as e:
            cli.err(f"{e}\n")
            return e.exit_code
    finally:
        os.close(null)
    if opts.detach:
        execute.wait(proc)  # the middle process leaves at once
        if tty:
            _keep_open(proc.master)
        return 0
    if tty:
        try:
            detached = _pump_tty(proc.master, stdin, keys)
        except KeyboardInterrupt:
            _keep_open(proc.master)  # the client goes, the command keeps its terminal
            raise
        if detached:
            return 0
    return execute.wait(proc)


def _pump_tty(master: int, stdin: int, keys: bytes) -> bool:
    """Copy between our terminal and the pty until the command's side closes; True when
    the detach keys were typed (the command runs on, its terminal kept open)."""
    import os
    import select

    from dockyard.cli.commands.ttyclient import Session
    from dockyard.linux.pty import get_size, set_size
    from dockyard.runtime.attachio import EscapeProxy

    class _Resize(Session):
        def send_size(self) -> None:
            size = get_size(1)
            if size:
                try:
                    set_size(master, *size)
                except OSError:
                    pass

    proxy = EscapeProxy(keys)
    poller = select.poll()
    poller.register(master, select.POLLIN)
    if stdin >= 0:
        poller.register(stdin, select.POLLIN)
    with _Resize(raw=stdin >= 0):  # sizes go to the master directly
        while True:
            for fd, _ev in poller.poll():
                if fd == master:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # EIO: the command's side is closed
                        data = b""
                    if not data:
                        os.close(master)
                        return False
                    _write_all(1, data)
                    continue
                data = os.read(stdin, 65536)
                if not data:
                    poller.unregister(stdin)
                    continue
                data, detached = proxy.feed(data)
                if data:
                    _write_all(master, data)
                if detached:
                    _keep_open(master)
                    return True


def _keep_open(master: int) -> None:
    """Detached: a small child of ours keeps reading the pty (so the command neither
    blocks on a full terminal nor gets a hangup) until the command's side closes."""
    import os

    if os.fork() == 0:
        try:
            os.setsid()
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            # nothing of the client stays open in it (the data root's database included)
            os.closerange(3, master)
            os.closerange(master + 1, 1 << 20)
            while True:
                try:
                    if not os.read(master, 65536):
                        break
                except OSError:
                    break
        finally:
            os._exit(0)
    os.close(master)


def _write_all(fd: int, data: bytes) -> None:
    import os

    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
