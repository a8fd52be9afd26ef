"""Go-style duration and size strings, as the Dockerfile flags accept them.

`parse_duration` follows Go's `time.ParseDuration` ("1h30m", "1.5s", "300ms", "-2us");
`parse_ram_size` follows go-units `RAMInBytes` ("64m", "1.5GiB", "1024"), binary units.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_MAX_NS = 2**63 - 1


def parse_duration(text: str) -> int:
    """Nanoseconds in `text`; InvalidArgument when it is not a Go duration."""
    bad = InvalidArgument(f'time: invalid duration "{text}"')
    s = text
    negative = False
    if s[:1] in ("-", "+"):
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise bad
    total = 0
    while s:
        i = 0
        while i < len(s) and s[i].isascii() and s[i].isdigit():
            i += 1
        whole = s[:i]
        s = s[i:]
        frac = ""
        if s.startswith("."):
            s = s[1:]
            j = 0
            while j < len(s) and s[j].isascii() and s[j].isdigit():
                j += 1
            frac, s = s[:j], s[j:]
        if not whole and not frac:
            raise bad
        k = 0
        while k < len(s) and s[k] != "." and not (s[k].isascii() and s[k].isdigit()):
            k += 1
        unit, s = s[:k], s[k:]
        scale = _UNITS.get(unit)
        if scale is None:
            if not unit:
                raise InvalidArgument(f'time: missing unit in duration "{text}"')
            raise InvalidArgument(f'time: unknown unit "{unit}" in duration "{text}"')
        value = int(whole or "0") * scale
        if frac:
            value += int(frac) * scale // 10 ** len(frac)
        total += value
        if total > _MAX_NS + (1 if negative else 0):
            raise bad
    return -total if negative else total


_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


def parse_ram_size(text: str) -> int:
    """Bytes in a size like `64m` or `1.5GiB` (powers of 1024)."""
    bad = InvalidArgument(f"invalid size: '{text}'")
    s = text
    i = 0
    while i < len(s) and ((s[i].isascii() and s[i].isdigit()) or s[i] == "."):
        i += 1
    number, suffix = s[:i], s[i:]
    if not number or number[0] == "." or number.endswith(".") or ".." in number:
        raise bad
    suffix = suffix.removeprefix(" ").lower()
    if suffix.endswith("b"):
        suffix = suffix[:-1]
    if suffix.endswith("i") and len(suffix) == 2:
        suffix = suffix[:-1]
    if suffix not in _SIZE_UNITS:
        raise bad
    try:
        value = float(number)
    except ValueError:
        raise bad from None
    return int(value * _SIZE_UNITS[suffix])
