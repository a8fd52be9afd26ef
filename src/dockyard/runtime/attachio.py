"""Attaching to a running container: the supervisor's attach socket and its clients.

Every supervisor listens on `<state dir>/attach/<id>.sock` (0600 in a 0700 directory). A
client (`connect`) hands over its own stdin/stdout/stderr with SCM_RIGHTS and one header
line, `ATTACH <i|-><o|-><e|-> <detach keys, hex>\\n`; the supervisor (`Hub`, single-threaded,
in its poll loop) then writes the container's output straight to those descriptors, feeds
the client's stdin to the container (the pty master, or the stdin pipe), and answers on the
socket: `D\\n` when the client typed its detach keys (the container keeps running),
`C<code>\\n` when the container exited. The client sends `W <rows> <cols>\\n` when its window
changes. The client that started the container is the same kind of client, on inherited
descriptors, with the result pipe as its answer channel.

Detach keys are read only from a terminal's stream (tty containers): binary stdin through a
pipe passes untouched.
"""

import os

DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p ctrl-q
MAX_PENDING = 1 << 20  # stdin bytes held while the container does not read


def parse_detach_keys(text: str | None) -> bytes:
    """Docker's term.ToBytes: "ctrl-p,ctrl-q", "a", "ctrl-@" ... (empty: the default)."""
    from dockyard.errors import InvalidArgument

    if not text:
        return DEFAULT_DETACH_KEYS
    out = bytearray()
    for key in text.split(","):
        k = key.strip()
        if len(k) > 1 and not k.lower().startswith("ctrl-"):
            raise InvalidArgument(f"Invalid detach keys ({text}) provided")
        if len(k) == 1:
            out.append(ord(k))
            continue
        rest = k[5:].lower()
        if len(rest) != 1:
            raise InvalidArgument(f"Invalid detach keys ({text}) provided")
        c = rest
        if "a" <= c <= "z":
            out.append(ord(c) - ord("a") + 1)
        elif c in "@[\\]^_":
            out.append("@[\\]^_".index(c) + (0 if c == "@" else 26))
        else:
            raise InvalidArgument(f"Invalid detach keys ({text}) provided")
    return bytes(out)


def socket_dir(state_dir: str) -> str:
    return os.path.join(state_dir, "attach")


def _short(dir_fd: int, name: str) -> str:
    # sun_path holds 108 bytes: a deep state dir plus a 64-hex id would not fit
    return f"/proc/self/fd/{dir_fd}/{name}"


def listen(state_dir: str, cid: str):
    """The supervisor's listening socket (an `_socket.socket`, close-on-exec)."""
    import _socket

    d = socket_dir(state_dir)
    os.makedirs(d, 0o700, exist_ok=True)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        name = f"{cid}.sock"
        try:
            os.unlink(name, dir_fd=dfd)  # a dead supervisor's
        except FileNotFoundError:
            pass
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        old = os.umask(0o177)
        try:
            s.bind(_short(dfd, name))
        finally:
            os.umask(old)
        s.listen(8)
        s.setblocking(False)
        return s
    finally:
        os.close(dfd)


def try_listen(state_dir: str, cid: str):
    """`listen`, or None when it cannot (attaching later is then refused, nothing else)."""
    try:
        return listen(state_dir, cid)
    except OSError:
        return None


def adopt(fd: int) -> int:
    """The listening socket again, after the supervisor's exec: its bare descriptor, which
    the hub wraps on the first connection (`_socket` costs an idle supervisor ~0.4 MB)."""
    os.set_blocking(fd, False)
    return fd


class Streams:
    """The container's stdio when the supervisor sits in between: a pty (tty: the init
    opens it in its own devpts and sends the master back on a socket pair), or a stdin
    pipe whose write end stays here (-i with nobody's stdin handed over at the start)."""

    def __init__(self, tty: bool, attach, devnull: int):
        self.tty = tty
        self.devnull = devnull
        self.stdin_w = -1
        self.out_r = -1
        self.err_r = -1  # a tty has one output stream
        self._pair = None
        self._pipes: tuple[int, ...] = ()
        if tty:
            import _socket

            self._pair = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
            for sock in self._pair:
                os.set_inheritable(sock.fileno(), False)
            self.winsize = None
            if attach is not None and attach[1] >= 0:
                from dockyard.linux.pty import get_size

                self.winsize = get_size(attach[1])
        else:
            stdin_r, self.stdin_w = os.pipe2(os.O_CLOEXEC)
            out_r, out_w = os.pipe2(os.O_CLOEXEC)
            err_r, err_w = os.pipe2(os.O_CLOEXEC)
            self.out_r, self.err_r = out_r, err_r
            self._pipes = (stdin_r, out_w, err_w)

    def init_fields(self) -> dict:
        if self.tty:
            d = self.devnull
            return {"stdio": (d, d, d), "tty": True, "console_fd": self._pair[1].fileno(),
                    "winsize": self.winsize}  # fmt: skip
        return {"stdio": self._pipes}

    def spawned(self) -> int:
        """After the init is ready: close its ends; the output descriptor to read."""
        if not self.tty:
            for fd in self._pipes:
                os.close(fd)
            os.set_blocking(self.stdin_w, False)
            return self.out_r
        from dockyard.linux.pty import receive_master

        mine, theirs = self._pair
        theirs.close()
        try:
            master = receive_master(mine)
        finally:
            mine.close()
        os.set_blocking(master, False)
        self.stdin_w = self.out_r = master
        return master


def unlink(state_dir: str, cid: str) -> None:
    try:
        os.unlink(os.path.join(socket_dir(state_dir), f"{cid}.sock"))
    except OSError:
        pass


class EscapeProxy:
    """Docker's escape proxy: passes bytes through, holding a partial match of the keys."""

    def __init__(self, keys: bytes):
        self.keys = keys
        self.matched = 0

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to pass on, detached)."""
        keys = self.keys
        if not keys or (not self.matched and keys[0] not in data):
            return data, False
        out = bytearray()
        for b in data:
            if b == keys[self.matched]:
                self.matched += 1
                if self.matched == len(keys):
                    self.matched = 0
                    return bytes(out), True
                continue
            if self.matched:
                out += keys[: self.matched]
                self.matched = 0
                if b == keys[0]:
                    self.matched = 1
                    continue
            out.append(b)
        return bytes(out), False


class Client:
    __slots__ = ("ctl", "ctl_fd", "err", "escape", "inp", "out", "owns_ctl")

    def __init__(self, inp: int, out: int, err: int, ctl, keys: bytes, tty: bool):
        self.inp, self.out, self.err = inp, out, err
        self.ctl = ctl  # an _socket.socket, or an int (the result pipe)
        self.owns_ctl = not isinstance(ctl, int)
        self.ctl_fd = ctl if isinstance(ctl, int) else ctl.fileno()
        self.escape = EscapeProxy(keys) if tty else None

    def say(self, text: str) -> None:
        try:
            os.write(self.ctl_fd, text.encode())
        except OSError:
            pass

    def close(self) -> None:
        for fd in {self.inp, self.out, self.err} - {-1}:
            try:
                os.close(fd)
            except OSError:
                pass
        self.inp = self.out = self.err = -1
        if self.owns_ctl:
            self.ctl.close()


class Hub:
    """The supervisor's side: clients, the container's stdin, registered in its poller."""

    def __init__(self, tty: bool, stdin_w: int, listener=None, keys: bytes = b"",
                 state_dir: str = "", cid: str = ""):  # fmt: skip
        import select

        self._sel = select
        self.poller = None
        self.tty = tty
        self.stdin_w = stdin_w  # the pty master (tty), the stdin pipe, or -1
        self.pending = b""
        self.listener = listener
        self.keys = keys or DEFAULT_DETACH_KEYS
        self.where = (state_dir, cid)
        self.clients: list[Client] = []
        self.by_fd: dict[int, tuple[str, Client | None]] = {}

    def start(self, poller) -> None:
        """Register in the supervisor's poller (the pty master is registered by it)."""
        self.poller = poller
        if self.listener is not None:
            fd = self.listener if isinstance(self.listener, int) else self.listener.fileno()
            self.by_fd[fd] = ("listen", None)
            poller.register(fd, self._sel.POLLIN)
        clients, self.clients = self.clients, []
        for c in clients:
            self.add(c)

    def owns(self, fd: int) -> bool:
        return fd == self.stdin_w

    def add(self, client: Client) -> None:
        sel = self._sel
        self.clients.append(client)
        if self.poller is None:
            return
        if client.inp >= 0:
            if self.stdin_w >= 0:
                self.by_fd[client.inp] = ("in", client)
                self.poller.register(client.inp, sel.POLLIN)
            else:
                os.close(client.inp)
                client.inp = -1
        if client.owns_ctl:
            self.by_fd[client.ctl_fd] = ("ctl", client)
            self.poller.register(client.ctl_fd, sel.POLLIN)

    def output(self, data: bytes, stderr: bool) -> None:
        for c in self.clients:
            fd = c.err if stderr and not self.tty else c.out
            if fd < 0:
                continue
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            except OSError:
                if stderr:
                    c.err = -1
                else:
                    c.out = -1

    def handle(self, fd: int, ev: int) -> bool:
        """Act on a poll event; False when `fd` is not the hub's."""
        if fd == self.stdin_w and self.pending:
            self._flush()
            return True
        entry = self.by_fd.get(fd)
        if entry is None:
            return False
        kind, client = entry
        if kind == "listen":
            self._accept()
        elif kind == "in":
            self._stdin(client)
        else:
            self._control(client)
        return True

    def _drop(self, client: Client) -> None:
        for fd in (client.inp, client.ctl_fd if client.owns_ctl else -1):
            if fd >= 0 and fd in self.by_fd:
                del self.by_fd[fd]
                self.poller.unregister(fd)
        client.close()
        if client in self.clients:
            self.clients.remove(client)

    def _stdin(self, client: Client) -> None:
        try:
            data = os.read(client.inp, 65536)
        except OSError:
            data = b""
        if not data:
            del self.by_fd[client.inp]
            self.poller.unregister(client.inp)
            os.close(client.inp)
            client.inp = -1
            if not self.tty and not self.pending:
                self._close_stdin()  # EOF reaches the container (Docker's StdinOnce)
            return
        if client.escape is not None:
            data, detached = client.escape.feed(data)
            if detached:
                self._write_stdin(data)
                client.say("D\n")
                self._drop(client)
                return
        self._write_stdin(data)

    def _write_stdin(self, data: bytes) -> None:
        if not data or self.stdin_w < 0:
            return
        if self.pending:
            if len(self.pending) < MAX_PENDING:
                self.pending += data
            return
        try:
            n = os.write(self.stdin_w, data)
        except BlockingIOError:
            n = 0
        except OSError:
            self._close_stdin()
            return
        if n < len(data):
            self.pending = data[n:]
            self._want_out(True)

    def _want_out(self, on: bool) -> None:
        sel = self._sel
        try:
            if self.tty:  # the master is registered for its output already
                self.poller.modify(self.stdin_w, sel.POLLIN | (sel.POLLOUT if on else 0))
            elif on:
                self.poller.register(self.stdin_w, sel.POLLOUT)
            else:
                self.poller.unregister(self.stdin_w)
        except (OSError, KeyError):
            pass

    def _flush(self) -> None:
        try:
            n = os.write(self.stdin_w, self.pending)
        except BlockingIOError:
            return
        except OSError:
            self.pending = b""
            self._close_stdin()
            return
        self.pending = self.pending[n:]
        if not self.pending:
            self._want_out(False)
            if not self.tty and not any(c.inp >= 0 for c in self.clients):
                self._close_stdin()

    def _close_stdin(self) -> None:
        if self.stdin_w >= 0 and not self.tty:
            os.close(self.stdin_w)
            self.stdin_w = -1

    def _control(self, client: Client) -> None:
        try:
            data = client.ctl.recv(4096)
        except OSError:
            data = b""
        if not data:
            self._drop(client)  # the client went away
            return
        for line in data.split(b"\n"):
            parts = line.split()
            if len(parts) == 3 and parts[0] == b"W" and self.tty and self.stdin_w >= 0:
                from dockyard.linux.pty import set_size

                try:
                    set_size(self.stdin_w, int(parts[1]), int(parts[2]))
                except (OSError, ValueError):
                    pass

    def _accept(self) -> None:
        import _socket

        if isinstance(self.listener, int):
            self.listener = _socket.socket(fileno=self.listener)
        try:
            conn, _ = self.listener._accept()
        except OSError:
            return
        sock = _socket.socket(fileno=conn) if isinstance(conn, int) else conn
        try:
            sock.settimeout(2.0)
            msg, anc, _flags, _addr = sock.recvmsg(4096, _socket.CMSG_SPACE(3 * 4))
            fds = []
            for level, kind, data in anc:
                if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                    n = len(data) // 4
                    fds.extend(int.from_bytes(data[i * 4 : i * 4 + 4], "little", signed=True)
                               for i in range(n))  # fmt: skip
            for fd in fds:
                os.set_inheritable(fd, False)
            head = msg.split(b"\n", 1)[0].split()
            if len(head) < 2 or head[0] != b"ATTACH" or len(head[1]) != 3:
                raise ValueError("bad attach header")
            want = [chr(c) != "-" for c in head[1]]
            keys = bytes.fromhex(head[2].decode()) if len(head) > 2 else self.keys
            it = iter(fds)
            got = [next(it) if w else -1 for w in want]
            sock.setblocking(False)
        except (OSError, ValueError, StopIteration):
            sock.close()
            return
        self.add(Client(got[0], got[1], got[2], sock, keys or self.keys, self.tty))
        sock.send(b"OK\n")

    def finish(self, code: int) -> None:
        """The container exited: tell every socket client, close everything."""
        for c in list(self.clients):
            if c.owns_ctl:
                c.say(f"C{code}\n")
            self._drop(c)
        if self.listener is not None:
            if isinstance(self.listener, int):
                os.close(self.listener)
            else:
                self.listener.close()
            self.listener = None
            unlink(*self.where)
        if self.stdin_w >= 0:
            os.close(self.stdin_w)
            self.stdin_w = -1


# -- the client's side --------------------------------------------------------------------


def connect(state_dir: str, cid: str, stdin: int, stdout: int, stderr: int, keys: bytes):
    """Attach our descriptors to container `cid`; returns the control socket (`OK` read).
    Raises OSError when nobody listens (the container is not running)."""
    import _socket
    import array

    d = socket_dir(state_dir)
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        try:
            s.connect(_short(dfd, f"{cid}.sock"))
        except OSError:
            s.close()
            raise
    finally:
        os.close(dfd)
    flags = "".join(
        c if fd >= 0 else "-" for c, fd in zip("ioe", (stdin, stdout, stderr), strict=True)
    )
    fds = [fd for fd in (stdin, stdout, stderr) if fd >= 0]
    head = f"ATTACH {flags} {keys.hex()}\n".encode()
    s.sendmsg([head], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array.array("i", fds).tobytes())])
    reply = s.recv(3)
    if reply != b"OK\n":
        s.close()
        raise ConnectionRefusedError(111, "the container's supervisor refused the attach")
    return s


def read_answer(sock) -> str:
    """Block until the supervisor says "D" (detached) or "C<code>"; "" if it went away."""
    buf = b""
    while b"\n" not in buf:
        try:
            b = sock.recv(64)
        except InterruptedError:
            continue
        if not b:
            return ""
        buf += b
    return buf.split(b"\n", 1)[0].decode()


def send_size(sock, rows: int, cols: int) -> None:
    try:
        sock.send(f"W {rows} {cols}\n".encode())
    except OSError:
        pass
