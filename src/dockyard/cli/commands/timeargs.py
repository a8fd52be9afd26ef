"""`--since`/`--until` values as Docker's timetypes.GetTimestamp reads them: a Go duration
("10m", "1h30m", "1.5s": that long before now), an RFC 3339 date or time (local time when
no zone is given), or unix seconds ("1700000000.5")."""

from dockyard.errors import InvalidArgument

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def go_duration(text: str) -> float | None:
    """Go's time.ParseDuration in seconds, or None if `text` is not a duration."""
    s = text
    sign = 1.0
    if s[:1] in "+-" and s:
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        return None
    total = 0.0
    while s:
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] == "."):
            i += 1
        number = s[:i]
        if not number or number == "." or number.count(".") > 1:
            return None
        j = i
        while j < len(s) and not (s[j].isdigit() or s[j] == "."):
            j += 1
        unit = s[i:j]
        if unit not in _UNITS:
            return None
        total += float(number) * _UNITS[unit]
        s = s[j:]
    return sign * total


def timestamp(value: str, now: float) -> float:
    """Unix seconds for a --since/--until value."""
    d = go_duration(value)
    if d is not None and value != "0":
        return now - d
    if "-" in value[1:] or "T" in value:
        return _rfc3339(value)
    sec, dot, frac = value.partition(".")
    if sec.isdigit() and (not dot or frac.isdigit()):
        return float(value)
    raise InvalidArgument(f'failed to parse value as time or duration: "{value}"')


def _rfc3339(value: str) -> float:
    from datetime import datetime

    text = value
    if "." in text:  # Python takes at most 6 fractional digits; Go takes 9
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = head + "." + rest[: min(digits, 6)].ljust(6, "0") + rest[digits:]
    try:
        t = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidArgument(f'failed to parse value as time or duration: "{value}"') from None
    if t.tzinfo is None:
        t = t.astimezone()  # no zone given: the local one, as Docker's ParseInLocation
    return t.timestamp()
