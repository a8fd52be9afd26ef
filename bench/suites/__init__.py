"""The suites, in the order they run. Each issue adds or completes its own suite here: a module
with ``SUITE = Suite(...)`` whose ``run(ctx)`` returns comparisons, pending slots and notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Suite:
    name: str
    title: str
    needs: tuple[str, ...]  # anchor executables (see bench.anchors.PACKAGES)
    run: Callable  # (Ctx) -> dict(comparisons, pending, notes, broken)


def all_suites() -> dict[str, Suite]:
    from bench.suites import build, cli, image, images, registry, run

    mods = (cli, images, image, run, build, registry)
    return {m.SUITE.name: m.SUITE for m in mods}
