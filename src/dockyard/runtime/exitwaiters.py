"""Keeping a --rm container's exit file until its waiters have read it.

A `wait` on a container holds a shared flock on the container's directory (`hold`) while
it waits. The --rm finisher removes the record first, then the directory; before the
directory it takes the lock exclusively (`drain`), so every waiter has read the supervisor's
exit file by then, however the polls fell. A waiter that stopped answering (SIGSTOP) holds
the removal off for `DRAIN_TIMEOUT` at most.
"""

import os

DRAIN_TIMEOUT = 10.0  # seconds


def hold(container_dir: str) -> int:
    """A descriptor holding the directory for a waiter (close it when done); -1 when the
    directory is gone already."""
    import fcntl

    try:
        fd = os.open(container_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return -1
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except BaseException:
        os.close(fd)
        raise
    return fd


def drain(container_dir: str, timeout: float = DRAIN_TIMEOUT) -> int:
    """Block until no waiter holds the directory (or `timeout`); a descriptor that keeps
    new waiters off until it is closed (after the removal), -1 when there is no directory."""
    import fcntl
    import time

    try:
        fd = os.open(container_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return -1
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return fd  # a waiter that does not answer: removed anyway
        except BaseException:
            os.close(fd)
            raise
        time.sleep(delay)
        delay = min(delay * 2, 0.01)
