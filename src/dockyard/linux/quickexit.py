"""Ending a process without waiting for its memory to be freed.

A process's exit unmaps all of its memory before its parent learns that it ended: 2–5 ms
here for the ~20 MB of a `build` (each page goes back to the hypervisor). `exit_after`
clones a task that shares the address space and only sleeps a moment (libc's usleep, on
a stack of its own), then exits: the parent sees this process gone at once, and the memory
is freed when the sleeper ends, off the command's path (as the supervisor reports a
container's exit before it tears it down).

Every descriptor is closed before the clone, so the sleeper holds none: a pipe reader
waiting for our output's end, a lock on a file, the database, are all released as at a
plain exit. The sleeper runs no Python; it is not our child (no exit signal), and whoever
adopts it reaps it.
"""

import os

SLEEP_US = 50_000  # long enough for the parent to see us exit first
_STACK_WORDS = 4096  # 32 KiB: usleep and the clone trampoline need little
CLONE_VM = 0x100


def exit_after(code: int) -> None:
    """os._exit(code), with the memory freed by a sleeper afterwards when possible.
    Streams must be flushed by the caller; nothing else may run in this process after."""
    try:
        _detach()
    finally:
        os._exit(code)


def _detach() -> None:
    from dockyard import cdata as C

    libc = C.CDLL(None)
    usleep = C.c_void_p.from_address(C.addressof(libc.usleep))  # the function's address
    stack = (C.c_ulong * _STACK_WORDS)()
    top = (C.addressof(stack) + _STACK_WORDS * 8 - 64) & ~15
    os.closerange(0, _max_fd())
    # glibc's clone(fn, stack, flags, arg): the new task runs fn(arg) on `stack`, then exits
    libc.clone(usleep, C.c_void_p(top), C.c_int(CLONE_VM), C.c_void_p(SLEEP_US))


def _max_fd() -> int:
    try:
        return max(int(n) for n in os.listdir("/proc/self/fd")) + 1
    except (OSError, ValueError):
        return os.sysconf("SC_OPEN_MAX")
