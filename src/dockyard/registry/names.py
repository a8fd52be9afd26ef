"""Repository names and tags as the distribution spec allows them.

A valid name is a path of lowercase components (`[a-z0-9]+` joined by `.`, `_`, `__` or
dashes) separated by `/`: never empty, `.`, `..` or absolute, so it is safe as a relative path.
"""

from dockyard import reference
from dockyard.errors import InvalidArgument

MAX_NAME = 255


def validate_repository(name: str) -> str:
    """`name` if it is a valid repository name, else InvalidArgument."""
    if not name or len(name) > MAX_NAME:
        raise InvalidArgument(f"invalid repository name {name[:300]!r}")
    # Parse under a fixed domain so that every component of `name` must match the path
    # grammar (a first component like "Foo" or "host:5000" would otherwise pass as a domain).
    try:
        ref = reference.parse("x/" + name)
    except InvalidArgument:
        raise InvalidArgument(f"invalid repository name {name!r}")
    if ref.domain != "x" or ref.path != name or ref.tag or ref.digest:
        raise InvalidArgument(f"invalid repository name {name!r}")
    return name


_TAG_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_TAG_REST = _TAG_FIRST | frozenset(".-")


def is_tag(value: str) -> bool:
    return 0 < len(value) <= 128 and value[0] in _TAG_FIRST and _TAG_REST.issuperset(value[1:])


def validate_tag(value: str) -> str:
    if not is_tag(value):
        raise InvalidArgument(f"invalid tag {value[:200]!r}")
    return value
