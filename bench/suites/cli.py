"""cli suite: CLI start-up — `dockyard --version` vs `podman --version` and `docker --version`."""

from __future__ import annotations

from bench.context import DOCKER
from bench.suites import Suite
from bench.suites.common import dockyard_case, measure, new_output
from bench.timing import Case, Comparison


def run(ctx) -> dict:
    out = new_output()
    pod = ctx.podman()
    cmp = Comparison(
        "CLI start (--version)",
        [
            dockyard_case(ctx, ["--version"], ()),
            Case("podman", ["podman", "--version"], pod.env),
            # the docker CLI prints its version without a daemon
            Case("docker", [DOCKER, "--version"]),
        ],
        goal="cli-start",
    )
    measure(ctx, out, cmp, runs=30, warmup=3)
    return out


SUITE = Suite("cli", "CLI start-up", ("podman", "/usr/bin/docker"), run)
