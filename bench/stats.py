"""Pure statistics over timing samples: summaries, per-round ratios and their medians."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def median(xs: Sequence[float]) -> float | None:
    """The median, or None for no samples."""
    return statistics.median(xs) if xs else None


def summary(xs: Sequence[float]) -> dict:
    """n / min / median / max / mean of a list of seconds (empty dict for no samples)."""
    if not xs:
        return {}
    return {
        "n": len(xs),
        "min": min(xs),
        "median": statistics.median(xs),
        "max": max(xs),
        "mean": statistics.fmean(xs),
    }


def pairwise_ratios(
    subject: dict[int, float], anchor: dict[int, float], invert: bool = False
) -> list[float]:
    """subject time / anchor time for every round in which both have a sample (round -> seconds).

    ``invert`` gives anchor / subject instead, i.e. the subject's throughput relative to the anchor.
    """
    out = []
    for r in sorted(subject.keys() & anchor.keys()):
        a, b = subject[r], anchor[r]
        if a <= 0 or b <= 0:
            continue
        out.append(b / a if invert else a / b)
    return out


def median_ratio(
    subject: dict[int, float], anchor: dict[int, float], invert: bool = False
) -> float | None:
    """The median of the per-round ratios (None when no round has both samples)."""
    return median(pairwise_ratios(subject, anchor, invert))


def throughput(nbytes: int | None, seconds: float | None) -> float | None:
    """MB/s (10**6 bytes per second), or None when either side is unknown."""
    if not nbytes or not seconds:
        return None
    return nbytes / seconds / 1e6
