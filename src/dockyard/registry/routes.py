"""URL routing of the distribution API and the access each request needs (pure code).

Repository names contain slashes, so routes are matched from the end of the path: the
longest name that leaves a valid API suffix wins, as in Docker's registry.
"""

from dataclasses import dataclass
from functools import cache

PULL, PUSH, DELETE = "pull", "push", "delete"


@dataclass(frozen=True)
class Route:
    kind: str  # base catalog tags manifest blob uploads upload referrers token
    name: str = ""
    arg: str = ""


# kind -> {method: action}; action "" = authenticated only, None = no check at all
_ACTIONS: dict[str, dict[str, str | None]] = {
    "base": {"GET": "", "HEAD": ""},
    "catalog": {"GET": "catalog"},
    "tags": {"GET": PULL},
    "manifest": {"GET": PULL, "HEAD": PULL, "PUT": PUSH, "DELETE": DELETE},
    "blob": {"GET": PULL, "HEAD": PULL, "DELETE": DELETE},
    "uploads": {"POST": PUSH},
    "upload": {"GET": PUSH, "PATCH": PUSH, "PUT": PUSH, "DELETE": PUSH},
    "referrers": {"GET": PULL},
    "token": {"GET": None, "POST": None},
}

WRITES = frozenset({"PUT", "POST", "PATCH", "DELETE"})


@cache
def _patterns():
    import re

    return [
        ("uploads", re.compile(r"/v2/(.+)/blobs/uploads/?")),
        ("upload", re.compile(r"/v2/(.+)/blobs/uploads/([^/]+)")),
        ("blob", re.compile(r"/v2/(.+)/blobs/([^/]+)")),
        ("manifest", re.compile(r"/v2/(.+)/manifests/([^/]+)")),
        ("tags", re.compile(r"/v2/(.+)/tags/list")),
        ("referrers", re.compile(r"/v2/(.+)/referrers/([^/]+)")),
    ]


def match(path: str) -> Route | None:
    if path in ("/v2", "/v2/"):
        return Route("base")
    if path == "/v2/_catalog":
        return Route("catalog")
    if path == "/auth/token":
        return Route("token")
    if not path.startswith("/v2/"):
        return None
    for kind, pattern in _patterns():
        m = pattern.fullmatch(path)
        if m is not None:
            groups = m.groups()
            return Route(kind, groups[0], groups[1] if len(groups) > 1 else "")
    return None


def methods(route: Route) -> tuple[str, ...]:
    return tuple(_ACTIONS[route.kind])


def action(route: Route, method: str) -> str | None:
    """The action a request needs: pull/push/delete, "catalog", "" (any user) or None."""
    return _ACTIONS[route.kind][method]
