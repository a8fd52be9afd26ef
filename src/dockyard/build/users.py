"""Users and groups of the image being built: `USER` and `COPY --chown` resolved against
its /etc/passwd and /etc/group (read from the merged layers, never from the host)."""

from dockyard.errors import InvalidArgument, LimitExceeded

MAX_DB = 1 << 20


def read_text(view, path: str) -> str:
    """The text of `path` in the merged view, "" when absent or not a regular file."""
    import os
    import stat

    found = view.lookup(view.resolve(path))
    if found is None or not stat.S_ISREG(found[1].st_mode):
        return ""
    fd = os.open(found[0], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        data = os.read(fd, MAX_DB + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_DB:
        raise LimitExceeded(f"{path} in the image is larger than {MAX_DB} bytes")
    return data.decode("utf-8", errors="replace")


def _rows(text: str, fields: int) -> list[list[str]]:
    out = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            parts = line.split(":")
            if len(parts) >= fields:
                out.append(parts)
    return out


def _num(s: str) -> int | None:
    return int(s) if s.isascii() and s.isdigit() and int(s) < 2**31 else None


def lookup_id(name: str, text: str, what: str, line: int) -> tuple[int, int | None, str]:
    """(id, primary gid for users, name) of a name or number in a passwd/group text."""
    rows = _rows(text, 4 if what == "group" else 7)
    num = _num(name)
    for r in rows:
        if (num is None and r[0] == name) or (num is not None and _num(r[2]) == num):
            gid = _num(r[3]) if what == "user" else None
            return _num(r[2]) or 0, gid, r[0]
    if num is not None:
        return num, None, ""
    raise InvalidArgument(f"Dockerfile:{line}: unable to find {what} {name}")


def resolve_user(view, spec: str, line: int) -> tuple[int, int, tuple[int, ...]]:
    """(uid, gid, groups) of a USER value, as runc resolves it."""
    user, _, group = spec.partition(":")
    passwd = read_text(view, "/etc/passwd")
    groups_text = read_text(view, "/etc/group")
    uid, gid, name = lookup_id(user or "0", passwd, "user", line)
    gid = gid or 0
    if group:
        gid = lookup_id(group, groups_text, "group", line)[0]
        return uid, gid, (gid,)
    extra = [gid]
    for r in _rows(groups_text, 4):
        g = _num(r[2])
        members = [m.strip() for m in r[3].split(",")]
        if name and name in members and g is not None and g not in extra:
            extra.append(g)
    return uid, gid, tuple(extra)


def resolve_owner(view, spec: str, line: int) -> tuple[int, int]:
    """(uid, gid) of a `--chown=user[:group]`; without a group the gid is the uid (Docker)."""
    user, _, group = spec.partition(":")
    uid = lookup_id(user, read_text(view, "/etc/passwd"), "user", line)[0]
    if not group:
        return uid, uid
    return uid, lookup_id(group, read_text(view, "/etc/group"), "group", line)[0]
