"""The seccomp profile model (Docker's profile, as typed data) and its resolution.

A `Profile` is what a user or the default gives: rules with conditions on capabilities,
architectures and kernel version. `resolve` turns it into a `Resolved` filter for one
container on this machine — only the rules that apply, nothing conditional left — which
is what gets compiled, and whose canonical bytes key the BPF cache.
"""

from dataclasses import dataclass, field

ACTIONS = (
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
)
OPS = (
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
)
EPERM = 1

# uname -m -> (Go's GOARCH name used by profiles' includes.arches, libseccomp arch name)
MACHINES = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"),
    "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "i686": ("386", "SCMP_ARCH_X86"),
    "armv7l": ("arm", "SCMP_ARCH_ARM"),
    "riscv64": ("riscv64", "SCMP_ARCH_RISCV64"),
    "s390x": ("s390x", "SCMP_ARCH_S390X"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"),
}


@dataclass(frozen=True)
class Arg:
    """A condition on one syscall argument; for MASKED_EQ `value` is the mask."""

    index: int
    value: int
    op: str
    value_two: int = 0


@dataclass(frozen=True)
class Filter:
    """When a rule applies: all `caps` held, machine in `arches`, kernel at least `min_kernel`."""

    caps: tuple[str, ...] = ()
    arches: tuple[str, ...] = ()
    min_kernel: str = ""


@dataclass(frozen=True)
class Rule:
    names: tuple[str, ...]
    action: str
    errno_ret: int | None = None
    args: tuple[Arg, ...] = ()
    includes: Filter = field(default_factory=Filter)
    excludes: Filter = field(default_factory=Filter)


@dataclass(frozen=True)
class Profile:
    default_action: str
    rules: tuple[Rule, ...]
    default_errno: int | None = None
    arch_map: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (arch, sub-arches)
    architectures: tuple[str, ...] = ()  # the legacy flat list


@dataclass(frozen=True)
class Resolved:
    """A profile applied to one container and machine: plain rules, ready to compile."""

    default_action: str
    default_errno: int
    arches: tuple[str, ...]  # SCMP_ARCH_* names, the native one first
    rules: tuple[Rule, ...]  # includes/excludes already decided, so left empty

    def canonical(self) -> bytes:
        import json

        doc = {
            "defaultAction": self.default_action,
            "defaultErrnoRet": self.default_errno,
            "arches": list(self.arches),
            "rules": [
                {
                    "names": list(r.names),
                    "action": r.action,
                    "errnoRet": r.errno_ret,
                    "args": [[a.index, a.value, a.op, a.value_two] for a in r.args],
                }
                for r in self.rules
            ],
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    def digest(self) -> str:
        """sha256 hex of the canonical form: the key of the compiled-BPF cache."""
        import hashlib

        return hashlib.sha256(self.canonical()).hexdigest()


def _kernel_tuple(release: str) -> tuple[int, ...]:
    out = []
    for part in release.split("-")[0].split(".")[:3]:
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        out.append(int(digits or 0))
    return tuple(out)


def _applies(rule: Rule, caps: "set[str] | frozenset[str]", goarch: str, kernel: str) -> bool:
    inc, exc = rule.includes, rule.excludes
    if inc.caps and not all(c in caps for c in inc.caps):
        return False
    if inc.arches and goarch not in inc.arches:
        return False
    if inc.min_kernel and _kernel_tuple(kernel) < _kernel_tuple(inc.min_kernel):
        return False
    if exc.caps and any(c in caps for c in exc.caps):
        return False
    return not (exc.arches and goarch in exc.arches)


def resolve(
    profile: Profile,
    caps: "list[str] | set[str] | frozenset[str] | tuple[str, ...]",
    machine: str | None = None,
    kernel: str | None = None,
) -> Resolved:
    """Apply `profile` to a container holding capabilities `caps` (names like "CAP_SYS_ADMIN")
    on `machine` (uname -m) with kernel release `kernel`; both default to this host's."""
    import os

    from dockyard.errors import Unsupported

    u = os.uname()
    machine = machine or u.machine
    kernel = kernel or u.release
    if machine not in MACHINES:
        raise Unsupported(f"seccomp: unsupported machine {machine}")
    goarch, native = MACHINES[machine]
    capset = frozenset(caps)
    arches = [native]
    subs = dict(profile.arch_map).get(native)
    if subs is not None:
        arches += [a for a in subs if a not in arches]
    elif not profile.arch_map:
        arches += [a for a in profile.architectures if a not in arches]
    rules = tuple(
        Rule(names=r.names, action=r.action, errno_ret=r.errno_ret, args=r.args)
        for r in profile.rules
        if _applies(r, capset, goarch, kernel)
    )
    errno = EPERM if profile.default_errno is None else profile.default_errno
    return Resolved(profile.default_action, errno, tuple(arches), rules)
