"""build suite (build issue): the 6-step build (FROM busybox, ENV, WORKDIR, COPY 10 MB, RUN, CMD)
cold, cached and after changing the COPY'd file — dockyard vs BuildKit, Docker's classic builder
and buildah alongside; and each tool's overhead: its cold median minus the RUN command's own
time (the same shell loop run directly in a busybox rootfs with chroot)."""

from __future__ import annotations

from bench import inputs
from bench.suites import Suite
from bench.suites.common import dockyard_case, listed, measure, new_output, safe_setup, verify
from bench.timing import Case, Comparison

BUSYBOX = "localhost/dybench/busybox:latest"
TAG = "localhost/dybench/built:latest"


def run(ctx) -> dict:
    out = new_output()
    tar = ctx.busybox_tar()
    dock, pod, dyk = ctx.docker(), ctx.podman(), ctx.dockyard()
    big = (2 << 20) if ctx.quick else (10 << 20)
    context = inputs.build_context(f"{ctx.workdir}/build-ctx", BUSYBOX, big)
    why = {"dockyard": ctx.missing_in_dockyard("import", "build", "rmi")}
    if not why["dockyard"]:
        why["dockyard"] = safe_setup(
            out, "dockyard import busybox", lambda: dyk.run("import", tar, BUSYBOX)
        )
    why["buildkit"] = safe_setup(
        out, "docker import busybox", lambda: dock.run("import", tar, BUSYBOX)
    )
    why["classic"] = why["buildkit"]
    why["buildah"] = safe_setup(
        out, "podman import busybox", lambda: pod.run("import", "-q", tar, BUSYBOX)
    )

    bk_env = dict(dock.env, DOCKER_BUILDKIT="1")
    classic_env = dict(dock.env, DOCKER_BUILDKIT="0")
    argv = {
        "dockyard": dyk.argv("build", "-q", "--network", "none", "-t", TAG, context),
        "buildkit": dock.argv("build", "-q", "--network", "none", "-t", TAG, context),
        "classic": dock.argv("build", "-q", "--network", "none", "-t", TAG, context),
        "buildah": [
            "buildah", "bud", "-q", "--runtime", "runc", "--network", "none", "--layers",
            "-t", TAG, context,
        ],
    }  # fmt: skip
    env = {"dockyard": dyk.env, "buildkit": bk_env, "classic": classic_env, "buildah": pod.env}
    wipe = {
        "dockyard": [dyk.argv("rmi", "-f", TAG), dyk.argv("builder", "prune", "-af")],
        "buildkit": [
            dock.argv("rmi", "-f", TAG),
            dock.argv("image", "prune", "-f"),
            dock.argv("builder", "prune", "-af"),
        ],
        # the classic builder's cache is the tagged image's parent chain: gone with it
        "classic": [dock.argv("rmi", "-f", TAG), dock.argv("image", "prune", "-f")],
        "buildah": [
            ["buildah", "rm", "--all"],
            pod.argv("rmi", "-f", TAG),
            pod.argv("image", "prune", "-f"),
        ],
    }
    order = ("dockyard", "buildkit", "classic", "buildah")

    def case(name: str, prepare: list, needs: tuple[str, ...] = ("build",)) -> Case:
        if name == "dockyard":
            c = dockyard_case(ctx, argv[name][len(dyk.base) :], needs, prepare=prepare)
            c.unavailable = c.unavailable or why["dockyard"]
            return c
        return Case(name, argv[name], env[name], prepare=prepare, unavailable=why[name])

    cold = Comparison(
        "build cold (image and build cache removed)",
        # without `builder prune` dockyard's "cold" build would hit its cache
        [case(n, wipe[n], ("build", "builder")) for n in order],
        goal="build-cold",
        sync=True,
    )
    res = measure(ctx, out, cold, runs=5, warmup=1)
    lister = {"dockyard": dyk, "buildkit": dock, "classic": dock, "buildah": pod}
    for c in cold.cases:
        if not c.unavailable:
            ok = listed(lister[c.tool], TAG.rsplit(":", 1)[0])
            verify(out, res, c.tool, ok, f"{TAG} is listed after the build")
    cached = Comparison(
        "build cached (nothing changed)", [case(n, []) for n in order], goal="build-cached"
    )
    measure(ctx, out, cached, runs=10, warmup=1)
    touch = [lambda: inputs.touch_big(context)]
    changed = Comparison(
        "build after changing the COPY'd file",
        [case(n, touch) for n in order],
        goal="build-changed",
        sync=True,
    )
    measure(ctx, out, changed, runs=5, warmup=1)
    for name in order:
        if not why.get(name):
            for step in wipe[name]:
                _quiet(step, env[name])
    for eng in (dock, pod, *(() if why["dockyard"] else (dyk,))):
        eng.run("rmi", "-f", BUSYBOX, check=False)
    out["notes"].append(
        f"context: Dockerfile of 6 steps + big.bin ({big >> 20} MiB random); BuildKit is "
        "DOCKER_BUILDKIT=1 /usr/bin/docker build, classic is DOCKER_BUILDKIT=0 (dockerd 20.10); "
        "cold = image, dangling images and build cache removed first"
    )
    out["notes"].append(_overhead(res, ctx, tar))
    return out


def _overhead(cold: dict, ctx, tar: str) -> str:
    """Each tool's cold-build median minus the RUN command's own time."""
    own = _run_step_alone(ctx, tar)
    parts = []
    for c in cold["cases"]:
        median = c["stats"].get("median")
        if not c["unavailable"] and median:
            parts.append(f"{c['tool']} {(median - own) * 1000:.0f} ms")
    return (
        f"overhead (cold median minus the RUN command's own {own * 1000:.1f} ms, its median "
        "run directly in a busybox rootfs with chroot): " + ", ".join(parts)
    )


def _run_step_alone(ctx, tar: str) -> float:
    """The RUN step's shell loop, timed on its own in a fresh busybox rootfs (median of 7)."""
    import os
    import shutil
    import statistics
    import subprocess
    import time

    from bench.inputs import DOCKERFILE

    line = next(ln for ln in DOCKERFILE.splitlines() if ln.startswith("RUN "))
    # A fresh root per run, spread over the disk (ext4's top-dir flag): on ext4 without a
    # journal, creating files where many were just deleted scans past each of them for 30 s
    # (a root removed and made again in place measured 183 ms for this loop instead of ~10).
    parent = os.path.join(ctx.workdir, "run-step-roots")
    os.makedirs(parent, exist_ok=True)
    subprocess.run(["chattr", "+T", parent], stderr=subprocess.DEVNULL, check=False)
    times = []
    try:
        for i in range(7):
            root = os.path.join(parent, str(i))
            os.makedirs(root)
            subprocess.run(["tar", "-xf", tar, "-C", root], check=True)
            os.makedirs(os.path.join(root, "app"), exist_ok=True)
            t0 = time.perf_counter()
            subprocess.run(["chroot", root, "/bin/sh", "-c", line[4:]], check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            times.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    return statistics.median(times)


def _quiet(argv: list[str], env: dict) -> None:
    import subprocess

    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


SUITE = Suite("build", "Dockerfile builds", ("/usr/bin/docker", "dockerd", "buildah"), run)
