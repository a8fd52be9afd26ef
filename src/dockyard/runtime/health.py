"""A container's health state: Docker's rules for probe results (pure), and the state file
the monitor writes and `inspect`/`ps` read.

Docker's rules (daemon/health.go): the status starts as "starting"; a passing probe makes it
"healthy" and resets the failing streak; a failing one (any non-zero exit, -1 for a probe
that timed out or could not run) adds to the streak, except while the container is still
"starting" and inside its start period, and `retries` failures in a row make it
"unhealthy". The log keeps the last 5 results. The next probe comes `interval` after the
last one, or `start_interval` while starting inside the start period.

The state lives in `containers/<id>/health.json` ({Status, FailingStreak, Log}), replaced
whole (temp + rename) after every probe; only the monitor writes it.
"""

import os

from dockyard.runtime.healthconfig import MAX_LOG, MAX_OUTPUT

STARTING, HEALTHY, UNHEALTHY, NONE = "starting", "healthy", "unhealthy", "none"
FILE = "health.json"


class Result:
    """One probe: start and end (unix ns), exit code, output (text, capped)."""

    __slots__ = ("end", "exit_code", "output", "start")

    def __init__(self, start: int, end: int, exit_code: int, output: str):
        self.start = start
        self.end = end
        self.exit_code = exit_code
        self.output = output


def cap_output(data: bytes, truncated: bool = False) -> str:
    """The first 4096 bytes of a probe's output, "..." added when there was more (more
    in `data`, or `truncated`: the reader dropped the rest)."""
    text = data[:MAX_OUTPUT].decode("utf-8", errors="replace")
    return text + "..." if truncated or len(data) > MAX_OUTPUT else text


class State:
    """Status, failing streak and the last results, as Docker keeps them."""

    __slots__ = ("log", "status", "streak")

    def __init__(self, status: str = STARTING, streak: int = 0, log: list | None = None):
        self.status = status
        self.streak = streak
        self.log = list(log or ())  # Docker JSON dicts, oldest first

    def restart(self) -> None:
        """The container (re)started: starting again, the log kept (Docker's initHealthMonitor)."""
        self.status = STARTING
        self.streak = 0

    def record(self, r: Result, started_ns: int, start_period: int, retries: int) -> None:
        from dockyard.runtime.jsonlog import rfc3339nano

        self.log.append({"Start": rfc3339nano(r.start), "End": rfc3339nano(r.end),
                         "ExitCode": r.exit_code, "Output": r.output})  # fmt: skip
        del self.log[:-MAX_LOG]
        if r.exit_code == 0:
            self.streak = 0
            self.status = HEALTHY
            return
        if self.status == STARTING and r.start - started_ns < start_period:
            return  # failures in the start period do not count
        self.streak += 1
        if self.streak >= retries:
            self.status = UNHEALTHY

    def next_delay(self, now_ns: int, started_ns: int, timing) -> int:
        """ns until the next probe."""
        if now_ns - started_ns >= timing.start_period:
            return timing.interval
        return timing.start_interval if self.status == STARTING else timing.interval

    def to_json(self) -> dict:
        return {"Status": self.status, "FailingStreak": self.streak, "Log": list(self.log)}

    @classmethod
    def from_json(cls, doc) -> "State":
        if not isinstance(doc, dict):
            return cls()
        log = doc.get("Log")
        streak = doc.get("FailingStreak")
        return cls(
            str(doc.get("Status") or STARTING),
            streak if isinstance(streak, int) else 0,
            [e for e in log if isinstance(e, dict)][-MAX_LOG:] if isinstance(log, list) else [],
        )


def path(container_dir: str) -> str:
    return os.path.join(container_dir, FILE)


def read(container_dir: str) -> "State | None":
    """The last state written (None when there is none)."""
    try:
        with open(path(container_dir), "rb") as f:
            data = f.read(1 << 20)
    except OSError:
        return None
    from dockyard import fastjson

    try:
        return State.from_json(fastjson.loads(data))
    except ValueError:
        return None


def write(container_dir: str, state: State) -> None:
    """Replace the state file whole: readers see the old or the new one."""
    from dockyard import fastjson

    p = path(container_dir)
    tmp = f"{p}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        data = fastjson.dumps(state.to_json()).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.rename(tmp, p)


def current(spec, container_dir: str, live: bool) -> "State | None":
    """What inspect shows as State.Health (None: the container has no health check).

    A container whose check runs but whose monitor has not written yet is "starting"."""
    from dockyard.runtime.healthconfig import active

    if not active(getattr(spec, "healthcheck", None)):
        return None
    st = read(container_dir)
    if st is None:
        return State() if live else None
    return st


def status(spec, container_dir: str, live: bool) -> str:
    """`starting` / `healthy` / `unhealthy`, or `none` (ps --filter health=)."""
    st = current(spec, container_dir, live)
    return st.status if st is not None else NONE


def suffix(status_text: str) -> str:
    """Docker's Health.String() for ps: "health: starting", "healthy", "unhealthy"."""
    return "health: starting" if status_text == STARTING else status_text
