"""Reaching a container's root filesystem from the engine, without touching the host's mounts.

Work on a container's files (`cp`, `export`) runs in a forked child that holds a descriptor
of the container's root and calls the work function with it:

- "live": a running container, through /proc/<init>/root: the container's own mount
  namespace, volumes and bind mounts included. The init is checked to be in the
  container's cgroup through a /proc/<pid> descriptor taken first, so a recycled pid
  cannot lend us someone else's root.
- "view": the overlay of the upper dir over the image's layers, mounted read-only in the
  child's private mount namespace (the upper dir joins as a lower layer, so a running
  container's own mount is not disturbed). What `export` reads.
- "write": a stopped container's overlay mounted read-write (upper + work) in the child's
  private mount namespace, so copy-up and whiteouts are overlayfs's own.

With `binds`, a stopped container's bind mounts and volumes are bound over its overlay too
(read-only in "view"), so `cp` sees and writes what its processes would. A mount point
the overlay lacks (a container never started) is made first, as its start would: in the
upper dir ("write"), or in a scratch tmpfs upper that dies with the child ("view", whose
overlay is then made read-only).

The host's mount table never changes: the mount dies with the child. Every path below the
root descriptor is then resolved by the caller with openat walks clamped inside it
(`archive.rootdir`, `archive.fdtree`), never by the kernel from a path string.
"""

import os

from dockyard.linux.record import Record

LIVE, VIEW, WRITE = "live", "view", "write"
_MAX_MOUNT_DATA = 4000


class Target(Record):
    """A container's filesystem, as `enter` needs it."""

    pid: int  # the running init, 0 when stopped
    cgroup: str  # its cgroup name (dockyard/<id>): the pid check
    lowers: tuple[str, ...]  # the image's snapshot dirs, top-most first
    upper: str
    work: str
    mountpoint: str  # an empty dir to mount the overlay on (inside the child only)
    binds: tuple[tuple[str, str, bool], ...]  # (destination, host source, read-only) of a
    # stopped container, bound over its overlay as its start would (what `cp` sees)
    __slots__ = _fields = ("pid", "cgroup", "lowers", "upper", "work", "mountpoint", "binds")
    _defaults = {"binds": ()}


def run(target: Target, mode: str, fn, *args):
    """`fn(root_fd, *args)` in a forked child that entered `target` in `mode`; its result
    (JSON-able) is returned here, its DockyardError raised here with the same category."""
    return spawn(target, mode, fn, *args).wait()


class Child:
    """A running helper: `wait()` for its result (or its error, re-raised here)."""

    def __init__(self, pid: int, result_r: int):
        self.pid = pid
        self._r = result_r

    def wait(self):
        import json

        try:
            chunks = []
            while chunk := os.read(self._r, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(self._r)
            os.waitpid(self.pid, 0)
        if not chunks:
            from dockyard.errors import Unavailable

            raise Unavailable("the container filesystem helper died without an answer")
        out = json.loads(b"".join(chunks))
        if "error" in out:
            raise _rebuild(out["error"])
        return out["ok"]


def spawn(target: Target, mode: str, fn, *args, close_fds=()) -> Child:
    """Start `fn(root_fd, *args)` in a forked child that entered `target` in `mode`.

    `close_fds`: the parent's ends of the caller's pipes, closed in the child so that the
    parent sees end-of-file. The child exits with `os._exit`: nothing of this process
    (sqlite, buffers) is flushed or closed twice."""
    import json

    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            os.close(r)
            for fd in close_fds:
                os.close(fd)
            try:
                root = _enter(target, mode)
                out = {"ok": fn(root, *args)}
            except BaseException as e:  # everything goes back to the parent
                out = {"error": _describe(e)}
                code = 1
            data = json.dumps(out).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(w, view) :]
        finally:
            os._exit(code)
    os.close(w)
    return Child(pid, r)


def _describe(e: BaseException) -> list[str]:
    from dockyard.errors import DockyardError

    if isinstance(e, DockyardError):
        return [type(e).__name__, str(e)]
    if isinstance(e, OSError):
        import errno

        kind = {
            errno.ENOENT: "NotFound",
            errno.EACCES: "PermissionDenied",
            errno.EPERM: "PermissionDenied",
            errno.EROFS: "PermissionDenied",
            errno.ENOSPC: "Unavailable",
            errno.ENOTDIR: "InvalidArgument",
            errno.EISDIR: "InvalidArgument",
        }.get(e.errno or 0, "FailedPrecondition")
        what = (
            f"{e.filename}: " if isinstance(e.filename, str) and "/proc/" not in e.filename else ""
        )
        return [kind, f"{what}{(e.strerror or str(e)).lower()}"]
    return ["FailedPrecondition", f"{type(e).__name__}: {e}"]


def _rebuild(err: list[str]) -> Exception:
    from dockyard import errors

    cls = getattr(errors, err[0], None)
    if not (isinstance(cls, type) and issubclass(cls, errors.DockyardError)):
        cls = errors.FailedPrecondition
    return cls(err[1])


# -- in the child ---------------------------------------------------------------------------


def _enter(target: Target, mode: str) -> int:
    """A descriptor of the container's root, in this (forked) process."""
    if mode == LIVE:
        return _live_root(target.pid, target.cgroup)
    from dockyard.linux import syscalls as S

    sc = S.Syscalls()
    sc.unshare(S.CLONE_NEWNS)
    # nothing mounted from here on may reach the host's mount table
    sc.mount(None, "/", None, S.MS_REC | S.MS_PRIVATE)
    root = target.mountpoint
    if mode == VIEW and target.binds:
        # mount points may be missing: a scratch upper on a tmpfs of this namespace only
        sc.mount("tmpfs", root, "tmpfs", S.MS_NOSUID | S.MS_NODEV, "mode=0700")
        scratch = [os.path.join(root, n) for n in ("u", "w", "r")]
        for d in scratch:
            os.mkdir(d, 0o755)
        _mount_overlay(sc, (target.upper, *target.lowers), scratch[0], scratch[1], scratch[2],
                       False)  # fmt: skip
        root = scratch[2]
    elif mode == VIEW:
        _mount_overlay(sc, (target.upper, *target.lowers), "", "", root, True)
    elif mode == WRITE:
        _mount_overlay(sc, target.lowers, target.upper, target.work, root, False)
    else:
        from dockyard.errors import InvalidArgument

        raise InvalidArgument(f"unknown access mode {mode!r}")
    for dest, source, readonly in sorted(target.binds, key=lambda b: b[0].count("/")):
        _bind(sc, root, dest, source, readonly or mode == VIEW)
    if mode == VIEW and target.binds:
        sc.mount(None, root, None, S.MS_BIND | S.MS_REMOUNT | S.MS_RDONLY)
    return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def _bind(sc, root: str, dest: str, source: str, readonly: bool) -> None:
    """Bind `source` on `dest` inside the mounted root, if `dest` is there (made, with its
    parents, when missing, as a start makes its mount points) and of the same kind; the
    target is resolved inside the root and named to mount(2) through its descriptor."""
    import stat

    from dockyard.archive.rootdir import RootDir
    from dockyard.linux import syscalls as S

    parts = [p for p in dest.split("/") if p not in ("", ".", "..")]
    if not parts:
        return
    try:
        src_st = os.stat(source)
    except OSError:
        return  # the source is gone: its start would fail, cp sees the mount point only
    flags = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
    with RootDir(root) as r:
        try:
            got = r.open_dir(parts[:-1], create=True)
        except OSError:  # a read-only place (under a read-only bind): left as it is
            return
        if got is None:
            return
        pfd, name = got[0], parts[-1]
        try:
            fd = os.open(name, flags, dir_fd=pfd)
        except FileNotFoundError:
            fd = _make_mount_point(pfd, name, stat.S_ISDIR(src_st.st_mode), flags)
            if fd < 0:
                return
        except OSError:
            return
        try:
            st = os.fstat(fd)
            if stat.S_ISLNK(st.st_mode) or stat.S_ISDIR(st.st_mode) != stat.S_ISDIR(src_st.st_mode):
                return
            sc.mount(source, f"/proc/self/fd/{fd}", None, S.MS_BIND | S.MS_REC)
        finally:
            os.close(fd)
        if readonly:
            # looked up again: a descriptor taken before the mount names what lies under it
            fd = os.open(name, flags, dir_fd=pfd)
            try:
                sc.mount(None, f"/proc/self/fd/{fd}", None, S.MS_BIND | S.MS_REMOUNT | S.MS_RDONLY)
            finally:
                os.close(fd)


def _make_mount_point(pfd: int, name: str, is_dir: bool, flags: int) -> int:
    """A new empty directory (or file, for a file's bind) `name` in `pfd`, opened with
    `flags`; -1 when it cannot be made."""
    try:
        if is_dir:
            os.mkdir(name, 0o755, dir_fd=pfd)
        else:
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                             | os.O_CLOEXEC, 0o644, dir_fd=pfd))  # fmt: skip
        return os.open(name, flags, dir_fd=pfd)
    except OSError:
        return -1


def _live_root(pid: int, cgroup: str) -> int:
    from dockyard.errors import Conflict

    try:
        pfd = os.open(f"/proc/{pid}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Conflict("the container stopped meanwhile") from None
    try:
        # through the /proc/<pid> descriptor: it keeps naming this very process
        fd = os.open("cgroup", os.O_RDONLY | os.O_CLOEXEC, dir_fd=pfd)
        try:
            text = os.read(fd, 1 << 16).decode(errors="replace")
        finally:
            os.close(fd)
        if not any(line.rstrip("/").endswith("/" + cgroup) for line in text.splitlines()):
            raise Conflict("the container stopped meanwhile")
        return os.open("root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=pfd)
    except ProcessLookupError:
        raise Conflict("the container stopped meanwhile") from None
    finally:
        os.close(pfd)


def _mount_overlay(sc, lowers, upper: str, work: str, at: str, readonly: bool) -> None:
    from dockyard.linux import syscalls as S
    from dockyard.linux.mounts import overlay_data

    flags = S.MS_RDONLY if readonly else 0
    data = overlay_data(lowers, upper, work, False) + ",index=off"
    if len(data) > _MAX_MOUNT_DATA:
        # too long for one page: name the layers relative to their common parent
        dirs = [*lowers, *((upper, work) if upper else ())]
        base = os.path.commonpath(dirs)
        rel = [os.path.relpath(d, base) for d in dirs]
        n = len(lowers)
        up, wk = (rel[n], rel[n + 1]) if upper else ("", "")
        data = overlay_data(rel[:n], up, wk, False) + ",index=off"
        os.chdir(base)  # only this child's working directory
    sc.mount("overlay", at, "overlay", flags, data)
