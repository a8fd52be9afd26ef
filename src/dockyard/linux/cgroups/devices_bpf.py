"""Device access rules on cgroup v2: an eBPF program of type CGROUP_DEVICE, assembled here.

v2 has no devices.allow file; the kernel runs a BPF program attached to the cgroup for
every device open and mknod. `assemble` turns Docker's rule strings ("c 1:3 rwm",
"b *:* m") into that program — deny unless an allow rule matches — and `attach` loads it
with bpf(2) and attaches it to a cgroup directory.
"""

import os
import struct

# bpf_cgroup_dev_ctx: u32 access_type (access << 16 | type), u32 major, u32 minor
_DEV_BLOCK, _DEV_CHAR = 1, 2
_ACC = {"m": 1, "r": 2, "w": 4}
_PROG_TYPE_CGROUP_DEVICE = 15
_ATTACH_CGROUP_DEVICE = 6
_BPF_PROG_LOAD, _BPF_PROG_ATTACH = 5, 8
_BPF_NR = {"x86_64": 321, "aarch64": 280}

# eBPF opcodes used
_LDXW = 0x61  # r_dst = *(u32 *)(r_src + off)
_AND64_K = 0x57
_RSH64_K = 0x77
_MOV64_K = 0xB7
_MOV64_X = 0xBF
_JNE_K = 0x55
_EXIT = 0x95


def parse_rule(rule: str) -> tuple[int, int, int, int]:
    """("c 1:3 rwm") -> (type 0=any|1|2, major or -1, minor or -1, access bits)."""
    from dockyard.errors import InvalidArgument

    try:
        kind, nums, access = rule.split()
        major_s, minor_s = nums.split(":")
        kinds = {"a": 0, "b": _DEV_BLOCK, "c": _DEV_CHAR}
        major = -1 if major_s == "*" else int(major_s)
        minor = -1 if minor_s == "*" else int(minor_s)
        acc = 0
        for ch in access:
            acc |= _ACC[ch]
        if kind not in kinds or not access or major < -1 or minor < -1:
            raise ValueError
    except (ValueError, KeyError):
        raise InvalidArgument(f"invalid device rule {rule!r}")
    return kinds[kind], major, minor, acc


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def assemble(rules: "tuple[str, ...] | list[str]") -> bytes:
    """The program: allow when any rule matches the request, else deny."""
    prog = [
        _insn(_LDXW, 2, 1, 0),  # r2 = access_type
        _insn(_AND64_K, 2, imm=0xFFFF),  # r2 = device type
        _insn(_LDXW, 3, 1, 0),
        _insn(_RSH64_K, 3, imm=16),  # r3 = requested access
        _insn(_LDXW, 4, 1, 4),  # r4 = major
        _insn(_LDXW, 5, 1, 8),  # r5 = minor
    ]
    for rule in rules:
        kind, major, minor, acc = parse_rule(rule)
        block: list[tuple] = []
        if kind:
            block.append((_JNE_K, 2, 0, kind))
        if major >= 0:
            block.append((_JNE_K, 4, 0, major))
        if minor >= 0:
            block.append((_JNE_K, 5, 0, minor))
        if acc != 7:
            block.append((_MOV64_X, 6, 3, None))
            block.append((_AND64_K, 6, 0, ~acc & 0x7))
            block.append((_JNE_K, 6, 0, 0))
        block.append((_MOV64_K, 0, 0, 1))
        block.append((_EXIT, 0, 0, 0))
        n = len(block)
        for i, (code, dst, src, imm) in enumerate(block):
            if code == _JNE_K:
                # a failed test skips the rest of this rule's block
                prog.append(_insn(code, dst, src, n - i - 1, imm))
            else:
                prog.append(_insn(code, dst, src, 0, imm or 0))
    prog.append(_insn(_MOV64_K, 0, imm=0))
    prog.append(_insn(_EXIT))
    return b"".join(prog)


def _bpf(cmd: int, attr: bytes) -> int:
    import ctypes

    from dockyard.errors import Unsupported

    nr = _BPF_NR.get(os.uname().machine)
    if nr is None:
        raise Unsupported("bpf(2): unknown syscall number on this machine")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    buf = ctypes.create_string_buffer(attr, len(attr))
    rc = libc.syscall(ctypes.c_long(nr), ctypes.c_int(cmd), buf, ctypes.c_uint(len(attr)))
    if rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), f"bpf({cmd})")
    return rc


def attach(cgroup_dir: str, rules: "tuple[str, ...] | list[str]") -> None:
    """Load the program for `rules` and attach it to the v2 cgroup at `cgroup_dir`."""
    import ctypes

    code = assemble(rules)
    insns = ctypes.create_string_buffer(code, len(code))
    license = ctypes.create_string_buffer(b"Apache-2.0")
    attr = struct.pack(
        "<IIQQIIQII16sII",
        _PROG_TYPE_CGROUP_DEVICE,
        len(code) // 8,
        ctypes.addressof(insns),
        ctypes.addressof(license),
        0,
        0,
        0,
        0,
        0,
        b"dockyard_dev",
        0,
        _ATTACH_CGROUP_DEVICE,
    ).ljust(128, b"\0")
    prog_fd = _bpf(_BPF_PROG_LOAD, attr)
    try:
        cg_fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            _bpf(
                _BPF_PROG_ATTACH,
                struct.pack("<IIII", cg_fd, prog_fd, _ATTACH_CGROUP_DEVICE, 0).ljust(32, b"\0"),
            )
        finally:
            os.close(cg_fd)
    finally:
        os.close(prog_fd)  # the attachment keeps the program alive
