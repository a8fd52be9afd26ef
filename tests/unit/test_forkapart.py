"""forkapart: a fork whose child starts on a CPU of its own, and neither process is left
pinned to one CPU afterwards."""

import os

from dockyard.forkapart import fork_apart


def test_both_processes_get_the_callers_cpu_set_back():
    mask = os.sched_getaffinity(0)
    r, w = os.pipe()
    pid = fork_apart()
    if pid == 0:
        try:
            os.write(w, ",".join(map(str, sorted(os.sched_getaffinity(0)))).encode())
        finally:
            os._exit(0)
    os.close(w)
    try:
        seen = os.read(r, 4096).decode()
    finally:
        os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert seen == ",".join(map(str, sorted(mask)))
    assert os.sched_getaffinity(0) == mask


def test_a_restricted_caller_stays_within_its_set():
    mask = os.sched_getaffinity(0)
    one = {min(mask)}
    os.sched_setaffinity(0, one)
    try:
        pid = fork_apart()
        if pid == 0:
            os._exit(0 if os.sched_getaffinity(0) == one else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert os.sched_getaffinity(0) == one
    finally:
        os.sched_setaffinity(0, mask)
