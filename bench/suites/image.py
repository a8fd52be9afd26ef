"""image suite: import of the busybox rootfs tar; save and load of a multi-layer image of random
data (100 MB; 20 MB with --quick), MB/s from the archive size."""

from __future__ import annotations

import os

from bench.suites import Suite
from bench.suites.common import dockyard_case, listed, measure, new_output, safe_setup, verify
from bench.timing import Case, Comparison

IMPORT_REF = "localhost/dybench/imported:latest"


def _rm(path: str):
    def step() -> None:
        if os.path.exists(path):
            os.unlink(path)

    return step


def run(ctx) -> dict:
    out = new_output()
    pod, dock, dyk = ctx.podman(), ctx.docker(), ctx.dockyard()
    tar = ctx.busybox_tar()

    # -- import
    dy = dockyard_case(
        ctx,
        ["import", tar, IMPORT_REF],
        ("import", "rmi"),
        prepare=[dyk.argv("rmi", "-f", IMPORT_REF)],
    )
    cmp = Comparison(
        "import busybox rootfs tar",
        [
            dy,
            Case(
                "podman",
                pod.argv("import", "-q", tar, IMPORT_REF),
                pod.env,
                prepare=[pod.argv("rmi", "-f", IMPORT_REF)],
            ),
            Case(
                "docker",
                dock.argv("import", tar, IMPORT_REF),
                dock.env,
                prepare=[dock.argv("rmi", "-f", IMPORT_REF)],
            ),
        ],
        nbytes=os.path.getsize(tar),
    )
    res = measure(ctx, out, cmp, runs=10, warmup=1)
    for case, eng in zip(cmp.cases, (dyk, pod, dock), strict=True):
        if not case.unavailable:
            ok = listed(eng, IMPORT_REF.rsplit(":", 1)[0])
            verify(out, res, case.tool, ok, f"{IMPORT_REF} is listed after import")

    # -- the big image, loaded once (untimed) into every engine
    mb = 20 if ctx.quick else 100
    ctx.log(f"writing a {mb} MB multi-layer docker-archive of random data")
    big, ref, size = ctx.big_archive(mb)
    out["notes"].append(
        f"big image: {ref}, 4 layers of random data, docker-archive of "
        f"{size / 1e6:.1f} MB; MB/s = archive bytes / median seconds"
    )
    engines = {"podman": pod, "docker": dock}
    unavailable = {"dockyard": ctx.missing_in_dockyard("load", "save", "rmi")}
    if not unavailable["dockyard"]:
        engines["dockyard"] = dyk
    for name, eng in engines.items():
        unavailable[name] = safe_setup(
            out, f"{name} load {ref}", lambda eng=eng: eng.run("load", "-i", big)
        )
    outdir = f"{ctx.workdir}/out"
    os.makedirs(outdir, exist_ok=True)

    def save_case(name: str) -> Case:
        eng = {"dockyard": dyk, "podman": pod, "docker": dock}[name]
        dest = f"{outdir}/{name}-save.tar"
        q = ["-q"] if name == "podman" else []
        return Case(
            name,
            eng.argv("save", *q, "-o", dest, ref),
            eng.env,
            prepare=[_rm(dest)],
            unavailable=unavailable[name],
        )

    cmp = Comparison(
        f"save {mb} MB image",
        [save_case(n) for n in ("dockyard", "podman", "docker")],
        nbytes=size,
        goal="image-save",
        sync=True,
    )
    res = measure(ctx, out, cmp, runs=5, warmup=1)
    for n in ("dockyard", "podman", "docker"):
        dest = f"{outdir}/{n}-save.tar"
        # random data does not compress: a real save is at least about as big as the input
        got = os.path.getsize(dest) if os.path.exists(dest) else 0
        verify(out, res, n, got >= 0.9 * size, f"saved archive is {got / 1e6:.1f} MB")
        _rm(dest)()

    def load_case(name: str) -> Case:
        eng = {"dockyard": dyk, "podman": pod, "docker": dock}[name]
        q = [] if name == "dockyard" else ["-q"]
        return Case(
            name,
            eng.argv("load", *q, "-i", big),
            eng.env,
            prepare=[eng.argv("rmi", "-f", ref)],
            unavailable=unavailable[name],
        )

    cmp = Comparison(
        f"load {mb} MB image (removed before each load)",
        [load_case(n) for n in ("dockyard", "podman", "docker")],
        nbytes=size,
        goal="image-load",
        sync=True,
    )
    res = measure(ctx, out, cmp, runs=5, warmup=1)
    for case in cmp.cases:
        if not case.unavailable:
            ok = listed(engines[case.tool], ref.rsplit(":", 1)[0])
            verify(out, res, case.tool, ok, f"{ref} is listed after load")
    for name, eng in engines.items():
        eng.run("rmi", "-f", IMPORT_REF, check=False)
        eng.run("rmi", "-f", ref, check=False)
        # the prepare step must really remove the image, or each "load" only re-tagged it
        gone = not listed(eng, ref.rsplit(":", 1)[0])
        verify(out, res, name, gone, "`rmi -f` removes the image before each load")
    return out


SUITE = Suite(
    "image", "import, save and load", ("podman", "/usr/bin/docker", "dockerd", "/bin/busybox"), run
)
