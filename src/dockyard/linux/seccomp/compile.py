"""Compile a resolved seccomp profile to classic BPF: the system libseccomp builds the
filter (ctypes) and `bpfgen` rewrites its export compactly.

Only used off the start path: building a filter costs milliseconds, so the result is cached
(`cache`) and containers load the bytes directly.
"""

import os

from dockyard.linux.seccomp.profile import ACTIONS, EPERM, OPS, Resolved

_ACT_BASE = {
    "SCMP_ACT_KILL": 0x00000000,
    "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_ERRNO": 0x00050000,
    "SCMP_ACT_TRACE": 0x7FF00000,
    "SCMP_ACT_LOG": 0x7FFC0000,
    "SCMP_ACT_ALLOW": 0x7FFF0000,
}
_NR_SCMP_ERROR = -1


def action_value(action: str, errno: int | None = None) -> int:
    """libseccomp's 32-bit action code; ERRNO/TRACE carry `errno` (EPERM when absent)."""
    from dockyard.errors import InvalidArgument

    if action not in ACTIONS:
        raise InvalidArgument(f"seccomp: unknown action {action!r}")
    base = _ACT_BASE[action]
    if action in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        return base | ((EPERM if errno is None else errno) & 0xFFFF)
    return base


def _lib():
    import ctypes

    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_native.restype = ctypes.c_uint32
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_void_p,
    ]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def libseccomp_version() -> str:
    """ "2.5.4": part of the cache location, since another version may emit other bytes."""
    import ctypes

    class Version(ctypes.Structure):
        _fields_ = (("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint))

    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_version.restype = ctypes.POINTER(Version)
    v = lib.seccomp_version().contents
    return f"{v.major}.{v.minor}.{v.micro}"


def _conditions(args) -> list[list]:
    """Docker/runc semantics: conditions on distinct arguments are ANDed in one rule;
    several conditions on the same argument become separate rules (ORed)."""
    indexes = [a.index for a in args]
    if len(set(indexes)) == len(indexes):
        return [list(args)]
    return [[a] for a in args]


def compile_bpf(resolved: Resolved) -> bytes:
    """The BPF program (raw `struct sock_filter` array) for `resolved`: libseccomp's,
    made compact by `bpfgen` (same decision for every input), or as exported where bpfgen
    does not understand its structure."""
    from dockyard.linux.seccomp import bpfgen

    exported = export_bpf(resolved)
    try:
        return bpfgen.compact(exported)
    except bpfgen.Unreproducible:
        return exported


def export_bpf(resolved: Resolved) -> bytes:
    """libseccomp's program for `resolved` (seccomp_export_bpf)."""
    import ctypes

    from dockyard.errors import InvalidArgument, Unsupported

    class ArgCmp(ctypes.Structure):
        _fields_ = (
            ("arg", ctypes.c_uint),
            ("op", ctypes.c_int),
            ("datum_a", ctypes.c_uint64),
            ("datum_b", ctypes.c_uint64),
        )

    try:
        lib = _lib()
    except OSError as e:
        raise Unsupported(f"seccomp: libseccomp is not available: {e}")
    default = action_value(resolved.default_action, resolved.default_errno)
    ctx = lib.seccomp_init(default)
    if not ctx:
        raise InvalidArgument(f"seccomp: bad default action {resolved.default_action}")
    try:
        for arch in resolved.arches:
            token = lib.seccomp_arch_resolve_name(arch.removeprefix("SCMP_ARCH_").lower().encode())
            if token == 0:
                raise InvalidArgument(f"seccomp: unknown architecture {arch}")
            rc = lib.seccomp_arch_add(ctx, token)
            if rc not in (0, -17):  # -EEXIST: the native arch is already there
                raise InvalidArgument(
                    f"seccomp: cannot add architecture {arch}: {os.strerror(-rc)}"
                )
        for rule in resolved.rules:
            act = action_value(rule.action, rule.errno_ret)
            if act == default:
                continue  # libseccomp refuses rules that repeat the default action
            for name in rule.names:
                nr = lib.seccomp_syscall_resolve_name(name.encode())
                if nr == _NR_SCMP_ERROR:
                    continue  # unknown to this libseccomp: as Docker does, skip it
                for conds in _conditions(rule.args):
                    arr = (ArgCmp * max(len(conds), 1))()
                    for i, a in enumerate(conds):
                        if a.op not in OPS:
                            raise InvalidArgument(f"seccomp: unknown operator {a.op!r}")
                        if not 0 <= a.index <= 5:
                            raise InvalidArgument(f"seccomp: argument index {a.index} out of range")
                        arr[i] = ArgCmp(a.index, OPS.index(a.op) + 1, a.value, a.value_two)
                    rc = lib.seccomp_rule_add_array(ctx, act, nr, len(conds), arr)
                    if rc < 0:
                        raise InvalidArgument(
                            f"seccomp: cannot add rule for {name}: {os.strerror(-rc)}"
                        )
        fd = os.memfd_create("dockyard-seccomp", os.MFD_CLOEXEC)
        try:
            rc = lib.seccomp_export_bpf(ctx, fd)
            if rc < 0:
                raise InvalidArgument(f"seccomp: export failed: {os.strerror(-rc)}")
            size = os.lseek(fd, 0, os.SEEK_END)
            return os.pread(fd, size, 0)
        finally:
            os.close(fd)
    finally:
        lib.seccomp_release(ctx)
