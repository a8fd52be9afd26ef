"""The container init: clone into new namespaces and turn the child into the container.

`spawn` clones a child (pid 1 of a new pid namespace) that joins its cgroups by writing
"0" to the given files, sets the hostname, assembles and pivots into its rootfs, switches
user and capabilities, sets no_new_privs, tells the parent it is ready, optionally waits
at a barrier, loads the cached seccomp BPF, closes every other fd and execs. Failures in
the child come back to the parent through a close-on-exec pipe as one line.
"""

import os
import sys

from dockyard.linux import syscalls as S
from dockyard.linux.mounts import RootfsSpec
from dockyard.linux.record import Record

# Docker's private set: the network namespace starts empty (loopback down) until the
# runtime moves an interface in.
DEFAULT_NAMESPACES = (
    S.CLONE_NEWNS | S.CLONE_NEWPID | S.CLONE_NEWUTS | S.CLONE_NEWIPC | S.CLONE_NEWNET
)


class InitConfig(Record):
    """Everything the cloned child needs to become the container."""

    argv: tuple[str, ...]
    env: tuple[str, ...]  # "KEY=value"
    cwd: str
    hostname: str
    domainname: str
    namespaces: int  # CLONE_NEW* flags
    rootfs: RootfsSpec | None
    caps: frozenset[int] | None  # None: leave the capability sets alone
    uid: int | None
    gid: int | None
    groups: tuple[int, ...] | None
    no_new_privs: bool
    seccomp_bpf: bytes | None
    cgroup_join: tuple[str, ...]  # files the child writes "0" to (CgroupDriver.join_paths)
    stdio: tuple[int, int, int] | None  # fds dup'ed onto 0, 1, 2 in the child
    barrier_fd: int | None  # the child reads one byte from it before exec
    cgroup_fd: int | None  # a cgroup v2 directory to start in (clone3 CLONE_INTO_CGROUP)
    loopback: bool  # set lo up in the new network namespace (Docker's --network none)
    tty: bool  # a pty of the container's own devpts on 0-2, its controlling terminal
    console_fd: int | None  # tty: a unix socket the pty master is sent back on
    winsize: tuple[int, int] | None  # tty: (rows, cols) to start with
    rlimits: tuple[tuple[int, int, int], ...]  # (resource, soft, hard) set in the child
    __slots__ = _fields = (
        "argv",
        "env",
        "cwd",
        "hostname",
        "domainname",
        "namespaces",
        "rootfs",
        "caps",
        "uid",
        "gid",
        "groups",
        "no_new_privs",
        "seccomp_bpf",
        "cgroup_join",
        "stdio",
        "barrier_fd",
        "cgroup_fd",
        "loopback",
        "tty",
        "console_fd",
        "winsize",
        "rlimits",
    )
    _defaults = {
        "env": ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
        "cwd": "/",
        "hostname": "",
        "domainname": "",
        "namespaces": DEFAULT_NAMESPACES,
        "rootfs": None,
        "caps": None,
        "uid": None,
        "gid": None,
        "groups": None,
        "no_new_privs": True,
        "seccomp_bpf": None,
        "cgroup_join": (),
        "stdio": None,
        "barrier_fd": None,
        "cgroup_fd": None,
        "loopback": False,
        "tty": False,
        "console_fd": None,
        "winsize": None,
        "rlimits": (),
    }


class Init:
    """A spawned container init, ready and (if a barrier was given) waiting."""

    def __init__(self, pid: int, status_fd: int):
        self.pid = pid
        self._fd = status_fd

    def wait_exec(self) -> None:
        """Block until the child has exec'd; raise its setup error if it failed."""
        if self._fd < 0:
            return
        data = _read_all(self._fd)
        os.close(self._fd)
        self._fd = -1
        if data:
            _raise_child_error(self.pid, data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def spawn(cfg: InitConfig, sc: "S.Syscalls | None" = None, meanwhile=None) -> Init:
    """Clone the init and return once it is set up (ready byte received). `meanwhile()`,
    if given, runs then, as the init goes on to exec (if it raises, the init is killed and
    reaped first)."""
    sc = sc or S.Syscalls()
    outer_ns = os.readlink("/proc/self/ns/mnt") if cfg.rootfs is not None else None
    r, w = os.pipe2(os.O_CLOEXEC)
    try:
        pid = sc.clone(cfg.namespaces, cfg.cgroup_fd)
    except BaseException:
        os.close(r)
        os.close(w)
        raise
    if pid == 0:
        os.close(r)
        try:
            _child(cfg, sc, w, outer_ns)
        except BaseException as e:
            _report(w, e)
        finally:
            os._exit(127)  # never return into the caller's code in the child
    os.close(w)
    init = _ready(pid, r)
    if meanwhile is not None:
        try:
            meanwhile()
        except BaseException:
            os.kill(pid, 9)
            init.close()
            os.waitpid(pid, 0)
            raise
    return init


def _ready(pid: int, r: int) -> Init:
    """Wait for the cloned child's "R" on `r` (its setup error raised instead)."""
    first = os.read(r, 1)
    if first == b"R":
        return Init(pid, r)
    data = first + _read_all(r)
    os.close(r)
    if not data:
        # the child always says "R" or "E" before exec: it died during setup
        from dockyard.errors import FailedPrecondition

        _, st = os.waitpid(pid, 0)
        raise FailedPrecondition(f"container init died during setup (status {st:#x})")
    _raise_child_error(pid, data)
    raise AssertionError("unreachable")


def _child(cfg: InitConfig, sc: S.Syscalls, status_fd: int, outer_ns: str | None,
           early: bool = False, late_join=None) -> None:  # fmt: skip
    """The child's setup; `early`: cloned ahead (`clone_early`), the first steps are done.
    `late_join`: the cgroup files to join come later, from this call (it blocks until they
    exist), taken before pivot_root hides them."""
    # Everything this function and its callees import must be imported here, before
    # pivot_root: afterwards the host's Python library is out of reach.
    import fcntl

    from dockyard import errors  # noqa: F401 - raised lazily by the calls below
    from dockyard.linux import caps, mounts

    if cfg.tty:
        import _socket  # noqa: F401 - the pty master is sent back after pivot_root

        from dockyard.linux import pty  # noqa: F401
    if not early:
        _first_steps(sc)
    _join(cfg.cgroup_join)
    if cfg.rlimits:
        import resource

        for res, soft, hard in cfg.rlimits:
            resource.setrlimit(res, (soft, hard))
    if cfg.loopback and cfg.namespaces & S.CLONE_NEWNET and not early:
        # here, still privileged and already inside the namespace: no helper process
        from dockyard.linux.loopback import bring_up

        bring_up()
    if cfg.hostname:
        sc.sethostname(cfg.hostname)
    if cfg.domainname:
        sc.setdomainname(cfg.domainname)
    if cfg.rootfs is not None:
        mounts.setup_rootfs(cfg.rootfs, sc, outer_ns)
    if late_join is not None:
        _join(late_join())
    if cfg.rootfs is not None:
        mounts.pivot(cfg.rootfs.rootfs, sc)
    os.chdir(cfg.cwd)
    if cfg.stdio is not None:
        # move the sources out of 0-2 first, so (1, 0, 2) and the like come out right
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in cfg.stdio]
        for i, fd in enumerate(high):
            os.dup2(fd, i)
            os.close(fd)
    if cfg.tty:
        _console(cfg)
    if cfg.no_new_privs:
        sc.set_no_new_privs()
    if cfg.caps is not None:
        caps.apply(cfg.caps, sc, uid=cfg.uid, gid=cfg.gid, groups=cfg.groups)
    else:
        caps.set_ids(cfg.uid, cfg.gid, cfg.groups)
    env = dict(e.partition("=")[::2] for e in cfg.env)
    # The filter goes on before the wait at the barrier, as runc's does before its exec
    # fifo: loading it is off the start's path then. What runs after it is a write, a
    # read, close_range and execve, which any profile that lets a container start allows.
    if cfg.seccomp_bpf is not None:
        sc.seccomp_set_filter(cfg.seccomp_bpf)
    os.write(status_fd, b"R")
    if cfg.barrier_fd is not None and os.read(cfg.barrier_fd, 1) != b"1":
        os._exit(0)  # the parent gave up on this container
    # no host descriptor reaches the container; status_fd is close-on-exec
    if status_fd > 3:
        sc.close_range(3, status_fd - 1)
    sc.close_range(status_fd + 1)
    _execvpe(cfg.argv[0], list(cfg.argv), env)


def _join(paths) -> None:
    # "0": this very thread, single-threaded. (Writing another task's pid into `tasks`
    # takes a lock whose RCU grace period costs ~10 ms; moving oneself does not.)
    for path in paths:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)


def _first_steps(sc: S.Syscalls) -> None:
    import _signal as signal  # the C module: `signal` imports enum

    sc.set_pdeathsig(signal.SIGKILL)
    # until the exec, pid 1 is our host interpreter: an early `exec` must not open its
    # /proc/1/exe or mem (execve makes the container's binary dumpable again)
    sc.set_dumpable(False)


class EarlyInit:
    """An init cloned before its config exists (`clone_early`): already in its new
    namespaces (the costly part of a start), loopback up, waiting for the config."""

    def __init__(self, pid: int, namespaces: int, status_r: int, sock, encode):
        self.pid = pid
        self.namespaces = namespaces
        self._r = status_r
        self._sock = sock  # an _socket.socket: the config and its descriptors go here
        self._encode = encode

    def fds(self) -> tuple[int, int]:
        """The descriptors this side holds (to keep open)."""
        return self._r, self._sock.fileno()

    def fits(self, cfg: InitConfig) -> bool:
        """Can it become `cfg`'s init? (Same namespaces; a cgroup v2 directory to start
        in needs the clone itself.)"""
        return cfg.namespaces == self.namespaces and cfg.cgroup_fd is None

    def start(self, cfg: InitConfig) -> Init:
        """Hand it `cfg` (its stdio and console descriptors travel with it) and return once
        it is set up, as `spawn` does."""
        self.send(cfg)
        return self.ready()

    def send(self, cfg: InitConfig, late_cgroup: bool = False) -> None:
        """Hand it `cfg`: it sets itself up from here (`ready` waits for it). With
        `late_cgroup`, the cgroup files it joins follow (`send_cgroup`): it waits for them
        before pivot_root, and meanwhile assembles its root filesystem."""
        import _socket

        fds = list(dict.fromkeys(fd for fd in (*(cfg.stdio or ()), cfg.console_fd)
                                 if fd is not None and fd >= 0))  # fmt: skip
        data = self._encode((fds, cfg, late_cgroup))
        rights = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in fds)
        anc = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)] if fds else []
        self._send(data, anc)
        if not late_cgroup:
            self._sock.close()

    def join_ahead(self, join_paths) -> None:
        """Before its config: the cgroup files to join now, while it waits (a cgroup made
        ahead, which keeps its tasks when renamed to the container's). It then skips the
        config's `cgroup_join`; if a join fails here, it joins those instead."""
        self._send(self._encode((_JOIN_AHEAD, tuple(join_paths))), [])

    def send_cgroup(self, join_paths) -> None:
        """The cgroup files for an init sent its config with `late_cgroup`."""
        self._send(self._encode(tuple(join_paths)), [])
        self._sock.close()

    def _send(self, data: bytes, anc) -> None:
        try:
            self._sock.sendmsg([len(data).to_bytes(8, "little")], anc)
            self._sock.sendall(data)
        except OSError:
            pass  # it died: its error (or its death) is read by `ready`

    def ready(self) -> Init:
        """Once `send` was called: wait until it is set up, as `spawn` does."""
        r, self._r = self._r, -1
        return _ready(self.pid, r)

    def kill(self) -> None:
        """Given up after `send`: end it."""
        import _signal as signal

        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.discard()

    def discard(self) -> None:
        """Not needed after all: it reads end-of-file and exits."""
        self._sock.close()
        if self._r >= 0:
            os.close(self._r)
            self._r = -1
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def clone_early(namespaces: int, encode, decode, sc: "S.Syscalls | None" = None) -> EarlyInit:
    """Clone an init into `namespaces` now, before its config exists: it takes the first
    steps (death signal, not dumpable, lo up in a new network namespace) and waits for
    `EarlyInit.start`. Its cgroups are joined once the config names them. `encode` and
    `decode` carry the config (with its records) over the socket, bytes and back."""
    import _socket

    sc = sc or S.Syscalls()
    outer_ns = os.readlink("/proc/self/ns/mnt")
    r, w = os.pipe2(os.O_CLOEXEC)
    ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        pid = sc.clone(namespaces)
    except BaseException:
        for fd in (r, w):
            os.close(fd)
        ours.close()
        theirs.close()
        raise
    if pid == 0:
        try:
            os.close(r)
            ours.close()
            _early_child(namespaces, sc, w, theirs, outer_ns, decode)
        except BaseException as e:
            _report(w, e)
        finally:
            os._exit(127)
    os.close(w)
    theirs.close()
    return EarlyInit(pid, namespaces, r, ours, encode)


def _early_child(namespaces: int, sc: S.Syscalls, status_fd: int, sock, outer_ns: str,
                 decode) -> None:  # fmt: skip
    import _signal as signal

    _first_steps(sc)
    if namespaces & S.CLONE_NEWNET:
        from dockyard.linux.loopback import bring_up

        bring_up()
    joined = False
    while True:
        got = _receive(sock)
        if got is None:
            os._exit(0)  # not needed after all
        data, new_fds = got
        msg = decode(data)
        if msg[0] != _JOIN_AHEAD:
            break
        joined = _try_join(msg[1])
    fds, cfg, late = msg
    if joined:
        cfg = cfg.replace(cgroup_join=())
    late_join = None
    if late:

        def late_join():
            more = _receive(sock)
            if more is None:
                raise OSError(5, "the init's cgroup did not come")
            sock.close()
            return decode(more[0])

    else:
        sock.close()
    if len(new_fds) != len(fds):
        raise OSError(5, "the init's descriptors did not arrive")
    moved = dict(zip(fds, new_fds, strict=True))
    if cfg.stdio is not None:
        cfg = cfg.replace(stdio=tuple(moved.get(fd, fd) for fd in cfg.stdio))
    if cfg.console_fd is not None:
        cfg = cfg.replace(console_fd=moved.get(cfg.console_fd, cfg.console_fd))
    # cloned while Python ignored SIGPIPE: the container starts with the default
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _child(cfg, sc, status_fd, outer_ns, early=True, late_join=late_join)


_JOIN_AHEAD = "join"  # `EarlyInit.join_ahead`'s message (a config's starts with a list)


def _try_join(paths) -> bool:
    try:
        _join(paths)
    except OSError:
        return False  # the config's cgroup_join then
    return True


def _receive(sock) -> "tuple[bytes, list[int]] | None":
    """The config (length, then bytes) and the descriptors that came with it; None at
    end-of-file."""
    import _socket

    head, anc, _flags, _addr = sock.recvmsg(8, _socket.CMSG_SPACE(4 * 4))
    if not head:
        return None
    fds: list[int] = []
    for level, kind, data in anc:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            n = len(data) // 4
            fds += [int.from_bytes(data[4 * i : 4 * i + 4], sys.byteorder, signed=True)
                    for i in range(n)]  # fmt: skip
    while len(head) < 8:
        more = sock.recv(8 - len(head))
        if not more:
            return None
        head += more
    size = int.from_bytes(head, "little")
    chunks, got = [], 0
    while got < size:
        b = sock.recv(min(size - got, 1 << 20))
        if not b:
            return None
        chunks.append(b)
        got += len(b)
    for fd in fds:
        os.set_inheritable(fd, False)
    return b"".join(chunks), fds


def _console(cfg: InitConfig) -> None:
    """A pty from the container's own devpts (the first is /dev/pts/0 inside) on 0-2, the
    controlling terminal of a new session; its master goes back to the supervisor."""
    from dockyard.linux.pty import console

    console(cfg.console_fd, cfg.uid, cfg.winsize)


def _execvpe(file: str, argv: list[str], env: dict[str, str]) -> None:
    """`os.execvpe` without its lazy `import warnings`, which cannot run after pivot_root."""
    if "/" in file:
        os.execve(file, argv, env)
    first: OSError | None = None
    search = env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    for d in search.split(":"):
        try:
            os.execve(os.path.join(d or ".", file), argv, env)
        except (FileNotFoundError, NotADirectoryError) as e:
            first = first or e
        except OSError as e:  # e.g. EACCES: remembered, the search goes on (as execvp does)
            if first is None or isinstance(first, (FileNotFoundError, NotADirectoryError)):
                first = e
    raise first or FileNotFoundError(2, "No such file or directory", file)


def _report(fd: int, e: BaseException) -> None:
    err = getattr(e, "errno", None) or 0
    msg = f"E{err}:{type(e).__name__}:{e}".replace("\n", " ")
    try:
        os.write(fd, msg.encode(errors="replace")[:4000])
    except OSError:
        pass


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        b = os.read(fd, 4096)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def _raise_child_error(pid: int, data: bytes) -> None:
    import errno

    from dockyard import errors
    from dockyard.errors import FailedPrecondition, NotFound, PermissionDenied

    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    text = data.decode(errors="replace")
    if text.startswith("E"):
        code, _, rest = text[1:].partition(":")
        kind, _, msg = rest.partition(":")
    else:
        code, kind, msg = "0", "", text
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, errors.DockyardError):
        raise cls(f"container init: {msg}")
    num = int(code) if code.isdigit() else 0
    if num == errno.ENOENT:
        raise NotFound(f"container init: {msg}")
    if num in (errno.EPERM, errno.EACCES):
        raise PermissionDenied(f"container init: {msg}")
    raise FailedPrecondition(f"container init: {msg}")


def release(barrier_w: int) -> None:
    """Let an init waiting at its barrier continue to exec."""
    os.write(barrier_w, b"1")
