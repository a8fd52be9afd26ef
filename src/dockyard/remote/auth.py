"""Parsing `WWW-Authenticate` challenges and building token requests (pure code)."""

from dockyard.record import Record


class Challenge(Record):  # not a dataclass or NamedTuple: nothing to import or generate
    scheme: str  # lowercase: "bearer", "basic"
    params: dict[str, str]


def _skip_spaces(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t":
        i += 1
    return i


def _token(s: str, i: int) -> tuple[str, int]:
    j = i
    while j < len(s) and s[j] not in ' \t,="':
        j += 1
    return s[i:j], j


def _quoted(s: str, i: int) -> tuple[str, int]:
    out = []
    i += 1  # opening quote
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), i  # unterminated: take what is there


def parse_challenges(header: str) -> list[Challenge]:
    """`Bearer realm="https://a/token",service="reg",scope="repository:x:pull"` -> challenges.

    Several challenges may share one header; parameters are `name=value` or
    `name="quoted value"`, names case-insensitive.
    """
    out: list[Challenge] = []
    s = header or ""
    i = 0
    current: Challenge | None = None
    while i < len(s):
        i = _skip_spaces(s, i)
        if i < len(s) and s[i] == ",":
            i += 1
            continue
        word, j = _token(s, i)
        if not word:
            i = j + 1
            continue
        k = _skip_spaces(s, j)
        if k < len(s) and s[k] == "=" and current is not None:
            k = _skip_spaces(s, k + 1)
            if k < len(s) and s[k] == '"':
                value, k = _quoted(s, k)
            else:
                value, k = _token(s, k)
            current.params[word.lower()] = value
            i = k
        else:
            current = Challenge(word.lower(), {})
            out.append(current)
            i = j
    return out


def pick(challenges: list[Challenge]) -> Challenge | None:
    """The challenge to answer: Bearer before Basic, unknown schemes ignored."""
    for scheme in ("bearer", "basic"):
        for c in challenges:
            if c.scheme == scheme:
                return c
    return None


def repository_scope(repository: str, actions: tuple[str, ...]) -> str:
    return f"repository:{repository}:{','.join(actions)}"


def merge_scopes(scopes: list[str]) -> list[str]:
    """One scope per resource with the union of its actions, in first-seen order."""
    order: list[str] = []
    actions: dict[str, list[str]] = {}
    for scope in scopes:
        for part in scope.split(" "):
            resource, sep, acts = part.rpartition(":")
            if not sep or not resource:
                continue
            if resource not in actions:
                order.append(resource)
                actions[resource] = []
            for a in acts.split(","):
                if a and a not in actions[resource]:
                    actions[resource].append(a)
    return [f"{r}:{','.join(actions[r])}" for r in order]
