"""Shared helpers to read JSON documents into typed values with clear errors."""

from __future__ import annotations

from dockyard.errors import InvalidArgument


def loads_object(data: bytes, what: str) -> dict[str, object]:
    from dockyard import fastjson  # the `json` package costs ~7 ms of start-up (re, enum)

    try:
        value = fastjson.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"{what}: not valid JSON ({e})")
    if not isinstance(value, dict):
        raise InvalidArgument(f"{what}: expected a JSON object")
    return value


def dumps(value: object) -> bytes:
    """Compact JSON as Go's encoding/json writes it (no spaces, <>& escaped)."""
    from dockyard import fastjson

    text = fastjson.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def get_str(obj: dict[str, object], key: str, what: str, default: str = "") -> str:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidArgument(f"{what}: {key} must be a string")
    return value


def get_int(obj: dict[str, object], key: str, what: str, default: int = 0) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{what}: {key} must be an integer")
    return value


def get_list_of_str(obj: dict[str, object], key: str, what: str) -> list[str] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"{what}: {key} must be a list of strings")
    return list(value)


def get_str_map(obj: dict[str, object], key: str, what: str) -> dict[str, str] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidArgument(f"{what}: {key} must be an object of strings")
    return dict(value)


def get_set(obj: dict[str, object], key: str, what: str) -> dict[str, dict] | None:
    """Go's map[string]struct{} as used for ExposedPorts and Volumes."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidArgument(f"{what}: {key} must be an object")
    return {str(k): {} for k in value}
