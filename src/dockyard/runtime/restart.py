"""The restart policy: whether an exited container comes back, and after how long.

Docker's rules: `always` and `unless-stopped` restart whatever the exit code, `on-failure`
only on a non-zero code and at most N times (0: no limit), `no` never; none of them after
the user stopped or killed the container. The back-off doubles from 100 ms (a run that
lasted 10 s resets it), capped at one minute.
"""

import os

BASE_DELAY = 0.1
MAX_DELAY = 60.0
RESET_AFTER_NS = 10 * 1_000_000_000


def stopped_path(container_dir: str) -> str:
    return os.path.join(container_dir, "stopped-by-user")


def set_stopped(container_dir: str, on: bool) -> None:
    """The user stopped it: the restart policy must not bring it back (Docker's
    HasBeenManuallyStopped), until the user starts it again."""
    path = stopped_path(container_dir)
    if on:
        with open(path, "w"):
            pass
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def should_restart(policy: str, max_retries: int, exit_code: int, restart_count: int,
                   stopped_by_user: bool) -> bool:  # fmt: skip
    if stopped_by_user or policy == "no":
        return False
    if policy in ("always", "unless-stopped"):
        return True
    if policy == "on-failure":
        return exit_code != 0 and (max_retries == 0 or restart_count < max_retries)
    return False


def delay(restart_count: int, ran_ns: int) -> float:
    """Seconds to wait before restart number `restart_count + 1`."""
    if ran_ns >= RESET_AFTER_NS:
        return BASE_DELAY
    return min(BASE_DELAY * (2 ** min(restart_count, 20)), MAX_DELAY)
