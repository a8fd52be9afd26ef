"""A container's exit file (`containers/<id>/exit`), written by its supervisor when the
container exits, and how one process is named for good (pid + start time).

The file says which supervisor run wrote it, so an earlier run's file is never taken for
this run's exit. Small and apart: `wait`, reconcile and the finisher read it without
importing the supervisor."""

import os


def proc_start_time(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat ("" when gone): with the pid, names one process for good."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return ""
    fields = data[data.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else ""


def exit_path(container_dir: str) -> str:
    return os.path.join(container_dir, "exit")


def write_exit(container_dir: str, sup_pid: int, sup_start: str, code: int, oom: bool,
               finished: int) -> None:  # fmt: skip
    path = exit_path(container_dir)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, f"{sup_pid} {sup_start} {code} {int(oom)} {finished}\n".encode())
    finally:
        os.close(fd)
    os.rename(tmp, path)


def read_exit(container_dir: str):
    """(sup_pid, sup_start, code, oom, finished) or None."""
    try:
        with open(exit_path(container_dir), "rb") as f:
            parts = f.read(200).split()
        return int(parts[0]), parts[1].decode(), int(parts[2]), parts[3] == b"1", int(parts[4])
    except (OSError, ValueError, IndexError):
        return None
