"""Enter a running container: a new process in its namespaces and cgroup, hardened as its init.

`spawn` opens the init's namespace files (/proc/<pid>/ns/*, checked against a pidfd of the
init so a reused pid cannot swap the target), then forks a middle process that joins the
container's cgroup, setns(2)es into ipc, uts, net, pid and mnt (mnt last: afterwards the
host's files are out of reach, so everything is imported before) and forks the command's
process: only a child of a process that joined a pid namespace is inside it. The middle
process waits for it and exits with its status (128+n for a signal), so the caller reaps
one child; with `detach` it leaves at once, and a child of its own, outside the container,
stays the command's parent and reaps it (as a shim does).

The command's process resolves the user in the container's own /etc/passwd and /etc/group
(its root is the container's root after setns), closes every descriptor but its stdio and
the status pipe, then changes to the working directory (so `/proc/self/fd/N` names only
those) and refuses one the container's root cannot reach, makes a tty its controlling
terminal, sets no_new_privs, the capability sets and user, loads the seccomp BPF and execs.
A failure before exec comes back on the close-on-exec status pipe as one line:
`S<errno>:<Kind>:<message>` (setup) or `X<errno>:<Kind>:<message>` (the exec itself).
"""

import os

from dockyard.linux import syscalls as S
from dockyard.linux.record import Record

# mnt last: setns into it moves our root into the container
NAMESPACES = ("ipc", "uts", "net", "pid", "mnt")
MAX_DB = 1 << 20  # /etc/passwd and /etc/group larger than this are refused


class ExecConfig(Record):
    """Everything the entering processes need; built by `runtime.execute`."""

    init_pid: int
    argv: tuple[str, ...]
    env: tuple[str, ...]  # "KEY=value"
    cwd: str
    user: str  # "user[:group]" resolved inside the container ("" = root)
    caps: frozenset[int] | None  # None: leave the capability sets alone
    no_new_privs: bool
    seccomp_bpf: bytes | None
    cgroup_join: tuple[str, ...]  # files to write "0" to (CgroupDriver.join_paths)
    stdio: tuple[int, int, int]  # fds dup'ed onto 0, 1, 2
    tty: bool  # a pty of the container's devpts on 0-2 (its master goes to console_fd)
    console_fd: int | None  # tty: the unix socket the pty master is sent back on
    winsize: tuple[int, int] | None  # tty: (rows, cols) to start with
    detach: bool  # the middle process does not wait
    namespaces: tuple[str, ...]
    # the command runs on when the caller dies (Docker's exec: killing the client leaves
    # it running); else the caller's death kills it (health probes, killed at a timeout)
    outlive_caller: bool
    __slots__ = _fields = (
        "init_pid", "argv", "env", "cwd", "user", "caps", "no_new_privs", "seccomp_bpf",
        "cgroup_join", "stdio", "tty", "console_fd", "winsize", "detach", "namespaces",
        "outlive_caller",
    )  # fmt: skip
    _defaults = {
        "env": (),
        "cwd": "/",
        "user": "",
        "caps": None,
        "no_new_privs": True,
        "seccomp_bpf": None,
        "cgroup_join": (),
        "tty": False,
        "console_fd": None,
        "winsize": None,
        "detach": False,
        "namespaces": NAMESPACES,
        "outlive_caller": False,
    }


class Entered:
    """The middle process (our child) and the status pipe of the command's process."""

    def __init__(self, pid: int, status_fd: int):
        self.pid = pid
        self._fd = status_fd
        self.master = -1  # tty: the pty master (set by the caller)

    def wait_exec(self) -> bytes:
        """Block until the command exec'd (b"") or failed (its status line)."""
        if self._fd < 0:
            return b""
        chunks = []
        while True:
            b = os.read(self._fd, 4096)
            if not b:
                break
            chunks.append(b)
        os.close(self._fd)
        self._fd = -1
        return b"".join(chunks)


def spawn(cfg: ExecConfig, resolve_user=None, sc: "S.Syscalls | None" = None) -> Entered:
    """Start `cfg.argv` inside the container of `cfg.init_pid`.

    `resolve_user(spec, passwd_text, group_text)` returns an object with uid, gid and
    groups (runtime.spec.resolve_user); it runs inside the container's root."""
    import _signal  # noqa: F401 - used in the children, after setns(mnt)
    import fcntl  # noqa: F401
    import stat  # noqa: F401

    from dockyard import errors  # noqa: F401
    from dockyard.linux import caps  # noqa: F401
    from dockyard.linux.init import _execvpe  # noqa: F401

    if cfg.tty:
        import _socket  # noqa: F401

        from dockyard.linux import pty  # noqa: F401

    sc = sc or S.Syscalls()
    sc.prepare()
    pidfd = os.pidfd_open(cfg.init_pid)
    ns_fds: list[int] = []
    try:
        for name in cfg.namespaces:
            ns_fds.append(os.open(f"/proc/{cfg.init_pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC))
        if _exited(pidfd):  # the files may belong to a process that reused the pid
            from dockyard.errors import Conflict

            raise Conflict(f"container init {cfg.init_pid} exited")
    except BaseException:
        for fd in ns_fds:
            os.close(fd)
        raise
    finally:
        os.close(pidfd)
    r, w = os.pipe2(os.O_CLOEXEC)
    try:
        pid = os.fork()
    except BaseException:
        for fd in (*ns_fds, r, w):
            os.close(fd)
        raise
    if pid == 0:
        try:
            os.close(r)
            _middle(cfg, sc, ns_fds, w, resolve_user)
        except BaseException as e:
            _report(w, "S", e)
        finally:
            os._exit(126)
    for fd in (*ns_fds, w):
        os.close(fd)
    return Entered(pid, r)


def _exited(pidfd: int) -> bool:
    import select

    p = select.poll()
    p.register(pidfd, select.POLLIN)
    return bool(p.poll(0))


def _middle(cfg: ExecConfig, sc: S.Syscalls, ns_fds: list[int], status_fd: int, resolve) -> None:
    import _signal as signal

    # out of the caller's session: a terminal's ^C goes to the container's process only
    # through its own tty (or `kill`), as with Docker's exec
    os.setsid()
    if not (cfg.detach or cfg.tty or cfg.outlive_caller):  # a tty's user may detach
        sc.set_pdeathsig(signal.SIGKILL)
    if cfg.detach and os.fork() != 0:
        # the caller reaps us now; our child stays the command's parent and reaps it (the
        # container's init may never reap an orphan). Forked before setns(pid): only the
        # command is in the container's pid namespace, whose end then never waits on us.
        os._exit(0)
    # until the command execs, it is our (host) interpreter inside the container's pid
    # namespace: non-dumpable, no process in there may open its /proc/<pid>/exe or mem
    # (execve makes the container's binary dumpable again)
    sc.set_dumpable(False)
    for path in cfg.cgroup_join:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
    for fd in ns_fds:
        sc.setns(fd, 0)
        os.close(fd)
    me = os.getpid()
    child = os.fork()
    if child == 0:
        try:
            _command(cfg, sc, status_fd, resolve, me)
        except BaseException as e:
            _report(status_fd, "S", e)
        finally:
            os._exit(126)
    os.close(status_fd)
    if cfg.detach:  # we outlive the caller: its pipes must see their end-of-file
        null = os.open("/dev/null", os.O_RDWR)
        for i in (0, 1, 2):
            os.dup2(null, i)
        sc.close_range(3)
    # the caller kills us on a timeout: the command follows (its pdeathsig)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    os._exit(128 - code if code < 0 else code)


def _command(cfg: ExecConfig, sc: S.Syscalls, status_fd: int, resolve, parent: int) -> None:
    import _signal as signal
    import fcntl

    from dockyard.linux import caps
    from dockyard.linux.init import _execvpe

    if not cfg.detach:
        sc.set_pdeathsig(signal.SIGKILL)
        if os.getppid() not in (0, parent):  # 0: the parent is outside our pid namespace
            os._exit(137)
    uid = gid = None
    groups = None
    home = "/"
    if resolve is not None:  # root too: its groups come from the container's files
        u = resolve(cfg.user, _read_db("/etc/passwd"), _read_db("/etc/group"))
        uid, gid, groups, home = u.uid, u.gid, tuple(u.groups), u.home
    # move the sources out of 0-2 first, so (1, 0, 2) and the like come out right
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in cfg.stdio]
    for i, fd in enumerate(high):
        os.dup2(fd, i)
        os.close(fd)
    if cfg.tty:
        from dockyard.linux.pty import console

        console(cfg.console_fd, uid, cfg.winsize)
    # nothing of the host's stays open: /proc/self/fd/N below can only name 0-2 and a pipe
    if status_fd > 3:
        sc.close_range(3, status_fd - 1)
    sc.close_range(status_fd + 1)
    try:
        os.chdir(cfg.cwd)
        os.getcwd()  # ENOENT when the directory lies outside the container's root
    except OSError as e:
        raise OSError(
            e.errno, f'chdir to cwd ("{cfg.cwd}") set in config.json failed: '
            f"{(e.strerror or '').lower()}",
        ) from None  # fmt: skip
    if cfg.no_new_privs:
        sc.set_no_new_privs()
    if cfg.caps is not None:
        caps.apply(cfg.caps, sc, uid=uid, gid=gid, groups=groups)
    else:
        caps.set_ids(uid, gid, groups)
    env = dict(e.partition("=")[::2] for e in cfg.env)
    env.setdefault("HOME", home)  # runc's rule: the user's home unless the env sets one
    if cfg.seccomp_bpf is not None:
        sc.seccomp_set_filter(cfg.seccomp_bpf)
    try:
        _execvpe(cfg.argv[0], list(cfg.argv), env)
    except OSError as e:
        _report(status_fd, "X", e)
        os._exit(127)


def _read_db(path: str) -> str:
    """A user database of the container (our root is its root now); "" when missing."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        try:  # a symlink resolves inside the container's root too: we are chrooted there
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return ""
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        data = os.read(fd, MAX_DB + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_DB:
        from dockyard.errors import InvalidArgument

        raise InvalidArgument(f"{path} is too large")
    return data.decode(errors="replace")


def _report(fd: int, stage: str, e: BaseException) -> None:
    err = getattr(e, "errno", None) or 0
    msg = f"{stage}{err}:{type(e).__name__}:{e.strerror if _bare(e) else e}"
    try:
        os.write(fd, msg.replace("\n", " ").encode(errors="replace")[:4000])
    except OSError:
        pass


def _bare(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.filename is None and bool(e.strerror)


def parse_failure(data: bytes) -> tuple[str, int, str, str]:
    """(stage "S"|"X", errno, error kind, message) of a status line."""
    text = data.decode(errors="replace")
    stage, rest = text[:1], text[1:]
    num, _, rest = rest.partition(":")
    kind, _, msg = rest.partition(":")
    return stage, int(num) if num.isdigit() else 0, kind, msg
