"""RFC 3339 -> unix time without `calendar`: the same answers calendar.timegm gave."""

import calendar
import time

import pytest

from dockyard.images import timefmt


@pytest.mark.parametrize(
    "text",
    [
        "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2000-02-29T12:34:56.5Z",
        "2024-02-29T00:00:00+05:30",
        "2100-03-01T00:00:00-08:00",
        "0001-01-01T00:00:00Z",  # Go's zero time, which Docker prints for "never"
        "9999-12-31T23:59:59.999999999Z",
        "1900-02-28T23:00:00Z",
    ],
)
def test_to_unix_agrees_with_calendar_timegm(text):
    date, _, clock = text.partition("T")
    y, mo, d = (int(x) for x in date.split("-"))
    h, mi, s = (int(x[:2]) for x in clock.split(":")[:3])
    tz = clock[8:].lstrip(".0123456789")
    offset = 0
    if tz not in ("Z", ""):
        sign = 1 if tz[0] == "+" else -1
        offset = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    want = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - offset
    assert timefmt.to_unix(text) == want


def test_every_day_of_four_centuries_matches():
    for days in range(-146097, 2 * 146097, 7):
        y, mo, d = time.gmtime(days * 86400)[:3]
        assert timefmt.to_unix(f"{y:04d}-{mo:02d}-{d:02d}T00:00:00Z") == days * 86400


@pytest.mark.parametrize("text", ["", "garbage", "2024-13-01T00:00:00Z", "0000-01-01T00:00:00Z"])
def test_unreadable_or_impossible_dates_are_zero(text):
    assert timefmt.to_unix(text) == 0
