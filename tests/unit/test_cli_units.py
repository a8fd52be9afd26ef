"""Sizes and durations print exactly as Docker's go-units does (its own test vectors)."""

import pytest

from dockyard.cli.units import (
    bytes_size,
    human_duration,
    human_size,
    human_size_precision,
    since,
    truncate_id,
)

KB, MB, GB, TB, PB = 1000, 1000**2, 1000**3, 1000**4, 1000**5
KiB, MiB, GiB, TiB, PiB = 1024, 1024**2, 1024**3, 1024**4, 1024**5
SEC, MIN, HOUR = 1, 60, 3600
DAY = 24 * HOUR
WEEK, MONTH, YEAR = 7 * DAY, 30 * DAY, 365 * DAY


@pytest.mark.parametrize(
    "size, want",
    [
        (1000, "1kB"),
        (1024, "1.024kB"),
        (1000000, "1MB"),
        (1048576, "1.049MB"),
        (2 * MB, "2MB"),
        (3.42 * GB, "3.42GB"),
        (5.372 * TB, "5.372TB"),
        (2.22 * PB, "2.22PB"),
        (10000000000000 * PB, "1e+04YB"),
        (0, "0B"),
        (999, "999B"),
    ],
)
def test_human_size(size, want):
    assert human_size(size) == want


@pytest.mark.parametrize(
    "size, want",
    [
        (0, "0B"),
        (4_258_000, "4.26MB"),
        (1_982_385, "1.98MB"),
        (999_500, "1e+03kB"),
        (123, "123B"),
        (1234, "1.23kB"),
        (7_800_000_000, "7.8GB"),
    ],
)
def test_human_size_three_digits_as_docker_images_shows(size, want):
    assert human_size_precision(size, 3) == want


@pytest.mark.parametrize(
    "size, want",
    [
        (1024, "1KiB"),
        (1024 * 1024, "1MiB"),
        (2 * MiB, "2MiB"),
        (3.42 * GiB, "3.42GiB"),
        (5.372 * TiB, "5.372TiB"),
        (2.22 * PiB, "2.22PiB"),
        (KiB**5 * PiB, "1.049e+06YiB"),
    ],
)
def test_bytes_size(size, want):
    assert bytes_size(size) == want


@pytest.mark.parametrize(
    "seconds, want",
    [
        (0.45, "Less than a second"),
        (1 * SEC, "1 second"),
        (45 * SEC, "45 seconds"),
        (59 * SEC, "59 seconds"),
        (60 * SEC, "About a minute"),
        (3 * MIN, "3 minutes"),
        (35 * MIN + 40, "35 minutes"),
        (45 * MIN + 40, "45 minutes"),
        (59 * MIN, "59 minutes"),
        (1 * HOUR, "About an hour"),
        (HOUR + 29 * MIN, "About an hour"),
        (HOUR + 31 * MIN, "2 hours"),
        (HOUR + 59 * MIN, "2 hours"),
        (3 * HOUR + 29 * MIN, "3 hours"),
        (3 * HOUR + 31 * MIN, "4 hours"),
        (24 * HOUR, "24 hours"),
        (DAY + 12 * HOUR, "36 hours"),
        (2 * DAY, "2 days"),
        (7 * DAY, "7 days"),
        (13 * DAY + 5 * HOUR, "13 days"),
        (2 * WEEK, "2 weeks"),
        (2 * WEEK + 4 * DAY, "2 weeks"),
        (4 * WEEK + 3 * DAY, "4 weeks"),
        (MONTH, "4 weeks"),
        (MONTH + 2 * WEEK, "6 weeks"),
        (2 * MONTH, "2 months"),
        (5 * MONTH + 2 * WEEK, "5 months"),
        (13 * MONTH, "13 months"),
        (24 * MONTH, "24 months"),
        (24 * MONTH + 2 * WEEK, "2 years"),
        (3 * YEAR + 2 * MONTH, "3 years"),
    ],
)
def test_human_duration(seconds, want):
    assert human_duration(seconds) == want


def test_since_says_ago():
    assert since(1000, now=1000 + 2 * WEEK) == "2 weeks ago"
    assert since(1000, now=1000 + 70) == "About a minute ago"


@pytest.mark.parametrize(
    "ident, want",
    [
        ("sha256:f6cf59edea55daed8f97b9240da2006ca1a4caf4a3ec3895eaf6b3aca53d8dfb", "f6cf59edea55"),
        ("f6cf59edea55daed8f97b9240da2006ca1a4caf4a3ec3895eaf6b3aca53d8dfb", "f6cf59edea55"),
        ("<missing>", "<missing>"),
    ],
)
def test_truncate_id(ident, want):
    assert truncate_id(ident) == want
