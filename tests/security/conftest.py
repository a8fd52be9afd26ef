"""Confinement for adversarial tests: hostile input is applied in a child process whose view of
the host is read-only except for the test's own directory.

The code under test must keep hostile archives inside their target; this is the second wall, so
that a regression (or a deliberately broken build, when checking that the tests can fail) can
damage nothing but the test's temporary directory.
"""

import os
import pickle

import pytest


def _confine(writable: str) -> None:
    from dockyard.linux import syscalls as sc

    s = sc.Syscalls()
    s.unshare(sc.CLONE_NEWNS)
    s.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
    s.mount(writable, writable, None, sc.MS_BIND | sc.MS_REC)
    s.mount(None, "/", None, sc.MS_REMOUNT | sc.MS_BIND | sc.MS_RDONLY)


def run_confined(writable: str, fn, *args, **kwargs):
    """fn(*args, **kwargs) in a forked child that may write only below `writable`.

    Returns fn's result or raises its exception (both must pickle).
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            try:
                _confine(writable)
            except BaseException as e:
                out = ("setup", f"{type(e).__name__}: {e}")
            else:
                try:
                    out = ("ok", fn(*args, **kwargs))
                except BaseException as e:
                    out = ("raised", e)
            data = pickle.dumps(out)
        except BaseException as e:  # an unpicklable result
            data = pickle.dumps(("setup", f"cannot return the result: {e!r}"))
        view = memoryview(data)
        while view:
            view = view[os.write(w, view) :]
        os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 1 << 16):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    if not chunks:
        pytest.fail("the confined child died without an answer")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "setup":
        pytest.fail(f"could not confine the child: {value}")
    if kind == "raised":
        raise value
    return value


@pytest.fixture
def confined():
    return run_confined
