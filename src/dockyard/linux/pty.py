"""Pseudo-terminals: open a pair, window sizes, raw mode for the attached client.

The supervisor opens the pair (`open_pair`) and keeps the master; the container init gets
the slave as its stdin, stdout and stderr and makes it its controlling terminal
(`make_controlling`, after setsid). Only `fcntl` and `os` are used on the supervisor's side;
`termios` is imported by the client's raw mode alone.
"""

import os

TIOCGWINSZ = 0x5413
TIOCSWINSZ = 0x5414
TIOCSCTTY = 0x540E
TIOCSPTLCK = 0x40045431
TIOCGPTN = 0x80045430


def open_pair() -> tuple[int, int]:
    """(master, slave), both close-on-exec (the init dups the slave onto 0-2)."""
    master, slave = os.openpty()
    os.set_inheritable(master, False)
    os.set_inheritable(slave, False)
    return master, slave


def get_size(fd: int) -> tuple[int, int] | None:
    """(rows, cols) of the terminal on `fd`, None when it is not one."""
    import fcntl
    import struct

    try:
        data = fcntl.ioctl(fd, TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return None
    rows, cols, _, _ = struct.unpack("HHHH", data)
    return rows, cols


def set_size(fd: int, rows: int, cols: int) -> None:
    """TIOCSWINSZ: the kernel sends SIGWINCH to the terminal's foreground process group."""
    import fcntl
    import struct

    if not (0 < rows < 65536 and 0 < cols < 65536):
        return
    fcntl.ioctl(fd, TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def make_controlling(fd: int = 0) -> None:
    """In a fresh session (after setsid): `fd`'s terminal becomes the controlling one."""
    import fcntl

    fcntl.ioctl(fd, TIOCSCTTY, 0)


def console(console_fd: int | None, uid: int | None, winsize) -> None:
    """In the container (after pivot_root or setns): open a pty of its own devpts (the
    first is /dev/pts/0 there), put the slave on 0-2 as the controlling terminal of a new
    session, and send the master on the unix socket `console_fd` (SCM_RIGHTS).

    `_socket` and `fcntl` must already be imported: the host's library is out of reach."""
    import _socket
    import fcntl

    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(master, TIOCSPTLCK, b"\0\0\0\0")  # unlockpt
        n = int.from_bytes(fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0"), "little")
        slave = os.open(f"/dev/pts/{n}", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        if uid is not None:
            os.fchown(slave, uid, -1)
        if winsize:
            rows, cols = winsize
            packed = rows.to_bytes(2, "little") + cols.to_bytes(2, "little") + bytes(4)
            fcntl.ioctl(slave, TIOCSWINSZ, packed)
        for i in (0, 1, 2):
            os.dup2(slave, i)
        os.close(slave)
        os.setsid()
        fcntl.ioctl(0, TIOCSCTTY, 0)
        if console_fd is not None:
            sock = _socket.socket(fileno=console_fd)
            try:
                rights = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, master.to_bytes(4, "little"))]
                sock.sendmsg([b"M"], rights)
            finally:
                sock.close()
    finally:
        os.close(master)


def receive_master(sock) -> int:
    """The master `console` sent on `sock` (an `_socket.socket`), close-on-exec."""
    import _socket

    _msg, anc, _f, _a = sock.recvmsg(1, _socket.CMSG_SPACE(4))
    for level, kind, data in anc:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS and len(data) >= 4:
            master = int.from_bytes(data[:4], "little", signed=True)
            os.set_inheritable(master, False)
            return master
    raise OSError(5, "no pty was sent back")


class RawMode:
    """The client's own terminal in raw mode for the life of the `with`, restored on every
    exit path (exceptions, SIGTERM/SIGHUP turned into SystemExit by the caller)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.saved = None

    def __enter__(self) -> "RawMode":
        import termios

        try:
            self.saved = termios.tcgetattr(self.fd)
        except termios.error:
            return self  # not a terminal
        mode = termios.tcgetattr(self.fd)
        # cfmakeraw: no echo, no line editing, no signals from keys, 8-bit clean
        mode[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
                     | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)  # fmt: skip
        mode[1] &= ~termios.OPOST
        mode[2] &= ~(termios.CSIZE | termios.PARENB)
        mode[2] |= termios.CS8
        mode[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(self.fd, termios.TCSAFLUSH, mode)
        return self

    def __exit__(self, *exc) -> None:
        self.restore()

    def restore(self) -> None:
        if self.saved is not None:
            import termios

            try:
                termios.tcsetattr(self.fd, termios.TCSAFLUSH, self.saved)
            except termios.error:
                pass
            self.saved = None
