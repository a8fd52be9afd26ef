"""Assemble a container's root filesystem inside a new mount namespace, then pivot into it.

`setup_rootfs` mounts the overlay (or binds a plain directory), /proc, a tmpfs /dev with
Docker's device nodes, /dev/pts, /dev/shm, /dev/mqueue, a read-only /sys, the user's bind
and tmpfs mounts, then masks and read-only paths. Every target is resolved inside the rootfs
(`paths.resolve_in_root`) and mounted through a verified O_PATH fd, so a symlink in the
image cannot aim a mount at the host. `pivot` makes the rootfs `/` and detaches the old root.
Run it only in a child that has unshared its mount namespace.
"""

import os

from dockyard.linux import syscalls as S
from dockyard.linux.record import Record

MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
SHM_SIZE = 64 << 20
_MAX_MOUNT_DATA = 4000  # mount(2) copies one page of options


class Device(Record):
    name: str  # under /dev
    major: int
    minor: int
    mode: int  # default 0o666
    __slots__ = _fields = ("name", "major", "minor", "mode")
    _defaults = {"mode": 0o666}


DEVICES = (
    Device("null", 1, 3),
    Device("zero", 1, 5),
    Device("full", 1, 7),
    Device("random", 1, 8),
    Device("urandom", 1, 9),
    Device("tty", 5, 0),
)
DEV_SYMLINKS = (
    ("/proc/self/fd", "fd"),
    ("/proc/self/fd/0", "stdin"),
    ("/proc/self/fd/1", "stdout"),
    ("/proc/self/fd/2", "stderr"),
    ("pts/ptmx", "ptmx"),
)


class Mount(Record):
    """A user mount: type "bind" (source on the host) or "tmpfs" (options like size=, mode=)."""

    destination: str
    type: str  # "bind" (default) | "tmpfs"
    source: str
    options: tuple[str, ...]
    __slots__ = _fields = ("destination", "type", "source", "options")
    _defaults = {"type": "bind", "source": "", "options": ()}


class RootfsSpec(Record):
    """What to assemble on `rootfs` (defaults: Docker's masks, devices and /dev/shm size)."""

    rootfs: str  # the directory the container's / is assembled on
    lowerdirs: tuple[str, ...]  # overlay layers, top-most first; empty: rootfs is a dir
    upperdir: str
    workdir: str
    volatile: bool  # overlay without syncs, for throw-away upper dirs
    readonly: bool
    mounts: tuple[Mount, ...]
    masked_paths: tuple[str, ...]
    readonly_paths: tuple[str, ...]
    devices: tuple[Device, ...]
    bind_devices: bool  # bind the host's nodes instead of mknod (user namespaces)
    shm_size: int
    sysctls: tuple[tuple[str, str], ...]  # written under the container's /proc/sys
    __slots__ = _fields = (
        "rootfs",
        "lowerdirs",
        "upperdir",
        "workdir",
        "volatile",
        "readonly",
        "mounts",
        "masked_paths",
        "readonly_paths",
        "devices",
        "bind_devices",
        "shm_size",
        "sysctls",
    )
    _defaults = {
        "lowerdirs": (),
        "upperdir": "",
        "workdir": "",
        "volatile": False,
        "readonly": False,
        "mounts": (),
        "masked_paths": MASKED_PATHS,
        "readonly_paths": READONLY_PATHS,
        "devices": DEVICES,
        "bind_devices": False,
        "shm_size": SHM_SIZE,
        "sysctls": (),
    }


def default_masked_paths() -> tuple[str, ...]:
    """Docker's list plus each CPU's thermal_throttle directory present on this host."""
    extra = []
    base = "/sys/devices/system/cpu"
    try:
        names = os.listdir(base)
    except OSError:
        names = []
    for n in sorted(names):
        p = f"{base}/{n}/thermal_throttle"
        if n.startswith("cpu") and n[3:].isdigit() and os.path.isdir(p):
            extra.append(p)
    return MASKED_PATHS + tuple(extra)


_FLAG_OPTS = {
    "ro": (S.MS_RDONLY, True),
    "rw": (S.MS_RDONLY, False),
    "nosuid": (S.MS_NOSUID, True),
    "suid": (S.MS_NOSUID, False),
    "nodev": (S.MS_NODEV, True),
    "dev": (S.MS_NODEV, False),
    "noexec": (S.MS_NOEXEC, True),
    "exec": (S.MS_NOEXEC, False),
    "noatime": (S.MS_NOATIME, True),
    "atime": (S.MS_NOATIME, False),
    "nodiratime": (S.MS_NODIRATIME, True),
    "diratime": (S.MS_NODIRATIME, False),
    "relatime": (S.MS_RELATIME, True),
    "norelatime": (S.MS_RELATIME, False),
    "strictatime": (S.MS_STRICTATIME, True),
    "sync": (S.MS_SYNCHRONOUS, True),
    "async": (S.MS_SYNCHRONOUS, False),
    "dirsync": (S.MS_DIRSYNC, True),
}
_PROPAGATION = {
    "private": S.MS_PRIVATE,
    "rprivate": S.MS_PRIVATE | S.MS_REC,
    "slave": S.MS_SLAVE,
    "rslave": S.MS_SLAVE | S.MS_REC,
    "shared": S.MS_SHARED,
    "rshared": S.MS_SHARED | S.MS_REC,
    "unbindable": S.MS_UNBINDABLE,
    "runbindable": S.MS_UNBINDABLE | S.MS_REC,
}


class Options(Record):
    flags: int
    propagation: int  # 0: none asked
    data: str
    recursive: bool  # rbind (the default for binds) vs bind
    __slots__ = _fields = ("flags", "propagation", "data", "recursive")


def parse_options(options: "tuple[str, ...] | list[str]") -> Options:
    """Split mount options into mount(2) flags, a propagation change and the data string."""
    flags, prop, data, recursive = 0, 0, [], True
    for opt in options:
        if opt in _FLAG_OPTS:
            bit, on = _FLAG_OPTS[opt]
            flags = flags | bit if on else flags & ~bit
        elif opt in _PROPAGATION:
            prop = _PROPAGATION[opt]
        elif opt in ("bind", "rbind"):
            recursive = opt == "rbind"
        elif opt:
            if "," in opt:
                from dockyard.errors import InvalidArgument

                raise InvalidArgument(f"invalid mount option {opt!r}")
            data.append(opt)
    return Options(flags, prop, ",".join(data), recursive)


def overlay_data(lowerdirs, upperdir: str, workdir: str, volatile: bool) -> str:
    """The overlay option string; refuses characters overlayfs would split on."""
    from dockyard.errors import InvalidArgument

    for d in (*lowerdirs, upperdir, workdir):
        if any(c in d for c in ",:\n"):
            raise InvalidArgument(f"overlay directory name has a ',' or ':': {d!r}")
    parts = ["lowerdir=" + ":".join(lowerdirs)]
    if upperdir:
        parts += [f"upperdir={upperdir}", f"workdir={workdir}"]
        if volatile:
            parts.append("volatile")
    return ",".join(parts)


class _Root:
    """Mount helpers bound to one rootfs path and one Syscalls instance.

    Targets are opened with openat2(RESOLVE_IN_ROOT) relative to the root: the kernel
    resolves them as the container will (symlinks and ".." clamped to the root), in one
    call. Where openat2 is missing or gives up (a racing rename), and to create a missing
    target, `paths.resolve_in_root` + `open_verified` do the same in Python."""

    def __init__(self, root: str, sc: S.Syscalls):
        self.root = root
        self.sc = sc
        self.fd = -1  # O_PATH of the root (`open`), for openat2

    def open(self) -> None:
        """Take the root's descriptor: call once the root is mounted."""
        self.fd = os.open(self.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _open_in(self, dest: str) -> int | None:
        """An O_PATH fd of `dest` through openat2; None when it does not exist; -1 when
        openat2 cannot answer (the caller resolves in Python)."""
        import errno

        if self.fd < 0:
            return -1
        rel = dest.strip("/") or "."
        try:
            return self.sc.openat2(
                self.fd, rel, os.O_PATH | os.O_CLOEXEC,
                S.RESOLVE_IN_ROOT | S.RESOLVE_NO_MAGICLINKS,
            )  # fmt: skip
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            if e.errno in (errno.ENOSYS, errno.EAGAIN, errno.ELOOP, errno.EXDEV, errno.E2BIG,
                           errno.EINVAL, errno.EPERM):  # fmt: skip
                return -1
            raise

    def target(self, dest: str, is_dir: bool = True, create: bool = True) -> int | None:
        """A verified O_PATH fd for `dest` inside the root, created when missing (or None)."""
        from dockyard.linux.paths import open_verified, resolve_in_root

        fd = self._open_in(dest)
        if fd is not None and fd >= 0:
            return fd
        if fd is None and not create:
            return None
        if fd is None:
            fd = self._create_in(dest, is_dir)
            if fd is not None and fd >= 0:
                return fd
        host = resolve_in_root(self.root, dest)
        if not os.path.lexists(host):
            if not create:
                return None
            if is_dir:
                os.makedirs(host, 0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(host), 0o755, exist_ok=True)
                os.close(os.open(host, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
        return open_verified(self.root, host)

    def _create_in(self, dest: str, is_dir: bool) -> int | None:
        """`dest`, missing, made in its parent as the kernel resolves that parent in the root,
        and opened as `_open_in` does; None or -1 when the Python resolution must do it (a
        missing parent, a dangling symlink in the way, no openat2)."""
        parent, _, name = dest.rstrip("/").rpartition("/")
        if name in ("", ".", ".."):
            return -1
        pfd = self._open_in(parent or "/")
        if pfd is None or pfd < 0:
            return -1
        try:
            if is_dir:
                os.mkdir(name, 0o755, dir_fd=pfd)
            else:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                os.close(os.open(name, flags, 0o644, dir_fd=pfd))
        except FileExistsError:
            pass  # made meanwhile, or a symlink: resolved below
        except OSError:
            return -1
        finally:
            os.close(pfd)
        return self._open_in(dest)

    def mount(self, source, dest, fstype, flags, data=None, is_dir=True, create=True) -> bool:
        fd = self.target(dest, is_dir, create)
        if fd is None:
            return False
        try:
            self.sc.mount(source, f"/proc/self/fd/{fd}", fstype, flags, data)
        finally:
            os.close(fd)
        if flags & S.MS_BIND and flags & _REMOUNTABLE:
            # bind ignores most flags; a remount applies them to the new mount
            self.remount(dest, flags & _REMOUNTABLE)
        return True

    def remount(self, dest: str, flags: int) -> None:
        """Change the flags of the bind mount on `dest` (opened afresh: an fd taken before
        the mount points at what lies underneath it)."""
        fd = self.target(dest, create=False)
        if fd is None:
            return
        try:
            self.sc.mount(None, f"/proc/self/fd/{fd}", None, S.MS_BIND | S.MS_REMOUNT | flags)
        finally:
            os.close(fd)

    def propagate(self, dest: str, prop: int) -> None:
        fd = self.target(dest, create=False)
        if fd is not None:
            try:
                self.sc.mount(None, f"/proc/self/fd/{fd}", None, prop, None)
            finally:
                os.close(fd)

    def host(self, dest: str) -> str:
        from dockyard.linux.paths import resolve_in_root

        return resolve_in_root(self.root, dest)


_REMOUNTABLE = S.MS_RDONLY | S.MS_NOSUID | S.MS_NODEV | S.MS_NOEXEC | S.MS_NOATIME


def setup_rootfs(
    spec: RootfsSpec, sc: "S.Syscalls | None" = None, outer_mnt_ns: str | None = None
) -> None:
    """Mount the container's filesystem tree on `spec.rootfs` (in a private mount namespace).

    `outer_mnt_ns` (readlink of the parent's /proc/self/ns/mnt) guards against running in
    the caller's namespace by mistake; without it pid 1's namespace is compared, when readable.
    """
    sc = sc or S.Syscalls()
    _refuse_outer_namespace(outer_mnt_ns)
    # Private, unless a mount asks to receive (slave) or share events with the host: every
    # bind is then private at once, as Docker's default rprivate wants, with no remount
    # each; a slave root, as runc's default, makes each bind a slave of the host's mount.
    private = _all_private(spec.mounts)
    sc.mount(None, "/", None, S.MS_REC | (S.MS_PRIVATE if private else S.MS_SLAVE))
    root = os.path.realpath(spec.rootfs)
    _mount_root(spec, root, sc)
    r = _Root(root, sc)
    for d in ("proc", "dev", "sys"):
        _check_system_dir(root, d)
    r.open()
    try:
        _assemble(spec, r, private)
    finally:
        r.close()
    if spec.readonly:
        sc.mount(None, root, None, S.MS_BIND | S.MS_REMOUNT | S.MS_RDONLY)


def _all_private(mounts) -> bool:
    private = (0, S.MS_PRIVATE, S.MS_PRIVATE | S.MS_REC)
    return all(parse_options(m.options).propagation in private for m in mounts)


def _assemble(spec: RootfsSpec, r: "_Root", private: bool) -> None:
    sc, root = r.sc, r.root
    nse = S.MS_NOSUID | S.MS_NOEXEC | S.MS_NODEV
    r.mount("proc", "/proc", "proc", nse)
    if spec.sysctls:  # before /proc/sys turns read-only, in the new namespaces
        _write_sysctls(root, spec.sysctls)
    _setup_dev(spec, r)
    _mount_sys(r)
    for m in sorted(spec.mounts, key=lambda m: m.destination.rstrip("/").count("/")):
        _user_mount(r, m, private)
    # our own /dev tmpfs (the image's /dev was checked to be a plain directory)
    null = os.path.join(root, "dev", "null")
    for p in spec.masked_paths:
        _mask(r, p, null)
    for p in spec.readonly_paths:
        fd = r.target(p, create=False)
        if fd is None:
            continue
        try:
            at = f"/proc/self/fd/{fd}"
            sc.mount(at, at, None, S.MS_BIND | S.MS_REC)
        finally:
            os.close(fd)
        r.remount(p, S.MS_RDONLY | nse)


def _refuse_outer_namespace(outer: str | None) -> None:
    # Everything below changes the mount namespace it runs in: never the caller's (host's).
    if outer is None:
        try:
            outer = os.readlink("/proc/1/ns/mnt")
        except OSError:
            return
    if os.readlink("/proc/self/ns/mnt") == outer:
        from dockyard.errors import FailedPrecondition

        raise FailedPrecondition("setup_rootfs must run in a new mount namespace")


def _check_system_dir(root: str, name: str) -> None:
    """/proc, /dev and /sys must be plain directories (or absent) in the image: a symlink
    there would move the kernel filesystems somewhere the masks do not cover."""
    import stat

    from dockyard.errors import InvalidArgument

    try:
        st = os.lstat(os.path.join(root, name))
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        raise InvalidArgument(f"the image's /{name} is not a directory")


def _mount_root(spec: RootfsSpec, root: str, sc: S.Syscalls) -> None:
    if not spec.lowerdirs:
        sc.mount(root, root, None, S.MS_BIND | S.MS_REC)
        return
    if len(spec.lowerdirs) == 1 and not spec.upperdir:
        sc.mount(spec.lowerdirs[0], root, None, S.MS_BIND | S.MS_REC)
        sc.mount(None, root, None, S.MS_BIND | S.MS_REMOUNT | S.MS_RDONLY)
        return
    data = overlay_data(spec.lowerdirs, spec.upperdir, spec.workdir, spec.volatile)
    if len(data) <= _MAX_MOUNT_DATA:
        sc.mount("overlay", root, "overlay", 0, data)
        return
    # Too long for one page: name the layers relative to their common parent.
    dirs = [*spec.lowerdirs, *([spec.upperdir, spec.workdir] if spec.upperdir else [])]
    base = os.path.commonpath(dirs)
    rel = [os.path.relpath(d, base) for d in dirs]
    n = len(spec.lowerdirs)
    up, work = (rel[n], rel[n + 1]) if spec.upperdir else ("", "")
    data = overlay_data(rel[:n], up, work, spec.volatile)
    if len(data) > _MAX_MOUNT_DATA:
        from dockyard.errors import LimitExceeded

        raise LimitExceeded(f"too many layers for one overlay mount ({n})")
    cwd = os.open(".", os.O_PATH | os.O_CLOEXEC)
    try:
        os.chdir(base)
        sc.mount("overlay", root, "overlay", 0, data)
    finally:
        os.fchdir(cwd)
        os.close(cwd)


def _setup_dev(spec: RootfsSpec, r: _Root) -> None:
    import stat

    sc = r.sc
    r.mount("tmpfs", "/dev", "tmpfs", S.MS_NOSUID | S.MS_STRICTATIME, "mode=755,size=65536k")
    # our fresh tmpfs on the image's /dev, a plain directory (`_check_system_dir`)
    dev = os.path.join(r.root, "dev")
    for d in ("pts", "shm", "mqueue"):
        os.mkdir(os.path.join(dev, d), 0o755)
    for d in spec.devices:
        path = os.path.join(dev, d.name)
        if spec.bind_devices:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
            sc.mount(f"/dev/{d.name}", path, None, S.MS_BIND)
        else:
            sc.mknod(path, stat.S_IFCHR | d.mode, d.major, d.minor)
            os.chmod(path, d.mode)  # mknod honours the umask
    for target, name in DEV_SYMLINKS:
        os.symlink(target, os.path.join(dev, name))
    r.mount(
        "devpts",
        "/dev/pts",
        "devpts",
        S.MS_NOSUID | S.MS_NOEXEC,
        "newinstance,ptmxmode=0666,mode=0620,gid=5",
    )
    nse = S.MS_NOSUID | S.MS_NOEXEC | S.MS_NODEV
    r.mount("shm", "/dev/shm", "tmpfs", nse, f"mode=1777,size={spec.shm_size}")
    r.mount("mqueue", "/dev/mqueue", "mqueue", nse)


def _mount_sys(r: _Root) -> None:
    flags = S.MS_RDONLY | S.MS_NOSUID | S.MS_NOEXEC | S.MS_NODEV
    try:
        r.mount("sysfs", "/sys", "sysfs", flags)
    except PermissionError:
        # not in a network namespace we own: show the host's, read-only
        r.mount("/sys", "/sys", None, S.MS_BIND | S.MS_REC | flags)


def _user_mount(r: _Root, m: Mount, private_root: bool = False) -> None:
    from dockyard.errors import InvalidArgument, NotFound

    if not m.destination.startswith("/"):
        raise InvalidArgument(f"mount destination {m.destination!r} is not an absolute path")
    opts = parse_options(m.options)
    if m.type == "bind":
        if opts.data:
            raise InvalidArgument(f"bind mount {m.destination}: unknown option(s) {opts.data}")
        if not os.path.exists(m.source):
            raise NotFound(f"bind source path does not exist: {m.source}")
        flags = S.MS_BIND | (S.MS_REC if opts.recursive else 0) | opts.flags
        r.mount(m.source, m.destination, None, flags, is_dir=os.path.isdir(m.source))
        if not private_root:  # (under a private root the bind is private already)
            r.propagate(m.destination, opts.propagation or (S.MS_PRIVATE | S.MS_REC))
    elif m.type == "tmpfs":
        r.mount("tmpfs", m.destination, "tmpfs", opts.flags, opts.data or None)
        if opts.propagation:
            r.propagate(m.destination, opts.propagation)
    else:
        raise InvalidArgument(f"unsupported mount type {m.type!r} for {m.destination}")


def _write_sysctls(root: str, sysctls) -> None:
    from dockyard.errors import InvalidArgument

    base = os.path.join(root, "proc", "sys")
    for key, value in sysctls:
        rel = key.replace(".", "/")
        if not rel or rel.startswith("/") or ".." in rel.split("/") or "\0" in rel:
            raise InvalidArgument(f"sysctl {key!r} is not allowed")
        fd = os.open(os.path.join(base, rel), os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.write(fd, value.encode())
        except OSError as e:
            raise OSError(e.errno, e.strerror, f"write sysctl {key}") from None
        finally:
            os.close(fd)


def _mask(r: _Root, path: str, null: str) -> None:
    """Hide `path`: an empty read-only tmpfs over a directory, `null` (the container's
    /dev/null) over anything else."""
    import stat

    fd = r.target(path, create=False)
    if fd is None:
        return
    try:
        at = f"/proc/self/fd/{fd}"
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            r.sc.mount("tmpfs", at, "tmpfs", S.MS_RDONLY, "size=0")
        else:
            r.sc.mount(null, at, None, S.MS_BIND)
    finally:
        os.close(fd)


def pivot(rootfs: str, sc: "S.Syscalls | None" = None) -> None:
    """Make `rootfs` (a mount point) the root and detach the old root entirely."""
    sc = sc or S.Syscalls()
    old = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    new = os.open(rootfs, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fchdir(new)
        # pivot_root(".", "."): the old root ends up stacked on the new one, no directory needed
        sc.pivot_root(".", ".")
        os.fchdir(old)
        sc.mount(None, ".", None, S.MS_SLAVE | S.MS_REC)  # keep the unmount from propagating
        sc.umount2(".", S.MNT_DETACH)
        os.chdir("/")
    finally:
        os.close(old)
        os.close(new)
