"""Who may do what: htpasswd (bcrypt) users and per-repository grants from the config.

Only bcrypt entries (`htpasswd -B`: $2y$, $2b$, $2a$) are accepted; other hash schemes
(MD5-crypt, SHA1, plain) are refused as too weak. Anonymous users get pull and nothing
else, and only when `anonymous_pull` is on.
"""

import os

from dockyard.errors import InvalidArgument, NotFound
from dockyard.registry.config import ACTIONS, AuthConfig

ANONYMOUS = ""


class Htpasswd:
    """Users and bcrypt hashes from an htpasswd file, reread when the file changes."""

    def __init__(self, path: str):
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._users: dict[str, bytes] = {}
        self._load()

    def _load(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise NotFound(f"htpasswd file {self.path} not found")
        stamp = (st.st_mtime, st.st_size)
        if stamp == self._stamp:
            return
        users = {}
        with open(self.path, "rb") as f:
            for lineno, line in enumerate(f.read(16 << 20).splitlines(), 1):
                line = line.strip()
                if not line or line.startswith(b"#"):
                    continue
                user, sep, hashed = line.partition(b":")
                if not sep or not user:
                    raise InvalidArgument(f"htpasswd {self.path}:{lineno}: expected user:hash")
                users[user.decode("utf-8", "replace")] = hashed
        self._users, self._stamp = users, stamp

    def stamp(self, user: str) -> str:
        """A short fingerprint of the user's current hash ("" for no such user): refresh
        tokens carry it, so a changed password or a removed user ends them."""
        import hashlib

        self._load()
        hashed = self._users.get(user)
        return hashlib.sha256(hashed).hexdigest()[:32] if hashed is not None else ""

    def verify(self, user: str, password: str) -> bool:
        import bcrypt

        self._load()
        hashed = self._users.get(user)
        if hashed is None or not hashed.startswith((b"$2y$", b"$2b$", b"$2a$")):
            # Spend the time a real check would, so that timing does not reveal users.
            bcrypt.checkpw(b"x", _DUMMY_HASH)
            return False
        # bcrypt reads only the first 72 bytes; refuse longer passwords rather than truncate.
        pw = password.encode()
        if len(pw) > 72:
            return False
        try:
            return bcrypt.checkpw(pw, b"$2b$" + hashed[4:])
        except ValueError:
            return False


_DUMMY_HASH = b"$2b$10$CwTycUXWue0Thq9StjUM0uJ8DPLKXt1FHwDHMbb2vIl/dcOC9Uoui"


class Authorizer:
    """Decides which actions a user may take on a repository, from the access rules."""

    def __init__(self, cfg: AuthConfig):
        self.cfg = cfg
        self.htpasswd = Htpasswd(cfg.htpasswd) if cfg.htpasswd else None

    def authenticate(self, user: str, password: str) -> bool:
        return self.htpasswd is not None and self.htpasswd.verify(user, password)

    def stamp(self, user: str) -> str:
        return self.htpasswd.stamp(user) if self.htpasswd is not None else ""

    def granted(self, user: str, repository: str) -> set[str]:
        """The actions `user` ("" = anonymous) may take on `repository`."""
        from fnmatch import fnmatchcase

        out: set[str] = set()
        if user == ANONYMOUS:
            if self.cfg.anonymous_pull:
                out.add("pull")
            return out
        if not self.cfg.access:
            return set(ACTIONS)
        for rule in self.cfg.access:
            if (user in rule.users or "*" in rule.users) and fnmatchcase(
                repository, rule.repository
            ):
                out.update(rule.actions)
        return out

    def allowed(self, user: str, repository: str, action: str) -> bool:
        return action in self.granted(user, repository)

    def may_list_catalog(self, user: str) -> bool:
        return user != ANONYMOUS or self.cfg.anonymous_pull


def parse_basic(header: str) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header, or None."""
    import base64
    import binascii

    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = raw.partition(":")
    return (user, password) if sep and user else None


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """("repository", name, actions) from "repository:name:pull,push", or None if malformed."""
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not kind or not name:
        return None
    return kind, name, [a for a in actions.split(",") if a]
