"""The compact seccomp program (`bpfgen.compact`) against libseccomp's own export.

`compact` keeps libseccomp's decisions by construction (it re-dispatches on arch and nr and
copies the argument checks); these tests check that independently. The heart is a
differential test: a small classic-BPF interpreter runs both programs on `seccomp_data`
inputs — every architecture libseccomp handles here, in the filter or not, plus bogus ones;
every syscall number below 1024, the same with the x32 bit, boundary numbers; and for the
syscalls whose decision reads arguments, values at and around every constant and mask of
the profile (hi and lo words) plus random ones — and both must return the same action every
time. Then the kernel: our program for the default profile loads and refuses what it should.
"""

import json
import os
import random
import struct

import pytest

from dockyard.errors import InvalidArgument
from dockyard.linux import caps
from dockyard.linux.seccomp import bpfgen, cache, compile, default, dockerjson, profile

U32 = 0xFFFFFFFF
U64 = (1 << 64) - 1
X32_BIT = 0x40000000
AUDIT = {  # seccomp_data.arch values of the architectures libseccomp knows here
    "SCMP_ARCH_X86_64": 0xC000003E,
    "SCMP_ARCH_X86": 0x40000003,
    "SCMP_ARCH_AARCH64": 0xC00000B7,
    "SCMP_ARCH_ARM": 0x40000028,
    "SCMP_ARCH_RISCV64": 0xC00000F3,
}
BOGUS_ARCHES = (0, 0x4000003E, 0xC0000028, U32)
NRS = (
    list(range(1024))
    + [X32_BIT + n for n in range(1024)]
    + [1024, 4095, 0x3FFFFFFF, X32_BIT + 0xFFFF, 0x7FFFFFFF, 0x80000000, U32 - 1, U32]
)


# ---- a classic BPF interpreter (only what seccomp programs here use) ---------------------

JUMPS = {0x15: "jeq", 0x25: "jgt", 0x35: "jge", 0x45: "jset"}


def decode(prog: bytes) -> list[tuple[int, int, int, int]]:
    """The instructions, checked: known opcodes, aligned loads inside seccomp_data, jumps
    forward and inside the program, and every path ending in RET."""
    assert prog and len(prog) % 8 == 0 and len(prog) // 8 <= 4096
    insns = [struct.unpack_from("<HBBI", prog, i) for i in range(0, len(prog), 8)]
    for pc, (code, jt, jf, k) in enumerate(insns):
        if code == 0x20:
            assert k % 4 == 0 and k < 64, f"load of {k} at {pc}"
        elif code in JUMPS:
            assert pc + 1 + max(jt, jf) < len(insns), f"jump out at {pc}"
        elif code == 0x05:
            assert pc + 1 + k < len(insns), f"ja out at {pc}"
        elif code not in (0x06, 0x54, 0x44, 0x14):
            raise AssertionError(f"opcode {code:#x} at {pc} not understood")
    assert insns[-1][0] in (0x06, 0x05) or insns[-1][0] in JUMPS
    return insns


def run(insns, words, pc: int = 0) -> tuple[int, int]:
    """(returned value, pc of the first load of an argument word or -1) for the
    seccomp_data given as its 16 little-endian 32-bit words."""
    acc, first_arg = 0, -1
    while True:
        code, jt, jf, k = insns[pc]
        if code == 0x20:  # ld [k]
            if k >= 16 and first_arg < 0:
                first_arg = pc
            acc = words[k >> 2]
        elif code == 0x06:  # ret k
            return k, first_arg
        elif code == 0x05:  # ja
            pc += k
        elif code == 0x15:
            pc += jt if acc == k else jf
        elif code == 0x25:
            pc += jt if acc > k else jf
        elif code == 0x35:
            pc += jt if acc >= k else jf
        elif code == 0x45:
            pc += jt if acc & k else jf
        elif code == 0x54:
            acc &= k
        elif code == 0x44:
            acc |= k
        elif code == 0x14:
            acc = (acc - k) & U32
        pc += 1


def words(nr: int, arch: int, args=(0,) * 6) -> list[int]:
    out = [nr, arch, 0x1000, 0x7F00]
    for a in args:
        out += [a & U32, a >> 32]
    return out


# ---- the differential check ---------------------------------------------------------------


def arg_values(resolved) -> list[int]:
    """Values at and around every constant and mask of the profile, hi and lo words."""
    consts = {0, 1, U32, U32 + 1, U64, 1 << 63, 1 << 32}
    for r in resolved.rules:
        for a in r.args:
            consts |= {a.value, a.value_two, a.value_two & a.value, a.value & ~a.value_two & U64}
    out = set()
    for c in consts:
        lo, hi = c & U32, c >> 32
        for v in (c, lo, hi, hi << 32, lo << 32, c ^ (1 << 32), c | (1 << 40), ~c & U64):
            out |= {(v + d) & U64 for d in (-1, 0, 1)}
    return sorted(out)


def arg_vectors(resolved, rng) -> list[tuple[int, ...]]:
    """Each interesting value on each argument a rule looks at (the others 0), pairs of
    them on two such arguments, and mixtures and random words on all six."""
    values = arg_values(resolved)
    indexes = sorted({a.index for r in resolved.rules for a in r.args})
    vecs = set()
    for i in indexes:
        for v in values:
            vecs.add(tuple(v if j == i else 0 for j in range(6)))
    for i in indexes:
        for j in indexes:
            if i < j:
                for _ in range(600):
                    vec = [0] * 6
                    vec[i], vec[j] = rng.choice(values), rng.choice(values)
                    vecs.add(tuple(vec))
    for _ in range(400):
        vecs.add(tuple(rng.choice(values) for _ in range(6)))
        vecs.add(tuple(rng.getrandbits(64) for _ in range(6)))
    return sorted(vecs)


def assert_same_decisions(resolved, ours: bytes, theirs: bytes, seed: int = 7) -> int:
    """Both programs agree on every input of the test set; returns how many were run.

    Until a program first loads an argument word its path depends on arch and nr only, so
    argument inputs resume both programs there."""
    a, b = decode(ours), decode(theirs)
    rng = random.Random(seed)
    arches = sorted(AUDIT.values()) + list(BOGUS_ARCHES)  # in the filter or not
    checked, with_args = 0, []
    for arch in arches:
        for nr in NRS:
            w = words(nr, arch)
            want, b_at = run(b, w)
            got, a_at = run(a, w)
            assert got == want, f"arch {arch:#x} nr {nr:#x}: {got:#x} != {want:#x}"
            checked += 1
            if a_at >= 0 or b_at >= 0:
                with_args.append((nr, arch, max(a_at, 0), max(b_at, 0)))
    if with_args:
        vecs = arg_vectors(resolved, rng)
        for nr, arch, a_at, b_at in with_args:
            for vec in vecs:
                w = words(nr, arch, vec)
                want, got = run(b, w, b_at)[0], run(a, w, a_at)[0]
                assert got == want, f"arch {arch:#x} nr {nr:#x} args {vec}: {got:#x}"
                checked += 1
    return checked


def libseccomp(resolved) -> bytes:
    return compile.export_bpf(resolved)


def ours(resolved) -> bytes:
    return bpfgen.compact(libseccomp(resolved))


def _default_for(*add, kernel="6.1.0"):
    c = caps.names(caps.resolve(cap_add=list(add)))
    return profile.resolve(default.default_profile(), c, "x86_64", kernel)


def _json(doc, caps_=(), machine="x86_64"):
    text = doc if isinstance(doc, str) else json.dumps(doc)
    return profile.resolve(dockerjson.parse(text.encode()), caps_, machine, "6.1.0")


def _check(resolved) -> tuple[int, int]:
    """(our instructions, libseccomp's), after the differential check."""
    mine, theirs = ours(resolved), libseccomp(resolved)
    assert assert_same_decisions(resolved, mine, theirs) > 2000
    # and rewriting our own program changes nothing either
    assert_same_decisions(resolved, bpfgen.compact(mine), mine)
    return len(mine) // 8, len(theirs) // 8


@pytest.mark.parametrize(
    "add",
    [(), ("ALL",), ("SYS_ADMIN",), ("SYS_PTRACE",)],
    ids=["default-caps", "all-caps", "plus-sys-admin", "plus-sys-ptrace"],
)
def test_default_profile_decides_as_libseccomp_in_a_quarter_of_the_size(add):
    n, theirs = _check(_default_for(*add))
    assert n < 240 and n * 4 < theirs


def test_default_profile_on_this_kernel_and_an_old_one():
    _check(profile.resolve(default.default_profile(), caps.names(caps.resolve())))
    _check(_default_for(kernel="4.4.0"))


ALL_ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
OPS = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT"]
BIG = [0, 1, 5, 0xFFFFFFFF, 0x100000000, 0x100000005, 0xFFFFFFFFFFFFFFF0, U64]


def _rule(names, action="SCMP_ACT_ALLOW", args=(), **kw):
    r = {"names": list(names), "action": action, "args": [dict(a) for a in args]}
    r.update(kw)
    return r


def _arg(index, op, value, two=0):
    return {"index": index, "op": op, "value": value, "valueTwo": two}


CUSTOM = {
    # the profiles other tests use
    "deny-mkdir": {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [_rule(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO")],
    },
    "json-round-trip": {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [
            _rule(["read", "write"]),
            _rule(["kill"], "SCMP_ACT_ERRNO", errnoRet=13),
            _rule(["personality"], args=[_arg(0, "SCMP_CMP_EQ", 8)]),
        ],
    },
    "unknown-names": {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [_rule(["read", "no_such_call_at_all"])],
    },
    # every operator, 64-bit constants, on the three x86 ABIs
    "every-op": {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ALL_ARCHES,
        "syscalls": [
            _rule([name], args=[_arg(1, op, v)])
            for name, op, v in zip(
                ["read", "write", "close", "lseek", "mmap", "brk", "ioctl", "pread64"],
                [*OPS, "SCMP_CMP_GT", "SCMP_CMP_LT"],
                BIG,
                strict=True,
            )
        ]
        + [
            _rule(["dup"], args=[_arg(0, "SCMP_CMP_MASKED_EQ", 0xF0, 0x30)]),
            _rule(["dup2"], args=[_arg(0, "SCMP_CMP_MASKED_EQ", 0xFF00000000, 0x1200000000)]),
            _rule(["dup3"], args=[_arg(2, "SCMP_CMP_MASKED_EQ", 0, 0)]),
        ],
    },
    # conditions on distinct arguments ANDed; several on one argument ORed (Docker's way)
    "and-or": {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ALL_ARCHES,
        "syscalls": [
            _rule(
                ["fcntl"],
                args=[
                    _arg(0, "SCMP_CMP_GE", 3),
                    _arg(1, "SCMP_CMP_EQ", 0x100000001),
                    _arg(2, "SCMP_CMP_MASKED_EQ", 0xFFFF, 0x8000),
                ],
            ),
            _rule(["kill"], args=[_arg(1, "SCMP_CMP_NE", 9), _arg(1, "SCMP_CMP_NE", 19)]),
            _rule(
                ["tgkill"],
                args=[
                    _arg(2, "SCMP_CMP_NE", 9),
                    _arg(2, "SCMP_CMP_NE", 19),
                    _arg(0, "SCMP_CMP_LE", 1),
                ],
            ),
            _rule(["prctl"], args=[_arg(0, "SCMP_CMP_EQ", 15)]),
            _rule(["prctl"], args=[_arg(0, "SCMP_CMP_GT", 0x1FFFFFFFF)]),
            _rule(["prctl"], args=[_arg(1, "SCMP_CMP_LT", 3)]),
            _rule(["prctl"], args=[_arg(0, "SCMP_CMP_LE", 4), _arg(3, "SCMP_CMP_GE", 7)]),
        ],
    },
    # default ALLOW with a list of errnos, and every action
    "actions": {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ALL_ARCHES,
        "syscalls": [
            _rule(["mkdir"], "SCMP_ACT_ERRNO", errnoRet=13),
            _rule(["rmdir"], "SCMP_ACT_ERRNO", errnoRet=30),
            _rule(["unlink"], "SCMP_ACT_ERRNO"),
            _rule(["mount"], "SCMP_ACT_KILL_PROCESS"),
            _rule(["umount2"], "SCMP_ACT_KILL_THREAD"),
            _rule(["reboot"], "SCMP_ACT_KILL"),
            _rule(["ptrace"], "SCMP_ACT_TRAP"),
            _rule(["uname"], "SCMP_ACT_LOG"),
            _rule(["sethostname"], "SCMP_ACT_TRACE", errnoRet=7),
            _rule(
                ["chmod"], "SCMP_ACT_ERRNO", args=[_arg(1, "SCMP_CMP_MASKED_EQ", 0o4000, 0o4000)]
            ),
            _rule(["chmod"], "SCMP_ACT_ERRNO", args=[_arg(1, "SCMP_CMP_GT", 0o7777)]),
        ],
    },
    # one syscall, rules with different actions (libseccomp's own order decides)
    "mixed-actions": {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ALL_ARCHES,
        "syscalls": [
            _rule(["openat"], args=[_arg(2, "SCMP_CMP_MASKED_EQ", 3, 0)]),
            _rule(["openat"], "SCMP_ACT_ERRNO", errnoRet=30),
            _rule(["write"], "SCMP_ACT_LOG", args=[_arg(0, "SCMP_CMP_EQ", 2)]),
            _rule(["write"], args=[_arg(0, "SCMP_CMP_LT", 3)]),
        ],
    },
    # x86 multiplexes socket and ipc calls through socketcall/ipc with arg0 the call
    "multiplexed": {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ALL_ARCHES,
        "syscalls": [
            _rule(["socket"], "SCMP_ACT_ERRNO", args=[_arg(0, "SCMP_CMP_EQ", 40)]),
            _rule(["socketpair", "accept4"], "SCMP_ACT_ERRNO", errnoRet=97),
            _rule(["semop", "shmget"], "SCMP_ACT_ERRNO", args=[_arg(1, "SCMP_CMP_GE", 5)]),
            _rule(["msgget"], "SCMP_ACT_TRAP"),
        ],
    },
    "arm-and-riscv-sections": {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_RISCV64"],
        "syscalls": [
            _rule(["read", "write", "openat", "cacheflush"]),
            _rule(["personality"], args=[_arg(0, "SCMP_CMP_EQ", 8)]),
        ],
    },
}


@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_custom_profiles_decide_as_libseccomp(name):
    _check(_json(CUSTOM[name]))


def test_docker_default_resolved_for_an_arm64_machine():
    r = profile.resolve(default.default_profile(), caps.names(caps.resolve()), "aarch64", "6.1")
    assert r.arches == ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM")
    _check(r)


def _random_profile(rng) -> dict:
    pool = [*BIG, 2, 0xFF, 0x80000000, 0x7E020000, 0x1FFFFFFFF]
    names = ["personality", "socket", "mkdir", "semop", "read", "kill", "ioctl", "accept4"]
    rules = []
    for _ in range(rng.randint(1, 6)):
        args = []
        for i in rng.sample(range(4), rng.randint(0, 3)):
            op = rng.choice([*OPS, "SCMP_CMP_MASKED_EQ"])
            args.append(_arg(i, op, rng.choice(pool), rng.choice(pool)))
        if args and rng.random() < 0.3:
            args.append(dict(args[0], value=rng.choice(pool)))  # again on one argument
        action = rng.choice(["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRAP"])
        rules.append(_rule(rng.sample(names, rng.randint(1, 2)), action, args))
    return {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ALL_ARCHES, "syscalls": rules}


def test_random_profiles_decide_as_libseccomp():
    rng = random.Random(20261128)
    compared = 0
    for _ in range(80):
        r = _json(_random_profile(rng))
        try:
            theirs = libseccomp(r)
        except InvalidArgument:  # rules libseccomp itself refuses (conflicting actions)
            continue
        mine = bpfgen.compact(theirs)
        assert assert_same_decisions(r, mine, theirs, seed=rng.randrange(1 << 30))
        compared += 1
    assert compared >= 50


def test_libseccomp_departures_from_its_rules_are_kept():
    """libseccomp 2.5.4's program is the reference, not the rules: where it departs from
    them, the compact program departs the same way."""
    # two one-condition rules on one argument: the LE check falls through into the GE
    # check with the lo word still loaded, so 0x7E020001 is allowed by neither rule yet
    # allowed by the program
    le_ge = _json(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                _rule(["socket"], args=[_arg(1, "SCMP_CMP_LE", 0x7E020000)]),
                _rule(["socket"], args=[_arg(1, "SCMP_CMP_GE", 0x1FFFFFFFF)]),
            ],
        }
    )
    # x86: a rule on semop adds a pseudo-syscall entry (x86 has no direct semop here)
    # that ranks first and takes the section's syscall-number load with it
    lost_load = _json(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86"],
            "syscalls": [
                _rule(
                    ["write"],
                    "SCMP_ACT_TRAP",
                    [_arg(1, "SCMP_CMP_LE", 2), _arg(3, "SCMP_CMP_GT", 5)],
                ),
                _rule(["semop"], args=[_arg(2, "SCMP_CMP_LE", 0x100000000)]),
            ],
        }
    )
    socket_nr, x86, write_x86 = 41, AUDIT["SCMP_ARCH_X86"], 4
    cases = [
        (le_ge, words(socket_nr, AUDIT["SCMP_ARCH_X86_64"], (0, 0x7E020001, 0, 0, 0, 0))),
        (lost_load, words(write_x86, x86, (0, 1, 0, 6, 0, 0))),
    ]
    for r, w in cases:
        mine, theirs = decode(ours(r)), decode(libseccomp(r))
        assert run(mine, w)[0] == run(theirs, w)[0]
        assert_same_decisions(r, ours(r), libseccomp(r))
    if compile.libseccomp_version() == "2.5.4":
        assert run(decode(libseccomp(le_ge)), cases[0][1])[0] == 0x7FFF0000
        assert run(decode(libseccomp(lost_load)), cases[1][1])[0] == 0x50001  # not TRAP


def test_bad_arch_and_x32_numbers():
    r = _json({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [_rule(["read"])]})
    prog = decode(ours(r))
    x86_64 = AUDIT["SCMP_ARCH_X86_64"]
    assert run(prog, words(0, x86_64))[0] == 0x7FFF0000
    assert run(prog, words(0, AUDIT["SCMP_ARCH_X86"]))[0] == 0  # KILL: not in the filter
    assert run(prog, words(X32_BIT, x86_64))[0] == 0  # no x32 in the filter: a bad arch
    assert run(prog, words(U32, x86_64))[0] == 0x50001  # -1, a tracer's skip: the default
    r = _json({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ALL_ARCHES,
               "syscalls": [_rule(["read"])]})  # fmt: skip
    prog = decode(ours(r))
    assert run(prog, words(X32_BIT, x86_64))[0] == 0x7FFF0000  # x32's read
    assert run(prog, words(X32_BIT + 1, x86_64))[0] == 0x50001


def _ins(code, k=0, jt=0, jf=0):
    return struct.pack("=HBBI", code, jt, jf, k)


@pytest.mark.parametrize(
    "prog",
    [
        b"",
        b"\x06\x00" * 3,  # not whole instructions
        _ins(0x20, 4) + _ins(0x15, 1, 5, 0) + _ins(0x06),  # jumps out of the program
        _ins(0x20, 0) + _ins(0x54, 1) + _ins(0x15, 1, 0, 1) + _ins(0x06) + _ins(0x06, 1),
        _ins(0x20, 0) + _ins(0x45, 1, 0, 1) + _ins(0x06) + _ins(0x06, 1),  # jset on nr
        _ins(0x16),  # ret a
        _ins(0x20, 4) + _ins(0x25, 7, 0, 1) + _ins(0x06) + _ins(0x06, 1),  # arch ranges
        _ins(0x20, 0) + _ins(0x15, 1, 0, 0),  # falls off the end
        _ins(0x20, 4)  # 600 x 600 (arch, nr) cells, each a path through both ladders
        + b"".join(_ins(0x35, k) for k in range(1, 601))
        + _ins(0x20, 0)
        + b"".join(_ins(0x35, k) for k in range(1, 601))
        + _ins(0x06),
    ],
    ids=[
        "empty",
        "ragged",
        "jump-out",
        "alu-on-nr",
        "jset-on-nr",
        "ret-a",
        "arch-range",
        "no-ret",
        "path-explosion",
    ],
)
def test_programs_not_understood_are_refused(prog):
    with pytest.raises(bpfgen.Unreproducible):
        bpfgen.compact(prog)


@pytest.mark.parametrize(
    "prog",
    [
        _ins(0x06, 0x7FFF0000),
        _ins(0x20, 0) + _ins(0x15, 5, 0, 1) + _ins(0x06, 1) + _ins(0x06, 2),
        _ins(0x20, 4) + _ins(0x15, 9, 1, 0) + _ins(0x06, 0) + _ins(0x20, 0)
        + _ins(0x25, 3, 1, 0) + _ins(0x06, 7) + _ins(0x20, 16) + _ins(0x15, 1, 0, 1)
        + _ins(0x06, 8) + _ins(0x06, 9),
    ],
    ids=["one-ret", "no-arch-check", "arch-nr-arg"],
)  # fmt: skip
def test_small_hand_written_programs_keep_their_decisions(prog):
    theirs, mine = decode(prog), decode(bpfgen.compact(prog))
    for arch in (0, 8, 9, 10, U32):
        for nr in (0, 3, 4, 5, 6, U32):
            for arg0 in (0, 1, 2, 1 << 32 | 1):
                w = words(nr, arch, (arg0, 0, 0, 0, 0, 0))
                assert run(mine, w)[0] == run(theirs, w)[0]


def test_compile_keeps_libseccomps_program_when_compact_refuses(monkeypatch):
    r = _default_for()
    exported = compile.export_bpf(r)
    assert compile.compile_bpf(r) == bpfgen.compact(exported)

    def refuse(prog):
        raise bpfgen.Unreproducible("test")

    monkeypatch.setattr(bpfgen, "compact", refuse)
    assert compile.compile_bpf(r) == exported


def test_cache_entries_are_versioned_by_the_generator(tmp_path):
    path = cache.path_for(str(tmp_path), "ab" * 32)
    assert os.path.basename(os.path.dirname(path)).startswith("bpfgen-1-libseccomp-")
    assert cache.path_for(str(tmp_path), "cd" * 32, "9.9.9").endswith(
        "bpfgen-1-libseccomp-9.9.9/" + "cd" * 32 + ".bpf"
    )


# ---- the kernel -----------------------------------------------------------------------------


def test_kernel_loads_our_default_program_and_refuses_what_docker_refuses():
    import ctypes
    import errno

    from dockyard.linux.syscalls import Syscalls

    prog = ours(profile.resolve(default.default_profile(), caps.names(caps.resolve())))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    calls = {  # x86_64 numbers: unshare(CLONE_NEWNS), keyctl(GET_KEYRING_ID), bpf(MAP_CREATE)
        "unshare": (272, 0x00020000, 0, 0),
        "keyctl": (250, 0, 0, 0),
        "bpf": (321, 0, 0, 0),
        "getpid": (39, 0, 0, 0),
    }
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            sc = Syscalls()
            sc.set_no_new_privs()
            sc.seccomp_set_filter(prog)
            out = {}
            for name, (nr, *args) in calls.items():
                rc = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
                out[name] = (rc, ctypes.get_errno() if rc < 0 else 0)
            os.write(w, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    out = json.loads(data)
    for name in ("unshare", "keyctl", "bpf"):
        assert out[name] == [-1, errno.EPERM], name
    assert out["getpid"][0] == pid and out["getpid"][1] == 0
