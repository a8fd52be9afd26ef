"""`linux.quickexit`: a process that leaves its memory to a sleeper still ends as a plain
exit would for everyone watching: its status, the end of its pipes, its locks."""

import fcntl
import os

from dockyard.linux.quickexit import exit_after


def _child(lock_path: str, w: int, code: int) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(w, b"partial output\n")
            bytearray(8 << 20)  # some memory to leave behind
            exit_after(code)
        finally:
            os._exit(99)  # exit_after returned: never
    return pid


def test_the_parent_sees_the_status_the_end_of_the_pipe_and_the_lock_released(tmp_path):
    lock = str(tmp_path / "lock")
    r, w = os.pipe()
    pid = _child(lock, w, 7)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7
    os.set_blocking(r, False)
    got = b""
    while True:
        chunk = os.read(r, 4096)  # BlockingIOError if the sleeper kept the write end
        if not chunk:
            break
        got += chunk
    os.close(r)
    assert got == b"partial output\n"
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the child's lock went with it
    finally:
        os.close(fd)


def test_exit_code_zero(tmp_path):
    r, w = os.pipe()
    pid = _child(str(tmp_path / "lock"), w, 0)
    os.close(w)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
