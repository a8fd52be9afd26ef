"""images suite: listing N images (N=100; 10 with --quick), each engine holding the busybox tar
imported under N names."""

from __future__ import annotations

from bench.suites import Suite
from bench.suites.common import dockyard_case, listed, measure, new_output, safe_setup, verify
from bench.timing import Case, Comparison


def _refs(n: int) -> list[str]:
    return [f"localhost/dybench/list{i:03d}:latest" for i in range(n)]


def run(ctx) -> dict:
    out = new_output()
    n = 10 if ctx.quick else 100
    tar = ctx.busybox_tar()
    refs = _refs(n)
    dy = dockyard_case(ctx, ["images"], ("import", "images", "rmi"))
    pod, dock = ctx.podman(), ctx.docker()
    imports = {
        "docker": lambda ref: dock.run("import", tar, ref),
        "podman": lambda ref: pod.run("import", "-q", tar, ref),
    }
    if not dy.unavailable:
        imports["dockyard"] = lambda ref: ctx.dockyard().run("import", tar, ref)
    failed = {}
    for tool, imp in imports.items():
        ctx.log(f"importing the busybox tar under {n} names into {tool}")
        failed[tool] = safe_setup(out, f"{tool} import", lambda imp=imp: [imp(r) for r in refs])
    if failed.get("dockyard"):
        dy.unavailable = failed["dockyard"]
    cmp = Comparison(
        f"images ({n} images)",
        [
            dy,
            Case("podman", pod.argv("images"), pod.env, unavailable=failed["podman"]),
            Case("docker", dock.argv("images"), dock.env, unavailable=failed["docker"]),
        ],
        goal="images-list",
    )
    res = measure(ctx, out, cmp, runs=20, warmup=2)
    engines = {"podman": pod, "docker": dock, "dockyard": ctx.dockyard()}
    for case in cmp.cases:
        if not case.unavailable:
            ok = listed(engines[case.tool], "localhost/dybench/list", n)
            verify(out, res, case.tool, ok, f"`images` lists the {n} imported images")
    # leave the engines as we found them for the next suite
    dock.run("rmi", "-f", *refs, check=False)
    pod.run("rmi", "-f", *refs, check=False)
    if "dockyard" in imports:
        ctx.dockyard().run("rmi", "-f", *refs, check=False)
    out["notes"].append(
        f"each engine holds the busybox rootfs tar imported {n} times "
        f"(localhost/dybench/listNNN:latest)"
    )
    return out


SUITE = Suite(
    "images", "listing images", ("podman", "/usr/bin/docker", "dockerd", "/bin/busybox"), run
)
