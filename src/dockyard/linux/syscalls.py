"""A small ctypes binding to the Linux system calls Python 3.11 does not expose.

`Syscalls` loads libc on first use, through `dockyard.cdata` (ctypes' types over the `_ctypes`
C module: the `ctypes` package costs milliseconds to import), imported inside the methods,
never at module load. Every failure raises `OSError` carrying the
errno, its strerror and the call that failed (as the error's `filename`), so callers can
test `e.errno` and users read which call broke.
"""

import os
import sys

# Namespace flags (clone(2), unshare(2), setns(2)).
CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACE_FLAGS = (
    CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_NEWTIME
)

# mount(2) flags.
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_MANDLOCK = 64
MS_DIRSYNC = 128
MS_NOSYMFOLLOW = 256
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_SILENT = 32768
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_FORCE = 1
MNT_DETACH = 2

# prctl(2) options.
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

CLONE_INTO_CGROUP = 0x200000000
_NR_CLONE3 = 435  # the same on every architecture
_NR_OPENAT2 = 437  # the same on every architecture
# openat2(2) resolve flags
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
CLOSE_RANGE_CLOEXEC = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# Calls glibc has no wrapper for, by machine: (clone, seccomp).
_NUMBERS = {"x86_64": (56, 317), "aarch64": (220, 277)}


def _raise(call: str) -> None:
    from dockyard import cdata as C

    err = C.get_errno()
    raise OSError(err, os.strerror(err), call)


def _single_threaded() -> bool:
    """True when the process has one OS thread.

    A Python thread that was just joined can still be listed in /proc/self/task for a moment
    while the kernel tears it down, so when Python itself runs no other thread, wait briefly
    for such stragglers rather than refuse.
    """
    if len(os.listdir("/proc/self/task")) == 1:
        return True
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False
    import time

    for _ in range(200):
        time.sleep(0.0005)
        if len(os.listdir("/proc/self/task")) == 1:
            return True
    return False


# the libc functions a container's init calls between its clone and its exec
_INIT_CALLS = ("prctl", "mount", "umount2", "pivot_root", "sethostname", "setdomainname",
               "capget", "capset", "close_range", "syscall", "setns")  # fmt: skip


class Syscalls:
    """The kernel calls the privileged layer needs; one instance is passed down."""

    def __init__(self) -> None:
        self._libc = None
        self._pylibc = None

    def prepare(self) -> None:
        """Load libc now, ahead of the calls, with the functions a container's init calls
        looked up: an init cloned from here then finds them made (each is a new object,
        and in a child every new object costs copy-on-write faults)."""
        from dockyard import cdata as C

        libc = self._lib()
        for name in _INIT_CALLS:
            try:
                getattr(libc, name)
            except AttributeError:
                pass  # an older libc: looked up (and refused) when called
        libc.syscall.restype = C.c_long
        if self._pylibc is None:
            self._pylibc = C.PyDLL(None, use_errno=True)
            self._pylibc.syscall.restype = C.c_long

    def _lib(self):
        if self._libc is None:
            from dockyard import cdata as C

            self._libc = C.CDLL(None, use_errno=True)
        return self._libc

    def _number(self, which: int) -> int:
        machine = os.uname().machine
        if machine not in _NUMBERS:
            from dockyard.errors import Unsupported

            raise Unsupported(f"no syscall table for machine {machine}")
        return _NUMBERS[machine][which]

    # --- namespaces ---------------------------------------------------------------
    def unshare(self, flags: int) -> None:
        if self._lib().unshare(flags) != 0:
            _raise(f"unshare({flags:#x})")

    def setns(self, fd: int, nstype: int = 0) -> None:
        if self._lib().setns(fd, nstype) != 0:
            _raise(f"setns({nstype:#x})")

    def clone(self, flags: int, cgroup_fd: int | None = None) -> int:
        """fork(2) into new namespaces in one clone(2); returns 0 in the child, the pid in the parent.

        With `cgroup_fd` (a cgroup v2 directory), clone3(CLONE_INTO_CGROUP) starts the child
        in that cgroup, with no migration afterwards.

        Safe in CPython only when the process has a single thread: the interpreter's fork
        hooks run around the raw call exactly as `os.fork` runs them, and with one thread no
        libc lock can be held by someone who does not exist in the child.
        """
        if flags & ~NAMESPACE_FLAGS:
            from dockyard.errors import InvalidArgument

            raise InvalidArgument(f"clone: only namespace flags are allowed, got {flags:#x}")
        if not _single_threaded():
            from dockyard.errors import FailedPrecondition

            raise FailedPrecondition("clone: the process has several threads; use unshare + fork")
        import _signal as signal  # the C module: `signal` imports enum

        from dockyard import cdata as C

        if self._pylibc is None:
            # PyDLL keeps the GIL held across the call, as os.fork does.
            self._pylibc = C.PyDLL(None, use_errno=True)
            self._pylibc.syscall.restype = C.c_long
        if cgroup_fd is None:
            args = (
                C.c_long(self._number(0)),
                C.c_ulong(flags | signal.SIGCHLD),
                C.c_ulong(0),
                C.c_void_p(None),
                C.c_void_p(None),
                C.c_ulong(0),
            )
        else:
            # struct clone_args (v2, 88 bytes): flags, pidfd, child_tid, parent_tid,
            # exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup
            cargs = (C.c_uint64 * 11)(
                flags | CLONE_INTO_CGROUP, 0, 0, 0, signal.SIGCHLD, 0, 0, 0, 0, 0, cgroup_fd
            )
            args = (C.c_long(_NR_CLONE3), cargs, C.c_size_t(88))
        api = C.pythonapi()
        api.PyOS_BeforeFork()
        pid = self._pylibc.syscall(*args)
        if pid == 0:
            api.PyOS_AfterFork_Child()
            return 0
        err = C.get_errno()
        api.PyOS_AfterFork_Parent()
        if pid < 0:
            raise OSError(err, os.strerror(err), f"clone({flags:#x})")
        return pid

    def fork_into(self, flags: int) -> int:
        """unshare(flags) + fork: the portable (slower) twin of `clone`, for any process.

        The calling process itself moves into every namespace but the pid one, so call it in a
        process that is about to become the container's parent and nothing else.
        """
        self.unshare(flags)
        return os.fork()

    # --- mounts -------------------------------------------------------------------
    def mount(
        self,
        source: str | None,
        target: str,
        fstype: str | None = None,
        flags: int = 0,
        data: str | None = None,
    ) -> None:
        def enc(s: str | None) -> bytes | None:
            return None if s is None else os.fsencode(s)

        if self._lib().mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
            _raise(f"mount {source or fstype or ''} on {target} ({fstype or ''}, {flags:#x})")

    def umount2(self, target: str, flags: int = 0) -> None:
        if self._lib().umount2(os.fsencode(target), flags) != 0:
            _raise(f"umount2 {target}")

    def pivot_root(self, new_root: str, put_old: str) -> None:
        if self._lib().pivot_root(os.fsencode(new_root), os.fsencode(put_old)) != 0:
            _raise(f"pivot_root {new_root}")

    def mknod(self, path: str, mode: int, major: int, minor: int) -> None:
        os.mknod(path, mode, os.makedev(major, minor))

    # --- identity -----------------------------------------------------------------
    def sethostname(self, name: str) -> None:
        b = name.encode()
        if self._lib().sethostname(b, len(b)) != 0:
            _raise("sethostname")

    def setdomainname(self, name: str) -> None:
        b = name.encode()
        if self._lib().setdomainname(b, len(b)) != 0:
            _raise("setdomainname")

    # --- prctl --------------------------------------------------------------------
    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        from dockyard import cdata as C

        u = C.c_ulong
        rc = self._lib().prctl(option, u(arg2), u(arg3), u(arg4), u(arg5))
        if rc < 0:
            _raise(f"prctl({option})")
        return rc

    def set_no_new_privs(self) -> None:
        self.prctl(PR_SET_NO_NEW_PRIVS, 1)

    def get_no_new_privs(self) -> bool:
        return self.prctl(PR_GET_NO_NEW_PRIVS) == 1

    def capbset_drop(self, cap: int) -> None:
        self.prctl(PR_CAPBSET_DROP, cap)

    def clear_ambient(self) -> None:
        self.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)

    def set_dumpable(self, on: bool) -> None:
        self.prctl(PR_SET_DUMPABLE, 1 if on else 0)

    def set_pdeathsig(self, sig: int) -> None:
        self.prctl(PR_SET_PDEATHSIG, sig)

    def set_keepcaps(self, keep: bool) -> None:
        self.prctl(PR_SET_KEEPCAPS, 1 if keep else 0)

    def set_child_subreaper(self, on: bool) -> None:
        self.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0)

    def get_child_subreaper(self) -> bool:
        from dockyard import cdata as C

        val = C.c_int(0)
        self.prctl(PR_GET_CHILD_SUBREAPER, C.addressof(val))
        return val.value != 0

    # --- capabilities -------------------------------------------------------------
    def capget(self, pid: int = 0) -> tuple[int, int, int]:
        """(effective, permitted, inheritable) of `pid` (0 = self) as 64-bit masks."""
        from dockyard import cdata as C

        hdr = (C.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, pid)
        data = (C.c_uint32 * 6)()
        if self._lib().capget(hdr, data) != 0:
            _raise("capget")
        return (
            data[0] | data[3] << 32,
            data[1] | data[4] << 32,
            data[2] | data[5] << 32,
        )

    def capset(self, effective: int, permitted: int, inheritable: int = 0) -> None:
        from dockyard import cdata as C

        lo, hi = 0xFFFFFFFF, 32
        hdr = (C.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (C.c_uint32 * 6)(
            effective & lo,
            permitted & lo,
            inheritable & lo,
            effective >> hi & lo,
            permitted >> hi & lo,
            inheritable >> hi & lo,
        )
        if self._lib().capset(hdr, data) != 0:
            _raise("capset")

    # --- seccomp, fds -------------------------------------------------------------
    def seccomp_set_filter(self, bpf: bytes, flags: int = 0) -> None:
        """Install a classic-BPF program (raw `struct sock_filter` array) as a seccomp filter."""
        from dockyard import cdata as C

        if not bpf or len(bpf) % 8:
            from dockyard.errors import InvalidArgument

            raise InvalidArgument("seccomp: BPF program must be a non-empty multiple of 8 bytes")

        # struct sock_fprog { unsigned short len; struct sock_filter *filter; } (LP64), laid
        # out by hand: a ctypes Structure class costs ~0.1 ms to make, in every init
        code = C.c_char_p(bpf)  # points into `bpf`, which outlives the call
        ptr = C.c_void_p.from_address(C.addressof(code)).value
        prog = (
            (len(bpf) // 8).to_bytes(2, sys.byteorder) + bytes(6) + ptr.to_bytes(8, sys.byteorder)
        )
        libc = self._lib()
        libc.syscall.restype = C.c_long
        rc = libc.syscall(
            C.c_long(self._number(1)),
            C.c_ulong(SECCOMP_SET_MODE_FILTER),
            C.c_ulong(flags),
            prog,
        )
        if rc != 0:
            _raise("seccomp(SECCOMP_SET_MODE_FILTER)")

    def openat2(self, dirfd: int, path: str, flags: int, resolve: int, mode: int = 0) -> int:
        """openat2(2): open `path` relative to `dirfd` under the `resolve` restrictions
        (RESOLVE_IN_ROOT: as if `dirfd` were the root, symlinks and ".." included)."""
        from dockyard import cdata as C

        how = (C.c_uint64 * 3)(flags, mode, resolve)
        libc = self._lib()
        libc.syscall.restype = C.c_long
        fd = libc.syscall(
            C.c_long(_NR_OPENAT2), C.c_int(dirfd), os.fsencode(path), how,
            C.c_size_t(24),
        )  # fmt: skip
        if fd < 0:
            _raise(f"openat2 {path}")
        return fd

    def close_range(self, first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
        from dockyard import cdata as C

        u = C.c_uint
        if self._lib().close_range(u(first), u(last), C.c_int(flags)) != 0:
            _raise(f"close_range({first}, {last})")
