"""Freezing a running container for a moment (`commit`) without leaving it frozen.

`Frozen` forks a small guard process before it freezes the container's cgroup. The guard
waits on a pipe whose only writer is us: "done" when we thawed, end-of-file when we died
mid-way (kill -9, a signal, a crash), and then it thaws the cgroup itself. So a killed
`commit` never leaves a container frozen while its record says running. The guard has a
session of its own, so the terminal's Ctrl-C that ends us does not reach it.
"""

import os

_DONE = b"d"


class Frozen:
    """`with Frozen(driver, cgroup):` the cgroup is frozen inside the block, thawed after,
    and thawed by the guard if this process dies inside it."""

    __slots__ = ("_cgroup", "_driver", "_guard", "_w")

    def __init__(self, driver, cgroup: str):
        self._driver = driver
        self._cgroup = cgroup
        self._guard = 0
        self._w = -1

    def __enter__(self) -> "Frozen":
        r, w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the guard
            _guard(r, w, self._driver, self._cgroup)
        os.close(r)
        self._guard, self._w = pid, w
        try:
            self._driver.freeze(self._cgroup)
        except BaseException:
            self._end()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._end()

    def _end(self) -> None:
        if self._w < 0:
            return
        try:
            self._driver.thaw(self._cgroup)
        finally:
            w, self._w = self._w, -1
            try:
                os.write(w, _DONE)
            except OSError:
                pass  # the guard is gone: it cannot thaw behind us either
            os.close(w)
            _reap(self._guard)


def _guard(r: int, w: int, driver, cgroup: str) -> None:  # pragma: no cover - in the child
    try:
        os.setsid()
        os.close(w)
        # nothing of the parent's (its database, its pipes) stays open here
        os.closerange(3, r)
        os.closerange(r + 1, 1 << 16)
        got = b""
        try:
            while True:
                try:
                    got = os.read(r, 1)
                    break
                except InterruptedError:
                    continue
        except BaseException:
            got = b""
        if got != _DONE:
            driver.thaw(cgroup)
    except BaseException:
        try:
            driver.thaw(cgroup)
        except BaseException:
            pass
    finally:
        os._exit(0)


def _reap(pid: int) -> None:
    while True:
        try:
            os.waitpid(pid, 0)
            return
        except InterruptedError:
            continue
        except ChildProcessError:
            return
