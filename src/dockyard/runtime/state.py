"""The container lifecycle as an explicit state machine, with Docker's messages (pure).

States are Docker's: created, running, paused, restarting, exited, dead, removing. Each verb
checks the current state with `check(verb, state, id)`, which raises `Conflict` with the
message Docker's daemon gives for that bad move (or returns quietly when it is allowed).
`status_text` renders the human "Up 3 seconds" / "Exited (0) 2 minutes ago" column.
"""

from dockyard.errors import Conflict, InvalidArgument
from dockyard.units import human_duration

CREATED = "created"
RUNNING = "running"
PAUSED = "paused"
RESTARTING = "restarting"
EXITED = "exited"
DEAD = "dead"
REMOVING = "removing"
STATES = (CREATED, RUNNING, PAUSED, RESTARTING, EXITED, DEAD, REMOVING)
LIVE = (RUNNING, PAUSED, RESTARTING)

# verb -> states it may start from
_ALLOWED = {
    "start": (CREATED, EXITED),
    "stop": (RUNNING, PAUSED, RESTARTING),
    "kill": (RUNNING, PAUSED, RESTARTING),
    "pause": (RUNNING,),
    "unpause": (PAUSED,),
    "remove": (CREATED, EXITED, DEAD),
    "rename": (CREATED, RUNNING, PAUSED, RESTARTING, EXITED, DEAD),
    "top": (RUNNING, PAUSED),
    "restart": (CREATED, RUNNING, PAUSED, EXITED, RESTARTING),
}


def check(verb: str, state: str, cid: str) -> None:
    """Raise Docker's error when `verb` cannot act on a container in `state`."""
    if state == REMOVING and verb != "remove":
        raise Conflict(f"cannot {verb} container {cid}: removal is already in progress")
    if state in _ALLOWED[verb]:
        return
    if verb == "start":
        if state == PAUSED:
            raise Conflict("cannot start a paused container, try unpause instead")
        if state == DEAD:
            raise Conflict(f"cannot start container {cid}: container is marked for removal")
        raise Conflict(f"container {cid} is already running")
    if verb == "kill":
        raise Conflict(f"Cannot kill container: {cid}: Container {cid} is not running")
    if verb == "pause":
        if state == PAUSED:
            raise Conflict(f"Container {cid} is already paused")
        raise Conflict(f"Container {cid} is not running")
    if verb == "unpause":
        raise Conflict(f"Container {cid} is not paused")
    if verb == "remove":
        if state == PAUSED:
            raise Conflict(
                f"You cannot remove a paused container {cid}. "
                "Unpause and then stop the container before attempting removal or force remove"
            )
        if state == REMOVING:
            raise Conflict(f"removal of container {cid} is already in progress")
        raise Conflict(
            f"You cannot remove a running container {cid}. "
            "Stop the container before attempting removal or force remove"
        )
    if verb in ("stop", "top"):
        raise Conflict(f"Container {cid} is not running")
    raise Conflict(f"cannot {verb} container {cid} in state {state}")


def validate(state: str) -> str:
    if state not in STATES:
        raise InvalidArgument(f"invalid container state: {state}")
    return state


def status_text(state: str, exit_code: int, started_ns: int, finished_ns: int, now_ns: int) -> str:
    """Docker's State.String(): the STATUS column of `ps`."""
    if state == RUNNING:
        return "Up " + human_duration((now_ns - started_ns) / 1e9)
    if state == PAUSED:
        return "Up " + human_duration((now_ns - started_ns) / 1e9) + " (Paused)"
    if state == RESTARTING:
        return f"Restarting ({exit_code}) {human_duration((now_ns - finished_ns) / 1e9)} ago"
    if state == REMOVING:
        return "Removal In Progress"
    if state == DEAD:
        return "Dead"
    if state == CREATED or not started_ns:
        return "Created"
    if not finished_ns:
        return ""
    return f"Exited ({exit_code}) {human_duration((now_ns - finished_ns) / 1e9)} ago"
