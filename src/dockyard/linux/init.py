"""The container init: clone into new namespaces and turn the child into the container.

`spawn` clones a child (pid 1 of a new pid namespace) that joins its cgroups by writing
"0" to the given files, sets the hostname, assembles and pivots into its rootfs, switches
user and capabilities, sets no_new_privs, tells the parent it is ready, optionally waits
at a barrier, loads the cached seccomp BPF, closes every other fd and execs. Failures in
the child come back to the parent through a close-on-exec pipe as one line.
"""

import os

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


def spawn(cfg: InitConfig, sc: "S.Syscalls | None" = None) -> Init:
    """Clone the init and return once it is set up (ready byte received)."""
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


def _child(cfg: InitConfig, sc: S.Syscalls, status_fd: int, outer_ns: str | None) -> None:
    # Everything this function and its callees import must be imported here, before
    # pivot_root: afterwards the host's Python library is out of reach.
    import _signal as signal  # the C module: `signal` imports enum
    import fcntl

    from dockyard import errors  # noqa: F401 - raised lazily by the calls below
    from dockyard.linux import caps, mounts

    if cfg.tty:
        import _socket  # noqa: F401 - the pty master is sent back after pivot_root

        from dockyard.linux import pty  # noqa: F401
    sc.set_pdeathsig(signal.SIGKILL)
    # until the exec, pid 1 is our host interpreter: an early `exec` must not open its
    # /proc/1/exe or mem (execve makes the container's binary dumpable again)
    sc.set_dumpable(False)
    for path in cfg.cgroup_join:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
    if cfg.loopback and cfg.namespaces & S.CLONE_NEWNET:
        # here, still privileged and already inside the namespace: no helper process
        from dockyard.linux.loopback import bring_up

        bring_up()
    if cfg.hostname:
        sc.sethostname(cfg.hostname)
    if cfg.domainname:
        sc.setdomainname(cfg.domainname)
    if cfg.rootfs is not None:
        mounts.setup_rootfs(cfg.rootfs, sc, outer_ns)
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
        if cfg.groups is not None:
            os.setgroups(list(cfg.groups))
        if cfg.gid is not None:
            os.setresgid(cfg.gid, cfg.gid, cfg.gid)
        if cfg.uid is not None:
            os.setresuid(cfg.uid, cfg.uid, cfg.uid)
    os.write(status_fd, b"R")
    if cfg.barrier_fd is not None and os.read(cfg.barrier_fd, 1) != b"1":
        os._exit(0)  # the parent gave up on this container
    env = dict(e.partition("=")[::2] for e in cfg.env)
    if cfg.seccomp_bpf is not None:
        sc.seccomp_set_filter(cfg.seccomp_bpf)
    # no host descriptor reaches the container; status_fd is close-on-exec
    if status_fd > 3:
        sc.close_range(3, status_fd - 1)
    sc.close_range(status_fd + 1)
    _execvpe(cfg.argv[0], list(cfg.argv), env)


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
