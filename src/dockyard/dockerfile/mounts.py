"""`RUN --mount=...` values: CSV `key=value` fields → a typed Mount (BuildKit's rules).

At parse time only what needs no expansion is checked (`check_mount`); once the stage's
variables are known, `parse_mount` expands every value and validates the whole mount.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.record import Record

from .durations import parse_ram_size

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc costs ~1 ms of a build's start; annotations are never evaluated
    from collections.abc import Callable

MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
SHARING_MODES = ("shared", "private", "locked")
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


class Mount(Record):
    type: str = "bind"
    from_: str = ""  # stage name/index or image; "" is the build context (bind) or scratch
    source: str = ""
    target: str = ""
    readonly: bool = True
    size: int = 0  # tmpfs size limit in bytes, 0 = none
    id: str = ""  # cache id or secret id
    sharing: str = ""  # cache: shared | private | locked ("" = shared)
    required: bool = False
    env: str | None = None  # secret: expose as this environment variable
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None


def csv_fields(spec: str) -> list[str]:
    """One CSV record as Go's encoding/csv reads it (quoted fields, `""` escapes)."""
    fields: list[str] = []
    i, n = 0, len(spec)
    while True:
        if i < n and spec[i] == '"':
            buf: list[str] = []
            i += 1
            while True:
                end = spec.find('"', i)
                if end < 0:
                    raise InvalidArgument(
                        'failed to parse csv mounts: extraneous or missing " in quoted-field'
                    )
                buf.append(spec[i:end])
                i = end + 1
                if i < n and spec[i] == '"':
                    buf.append('"')
                    i += 1
                    continue
                break
            if i < n and spec[i] != ",":
                raise InvalidArgument(
                    'failed to parse csv mounts: extraneous or missing " in quoted-field'
                )
            fields.append("".join(buf))
        else:
            end = spec.find(",", i)
            end = n if end < 0 else end
            field = spec[i:end]
            if '"' in field:
                raise InvalidArgument('failed to parse csv mounts: bare " in non-quoted-field')
            fields.append(field)
            i = end
        if i >= n:
            return fields
        i += 1  # the comma


def _parse_bool(key: str, value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidArgument(f"invalid value for {key}: {value}")


def _parse_uint(value: str, base: int, what: str) -> int:
    try:
        if not value or not value.isascii() or value[0] in "+-_" or "_" in value:
            raise ValueError
        number = int(value, base)
    except ValueError:
        raise InvalidArgument(f"invalid value {value} for {what}") from None
    if number >= 2**32:
        raise InvalidArgument(f"invalid value {value} for {what}")
    return number


def check_mount(spec: str) -> None:
    """The checks BuildKit makes before expansion: CSV syntax and no `from=$VAR`."""
    for item in csv_fields(spec):
        key, eq, value = item.partition("=")
        if eq and key.lower() == "from":
            idx = value.find("$")
            if idx != -1 and idx != len(value) - 1:
                raise InvalidArgument(
                    "'from' doesn't support variable expansion, define alias stage instead"
                )


def parse_mount(spec: str, expand: Callable[[str], str] = lambda s: s) -> Mount:
    """Type one --mount value, expanding each value with `expand` first."""
    m: dict[str, object] = {"type": "bind"}
    ro_auto = True
    for item in csv_fields(spec):
        key, eq, value = item.partition("=")
        key = key.lower()
        kind = m["type"]
        if not eq:
            if key in ("readonly", "ro"):
                m["readonly"], ro_auto = True, False
            elif key in ("readwrite", "rw"):
                m["readonly"], ro_auto = False, False
            elif key == "required" and kind in ("secret", "ssh"):
                m["required"] = True
            elif key == "required":
                raise InvalidArgument(f"unexpected key '{key}' for mount type '{kind}'")
            else:
                raise InvalidArgument(f"invalid field '{item}' must be a key=value pair")
            continue
        value = expand(value)
        if key == "type":
            low = value.lower()
            if low not in MOUNT_TYPES:
                raise InvalidArgument(f'unsupported mount type "{value}"')
            m["type"] = low
        elif key == "from":
            m["from_"] = value
        elif key in ("source", "src"):
            m["source"] = value
        elif key in ("target", "dst", "destination"):
            m["target"] = value
        elif key in ("readonly", "ro"):
            m["readonly"], ro_auto = _parse_bool(key, value), False
        elif key in ("readwrite", "rw"):
            m["readonly"], ro_auto = not _parse_bool(key, value), False
        elif key == "required":
            if kind not in ("secret", "ssh"):
                raise InvalidArgument(f"unexpected key '{key}' for mount type '{kind}'")
            m["required"] = _parse_bool(key, value)
        elif key == "size":
            if kind != "tmpfs":
                raise InvalidArgument(f"unexpected key '{key}' for mount type '{kind}'")
            try:
                m["size"] = parse_ram_size(value)
            except InvalidArgument:
                raise InvalidArgument(f"invalid value for {key}: {value}") from None
        elif key == "id":
            m["id"] = value
        elif key == "sharing":
            low = value.lower()
            if low not in SHARING_MODES:
                raise InvalidArgument(f'unsupported sharing value "{value}"')
            m["sharing"] = low
        elif key == "mode":
            m["mode"] = _parse_uint(value, 8, "mode")
        elif key == "uid":
            m["uid"] = _parse_uint(value, 10, "uid")
        elif key == "gid":
            m["gid"] = _parse_uint(value, 10, "gid")
        elif key == "env":
            m["env"] = value
        else:
            raise InvalidArgument(f"unexpected key '{key}' in '{item}'")
    mount = Mount(**m)  # type: ignore[arg-type]
    return _validate(mount, ro_auto)


def _validate(m: Mount, ro_auto: bool) -> Mount:
    from dockyard.record import replace

    if m.type not in ("secret", "ssh", "cache"):
        for name in ("mode", "uid", "gid"):
            if getattr(m, name) is not None:
                raise InvalidArgument(f'{name} not allowed for "{m.type}" type mounts')
    if ro_auto:
        m = replace(m, readonly=m.type not in ("cache", "tmpfs"))
    if m.type == "secret":
        if m.from_:
            raise InvalidArgument("secret mount should not have a from")
        if m.sharing:
            raise InvalidArgument("secret mount should not define sharing")
        if not (m.source or m.target or m.id):
            raise InvalidArgument("invalid secret mount. one of source, target required")
        if m.source and m.id:
            raise InvalidArgument("both source and id can't be set")
    if m.sharing and m.type != "cache":
        raise InvalidArgument(f"invalid cache sharing set for {m.type} mount")
    return m
