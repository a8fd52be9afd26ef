"""Services the harness starts (dockerd, docker-registry): started in their own directories and
stopped exactly — by PID, after checking that the PID still runs the command we started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass


@dataclass
class Started:
    name: str
    proc: subprocess.Popen
    marker: str  # a string that must appear in /proc/<pid>/cmdline before we signal it

    @property
    def pid(self) -> int:
        return self.proc.pid


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def start(
    name: str, argv: list[str], log_path: str, marker: str, env: dict | None = None
) -> Started:
    """Start argv in its own session with output to log_path."""
    with open(log_path, "ab") as log:
        p = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True
        )
    return Started(name, p, marker)


def stop(s: Started, timeout: float = 30.0) -> str:
    """SIGTERM, wait, then SIGKILL — only if the PID still runs what we started."""
    if s.proc.poll() is not None:
        return f"{s.name} (pid {s.pid}) had already exited ({s.proc.returncode})"
    if s.marker not in cmdline(s.pid):
        return f"{s.name}: pid {s.pid} no longer runs {s.marker!r}; left alone"
    os.kill(s.pid, signal.SIGTERM)
    try:
        s.proc.wait(timeout)
        return f"stopped {s.name} (pid {s.pid})"
    except subprocess.TimeoutExpired:
        if s.marker in cmdline(s.pid):
            os.kill(s.pid, signal.SIGKILL)
            s.proc.wait(10)
        return f"killed {s.name} (pid {s.pid}) after {timeout:.0f}s"


def wait_until(check, timeout: float, interval: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(interval)
    return bool(check())
