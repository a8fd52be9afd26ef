"""`--sysctl`: which kernel parameters a container may set (pure), as Docker validates them.

Only sysctls that belong to the container's own namespaces: the IPC ones (kernel.msg*,
kernel.sem, kernel.shm*, fs.mqueue.*) and net.* (refused with --network host, which shares
the host's network namespace). The init writes them under its new /proc/sys before that is
made read-only (`linux.mounts`).
"""

from dockyard.errors import InvalidArgument

IPC_SYSCTLS = frozenset(
    {
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    }
)


def validate(sysctls, network: str) -> tuple[tuple[str, str], ...]:
    """The (key, value) pairs, checked; Docker's messages for the refused ones."""
    out = []
    for key, value in sysctls:
        if not _namespaced(key):
            v = f"{key}={value}"
            raise InvalidArgument(
                f'invalid argument "{v}" for "--sysctl" flag: sysctl \'{v}\' is not allowed'
            )
        if key.startswith("net.") and network == "host":
            raise InvalidArgument(f'sysctl "{key}" not allowed in host network namespace')
        if "\0" in value or "\n" in value.rstrip("\n"):
            raise InvalidArgument(f"invalid value for sysctl '{key}': {value!r}")
        out.append((key, value))
    return tuple(out)


def _namespaced(key: str) -> bool:
    if not key or key != key.strip() or "/" in key or ".." in key or key.endswith("."):
        return False
    if not all(c.isalnum() or c in "._-" for c in key):
        return False
    if key in IPC_SYSCTLS:
        return True
    return key.startswith("fs.mqueue.") or key.startswith("net.")
