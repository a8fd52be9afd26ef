"""Linux capabilities: Docker's names and default set, flag resolution, and applying them.

`resolve` is pure (Docker's TweakCapabilities rules); `apply` runs in the container's init
just before exec and changes the calling process for good.
"""

import os

# Index = capability number (linux/capability.h), up to CAP_CHECKPOINT_RESTORE = 40.
NAMES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
LAST_CAP = len(NAMES) - 1

# Docker's default set (moby oci/caps/defaults.go), in Docker's order.
DEFAULT = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)


def number(name: str) -> int:
    """The number of a capability given as Docker accepts it: any case, CAP_ prefix optional."""
    from dockyard.errors import InvalidArgument

    canon = _canonical(name)
    try:
        return NAMES.index(canon)
    except ValueError:
        raise InvalidArgument(f"unknown capability: {name!r}")


def name(num: int) -> str:
    from dockyard.errors import InvalidArgument

    if not 0 <= num <= LAST_CAP:
        raise InvalidArgument(f"unknown capability number: {num}")
    return NAMES[num]


def _canonical(name: str) -> str:
    up = name.strip().upper()
    return up if up.startswith("CAP_") else "CAP_" + up


def _is_all(name: str) -> bool:
    return name.strip().upper() in ("ALL", "CAP_ALL")


def resolve(
    cap_add: "list[str] | tuple[str, ...]" = (),
    cap_drop: "list[str] | tuple[str, ...]" = (),
    privileged: bool = False,
) -> frozenset[int]:
    """The container's capability numbers from `--cap-add`, `--cap-drop` and `--privileged`.

    Docker's rules: privileged gets everything; "ALL" in cap_add means every capability but
    the dropped ones; "ALL" in cap_drop means only the added ones; otherwise the default set
    minus drops plus adds (an add wins over a drop of the same name).
    """
    everything = frozenset(range(LAST_CAP + 1))
    if privileged:
        return everything
    adds = {number(n) for n in cap_add if not _is_all(n)}
    drops = {number(n) for n in cap_drop if not _is_all(n)}
    if any(_is_all(n) for n in cap_add):
        return everything - drops
    if any(_is_all(n) for n in cap_drop):
        return frozenset(adds)
    base = {number(n) for n in DEFAULT}
    return frozenset((base - drops) | adds)


def mask(caps: "frozenset[int] | set[int]") -> int:
    """The 64-bit mask /proc/<pid>/status shows for a set of capability numbers."""
    m = 0
    for c in caps:
        m |= 1 << c
    return m


def names(caps: "frozenset[int] | set[int]") -> list[str]:
    return [NAMES[c] for c in sorted(caps)]


def kernel_last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as f:
            return int(f.read())
    except OSError:
        return LAST_CAP


def apply(
    caps: "frozenset[int] | set[int]",
    sc=None,
    *,
    uid: int | None = None,
    gid: int | None = None,
    groups: "list[int] | tuple[int, ...] | None" = None,
) -> None:
    """Make `caps` the process's bounding, permitted and effective sets; nothing inheritable
    or ambient. With `uid`/`gid`, switch user in between, keeping the capabilities across
    setuid (SET_KEEPCAPS) — a non-root user in a container still gets Docker's set.

    Capabilities this process does not hold cannot be granted and are left out.
    """
    if sc is None:
        from dockyard.linux.syscalls import Syscalls

        sc = Syscalls()
    keep = set(caps)
    # dropping one the bounding set lacks is a no-op: no need to read it first (41 calls)
    for c in range(kernel_last_cap() + 1):
        if c not in keep:
            sc.capbset_drop(c)
    granted = mask(keep) & sc.capget()[1]  # capset cannot raise a cap above permitted
    switching = uid is not None or gid is not None or groups is not None
    if switching:
        sc.set_keepcaps(True)
        set_ids(uid, gid, groups)
        sc.set_keepcaps(False)
    sc.capset(granted, granted, 0)
    sc.clear_ambient()


def set_ids(uid: int | None, gid: int | None, groups) -> None:
    """Become `groups`, `gid`, `uid` (None: left as they are), in the order that works:
    the supplementary groups and the gid while still allowed to change them."""
    if groups is not None:
        os.setgroups(list(groups))
    if gid is not None:
        os.setresgid(gid, gid, gid)
    if uid is not None:
        os.setresuid(uid, uid, uid)
