"""Seccomp profiles: Docker's default as data, resolution per capabilities, the JSON
format parser (hostile input included), BPF compilation and its cache."""

import json
import os

import pytest

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.linux import caps
from dockyard.linux.seccomp import cache, default, dockerjson, profile
from dockyard.linux.seccomp.compile import action_value, compile_bpf


def _allowed(resolved, name):
    return [r for r in resolved.rules if name in r.names]


def _default_for(*add):
    return profile.resolve(
        default.default_profile(), caps.names(caps.resolve(cap_add=list(add))), "x86_64", "6.1.0"
    )


def test_default_profile_denies_with_eperm_and_keeps_x86_subarches():
    r = _default_for()
    assert r.default_action == "SCMP_ACT_ERRNO" and r.default_errno == 1
    assert r.arches == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")
    assert action_value(r.default_action, r.default_errno) == 0x00050001


def test_default_caps_open_chroot_not_mount_and_clone_only_without_ns_flags():
    r = _default_for()
    assert _allowed(r, "read") and _allowed(r, "chroot") and _allowed(r, "arch_prctl")
    for denied in (
        "mount",
        "umount2",
        "unshare",
        "setns",
        "keyctl",
        "bpf",
        "kexec_load",
        "init_module",
        "reboot",
    ):
        assert not [x for x in _allowed(r, denied) if x.action == "SCMP_ACT_ALLOW" and not x.args]
    (clone,) = _allowed(r, "clone")
    assert clone.args == (profile.Arg(0, 0x7E020000, "SCMP_CMP_MASKED_EQ"),)
    (clone3,) = _allowed(r, "clone3")
    assert clone3.action == "SCMP_ACT_ERRNO" and clone3.errno_ret == 38  # ENOSYS: glibc falls back
    assert not _allowed(r, "s390_runtime_instr")  # other arches' rules are left out


def test_socket_refuses_af_alg_and_af_vsock_only():
    socket_rules = _allowed(_default_for(), "socket")
    allowed = {
        fam
        for fam in range(64)
        if any(
            {
                "SCMP_CMP_LT": fam < a.value,
                "SCMP_CMP_EQ": fam == a.value,
                "SCMP_CMP_GT": fam > a.value,
            }[a.op]
            for rule in socket_rules
            for a in rule.args
        )
    }
    assert 38 not in allowed and 40 not in allowed  # AF_ALG, AF_VSOCK
    assert {1, 2, 10, 16, 17, 39, 41} <= allowed


def test_sys_admin_opens_mount_and_unconditional_clone():
    r = _default_for("SYS_ADMIN")
    assert _allowed(r, "mount") and _allowed(r, "unshare")
    assert all(not x.args for x in _allowed(r, "clone"))
    assert all(x.action == "SCMP_ACT_ALLOW" for x in _allowed(r, "clone3"))


def test_min_kernel_condition():
    p = default.default_profile()
    old = profile.resolve(p, [], "x86_64", "4.4.0")
    new = profile.resolve(p, [], "x86_64", "6.18.44-fc-v657")
    assert not _allowed(old, "process_vm_readv")
    assert _allowed(new, "process_vm_readv")


def test_digest_is_stable_and_depends_on_caps():
    a, b = _default_for(), _default_for()
    assert a.digest() == b.digest() and len(a.digest()) == 64
    assert _default_for("SYS_ADMIN").digest() != a.digest()


def test_compile_gives_whole_deterministic_bpf():
    r = _default_for()
    bpf = compile_bpf(r)
    assert len(bpf) % 8 == 0 and len(bpf) > 8 * 100
    assert compile_bpf(r) == bpf


def test_cache_stores_once_and_rebuilds_a_damaged_entry(tmp_path):
    r = _default_for()
    path, bpf = cache.get_or_compile(str(tmp_path), r)
    assert path.endswith(r.digest() + ".bpf") and cache.read(path) == bpf
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    with open(path, "wb") as f:
        f.write(b"\x00" * 13)  # not a whole program
    assert cache.read(path) is None
    _, again = cache.get_or_compile(str(tmp_path), r)
    assert again == bpf and cache.read(path) == bpf
    assert [n for n in os.listdir(os.path.dirname(path)) if ".tmp" in n] == []


def _doc(**kw):
    d = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}
    d.update(kw)
    return json.dumps(d).encode()


def test_json_profile_round_trip():
    data = _doc(
        defaultErrnoRet=1,
        archMap=[{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        syscalls=[
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"name": "kill", "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {
                "names": ["personality"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}],
                "includes": {"caps": ["cap_sys_admin"], "minKernel": "4.8"},
            },
        ],
    )
    p = dockerjson.parse(data)
    assert p.rules[1] == profile.Rule(names=("kill",), action="SCMP_ACT_ERRNO", errno_ret=13)
    assert p.rules[2].includes.caps == ("CAP_SYS_ADMIN",)
    r = profile.resolve(p, ["CAP_SYS_ADMIN"], "x86_64", "6.1")
    assert r.arches == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86") and len(r.rules) == 3
    assert len(compile_bpf(r)) % 8 == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
        (_doc(defaultAction="SCMP_ACT_FLY"), "unknown action"),
        (_doc(syscalls=[{"names": ["read"], "action": "ALLOW"}]), "unknown action"),
        (_doc(syscalls=[{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]), "both"),
        (_doc(syscalls=[{"action": "SCMP_ACT_ALLOW"}]), "names no syscall"),
        (_doc(syscalls=[{"names": "read", "action": "SCMP_ACT_ALLOW"}]), "list of strings"),
        (
            _doc(
                syscalls=[
                    {
                        "names": ["x"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 6, "op": "SCMP_CMP_EQ"}],
                    }
                ]
            ),
            "index",
        ),
        (
            _doc(
                syscalls=[
                    {
                        "names": ["x"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 0, "op": "LIKE"}],
                    }
                ]
            ),
            "unknown operator",
        ),
        (
            _doc(
                syscalls=[
                    {
                        "names": ["x"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}],
                    }
                ]
            ),
            "value",
        ),
        (_doc(defaultErrnoRet=True), "defaultErrnoRet"),
        (b" " * (4 << 20) + b"{}", "larger than"),
    ],
)
def test_bad_json_profiles_are_refused_in_one_line(data, message):
    with pytest.raises(InvalidArgument, match=message) as e:
        dockerjson.parse(data)
    assert "\n" not in str(e.value)


def test_notify_profiles_are_unsupported():
    with pytest.raises(Unsupported):
        dockerjson.parse(_doc(listenerPath="/run/x.sock"))
    with pytest.raises(Unsupported):
        dockerjson.parse(_doc(syscalls=[{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]))


def test_unknown_syscall_names_are_skipped_like_docker():
    p = dockerjson.parse(
        _doc(syscalls=[{"names": ["read", "no_such_call_at_all"], "action": "SCMP_ACT_ALLOW"}])
    )
    assert len(compile_bpf(profile.resolve(p, [], "x86_64", "6.1"))) % 8 == 0
