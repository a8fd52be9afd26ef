"""`fork_apart`: os.fork, with the child started on another CPU than its parent's.

A forked child is queued on its parent's CPU; while the parent keeps that CPU busy, the
child waits for the load balancer to move it: 2–3 ms here, on two cores with the other
one idle. Forking with the parent pinned to one CPU and then moving the parent to another
starts the child at once (0.6 ms after the fork instead of 2.6 ms) for ~0.2 ms of the
parent's. Both get the caller's CPU set back at once: nothing stays pinned.
"""

import os


def fork_apart() -> int:
    """`os.fork()`, the child running at once on a CPU of its own when there are two."""
    mask = os.sched_getaffinity(0)
    if len(mask) < 2:
        return os.fork()
    first, second = sorted(mask)[:2]
    os.sched_setaffinity(0, {first})
    try:
        pid = os.fork()
    except BaseException:
        os.sched_setaffinity(0, mask)
        raise
    if pid == 0:
        os.sched_setaffinity(0, mask)
        return 0
    os.sched_setaffinity(0, {second})  # the parent leaves: the child has `first` to itself
    os.sched_setaffinity(0, mask)
    return pid
