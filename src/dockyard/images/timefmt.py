"""RFC 3339 timestamps as Go writes them (nanoseconds, "Z") and their unix seconds."""

import time


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (what calendar.timegm does, without
    importing calendar and locale on the `images` path)."""
    if m <= 2:
        y -= 1  # count from March, so the leap day ends a year
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def now_rfc3339nano(ns: int | None = None) -> str:
    """Like Go's time.Now().UTC().Format(time.RFC3339Nano): trailing zeros of the fraction dropped."""
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        base += "." + f"{frac:09d}".rstrip("0")
    return base + "Z"


def from_unix(secs: float) -> str:
    return now_rfc3339nano(int(secs * 1_000_000_000))


def to_unix(text: str) -> int:
    """Seconds since the epoch of an RFC 3339 timestamp; 0 when empty or unreadable."""
    return to_unix_ns(text) // 1_000_000_000


def to_unix_ns(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 timestamp; 0 when empty or unreadable."""
    if not text:
        return 0
    try:
        date, _, rest = text.partition("T")
        y, mo, d = (int(x) for x in date.split("-"))
        offset = 0
        clock = rest
        if rest.endswith(("Z", "z")):
            clock = rest[:-1]
        else:
            for sign in ("+", "-"):
                idx = rest.rfind(sign)
                if idx > 0:
                    clock, tz = rest[:idx], rest[idx + 1 :]
                    hh, _, mm = tz.partition(":")
                    offset = (int(hh) * 3600 + int(mm or 0) * 60) * (1 if sign == "+" else -1)
                    break
        hms, _, frac = clock.partition(".")
        h, mi, s = (int(x) for x in hms.split(":"))
        if not (1 <= mo <= 12 and 1 <= y <= 9999):
            return 0  # what calendar.timegm refused (it leaves days and hours unchecked)
        secs = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset
        return secs * 1_000_000_000 + (int(frac[:9].ljust(9, "0")) if frac else 0)
    except ValueError:
        return 0
