"""The per-container lifecycle lock, `containers/<id>/lock`: held by whoever works on a
stopped container's upper dir (`cp` into it, which mounts it read-write; `commit`, which
reads it), and taken by `start` (`runtime.starter`) until the container is running, so
one upper dir is never mounted read-write twice, nor changed under a commit. As Docker's
container lock, `start` waits for a copy or commit in progress.

A POSIX record lock (lockf): it belongs to this process only, so no process forked while it
is held (a cp helper, a supervisor) keeps it, and the kernel drops it when its holder dies.
"""

import os

NAME = "lock"  # runtime.starter names it too (without importing this module)


class LifecycleLock:
    """`with LifecycleLock(container_dir):` blocks until no start, copy-in or commit of the
    container runs elsewhere, and holds it off until the block ends."""

    __slots__ = ("_dir", "_fd")

    def __init__(self, container_dir: str):
        self._dir = container_dir
        self._fd = -1

    def __enter__(self) -> "LifecycleLock":
        fd = os.open(os.path.join(self._dir, NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.lockf(fd, os.F_LOCK, 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)  # drops the lock
