"""Waiting for a process that is not our child to exit (a container's init, for `stop`),
through a pidfd: woken the moment it exits, no polling."""

import os


def pidfd_of(pid: int) -> int:
    """A pidfd for `pid`, or -1 (gone already, or no pidfds here: the caller polls)."""
    if pid <= 0:
        return -1
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):
        return -1  # gone already, or no pidfds here: polling only


def wait_exit(pidfd: int, timeout: float) -> None:
    """Sleep until the process behind `pidfd` exits, at most `timeout` seconds."""
    import select

    p = select.poll()
    p.register(pidfd, select.POLLIN)
    p.poll(max(int(timeout * 1000), 1))
