"""registry suite (registry issue): pushing and pulling the big image through dockyard's registry
vs docker-registry (skopeo as the client of both), and dockyard's push client vs skopeo.
Until dockyard has them, only the docker-registry/skopeo halves are timed."""

from __future__ import annotations

import os
import shutil
import subprocess

from bench.suites import Suite
from bench.suites.common import dockyard_case, measure, new_output
from bench.timing import Case, Comparison

SERVER = "dockyard registry"


def _skopeo_push(src: str, dest: str) -> list[str]:
    return ["skopeo", "copy", "-q", "--dest-tls-verify=false", src, dest]


def run(ctx) -> dict:
    out = new_output()
    mb = 20 if ctx.quick else 100
    big, ref, _size = ctx.big_archive(mb)
    env = ctx.podman().env  # skopeo reads the same registries.conf / tmp dir
    # push from an OCI layout so layer compression happens once, untimed, not inside each push
    layout = f"{ctx.workdir}/inputs/oci-big{mb}"
    if not os.path.isdir(layout):
        subprocess.run(
            ["skopeo", "copy", "-q", f"docker-archive:{big}", f"oci:{layout}:big"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    blobs = f"{layout}/blobs/sha256"
    nbytes = sum(os.path.getsize(f"{blobs}/{b}") for b in os.listdir(blobs))
    addr = ctx.start_registry()
    server_missing = (
        f"{ctx.missing_in_dockyard('registry') or 'dockyard registry serve'}: "
        "its half is added with the registry issue"
    )
    dest = f"docker://{addr}/dybench/big:skopeo"
    push = Comparison(
        f"push {mb} MB (skopeo, OCI layout → empty registry)",
        [
            Case(SERVER, ["dockyard", "registry", "serve"], unavailable=server_missing),
            Case(
                "docker-registry",
                _skopeo_push(f"oci:{layout}:big", dest),
                env,
                prepare=[ctx.start_registry],
            ),
        ],
        subject=SERVER,
        nbytes=nbytes,
        goal="registry-push",
        sync=True,
    )
    measure(ctx, out, push, runs=5, warmup=1)

    ctx.start_registry()
    subprocess.run(_skopeo_push(f"oci:{layout}:big", dest), env=env, check=False)
    pulled = f"{ctx.workdir}/pulled"
    pull = Comparison(
        f"pull {mb} MB (skopeo, registry → new OCI layout)",
        [
            Case(SERVER, ["dockyard", "registry", "serve"], unavailable=server_missing),
            Case(
                "docker-registry",
                ["skopeo", "copy", "-q", "--src-tls-verify=false", dest, f"oci:{pulled}:big"],
                env,
                prepare=[lambda: shutil.rmtree(pulled, ignore_errors=True)],
            ),
        ],
        subject=SERVER,
        nbytes=nbytes,
        goal="registry-pull",
        sync=True,
    )
    measure(ctx, out, pull, runs=5, warmup=1)
    shutil.rmtree(pulled, ignore_errors=True)

    # the client half: dockyard push vs skopeo, both into docker-registry
    dy = dockyard_case(
        ctx, ["push", f"{addr}/dybench/big:dockyard"], ("load", "tag", "push", "rmi")
    )
    if dy.unavailable:
        out["pending"].append(
            {"name": f"client push {mb} MB (dockyard push vs skopeo)", "goal": "registry-client",
             "reason": dy.unavailable}
        )  # fmt: skip
    else:
        dyk = ctx.dockyard()
        dyk.run("load", "-i", big)
        dyk.run("tag", ref, f"{addr}/dybench/big:dockyard")
        dy.prepare = [ctx.start_registry]
        client = Comparison(
            f"client push {mb} MB (into an empty docker-registry)",
            [
                dy,
                Case(
                    "skopeo",
                    _skopeo_push(f"oci:{layout}:big", dest),
                    env,
                    prepare=[ctx.start_registry],
                ),
            ],
            nbytes=nbytes,
            goal="registry-client",
            sync=True,
        )
        measure(ctx, out, client, runs=5, warmup=1)
        dyk.run("rmi", "-f", ref, f"{addr}/dybench/big:dockyard", check=False)
    ctx.stop_registry()
    out["notes"].append(
        f"{nbytes / 1e6:.1f} MB of blobs (gzip layers of random data + config); the registry is "
        "restarted with empty storage before each push; MB/s = blob bytes / median seconds"
    )
    return out


SUITE = Suite("registry", "registry server and client", ("skopeo", "docker-registry"), run)
