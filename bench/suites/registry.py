"""registry suite (registry issue), dockyard's server and client side by side with Debian's
docker-registry and skopeo in one run:

- server: skopeo pushes and pulls the big image (several layers, and a one-layer image of the
  same size) to/from `dockyard registry serve` and docker-registry, and 20 skopeo clients pull
  the big image at once;
- client: `dockyard push` / `dockyard pull` vs `skopeo copy` against the same docker-registry,
  and a re-push of an image the registry already has (a no-op)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.request

from bench import inputs, procs
from bench.suites import Suite
from bench.suites.common import dockyard_case, listed, measure, new_output, verify
from bench.timing import Case, Comparison

SERVER = "dockyard registry"
ANCHOR = "docker-registry"
CLIENTS = 20  # concurrent pulls


class DockyardRegistry:
    """`dockyard registry serve` on a free 127.0.0.1 port with storage under the work dir,
    restarted with empty storage by ``start``; stopped by PID (ctx.started) like every service."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.root = f"{ctx.workdir}/dyregistry"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.addr = f"127.0.0.1:{s.getsockname()[1]}"

    def start(self) -> str:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(f"{self.ctx.workdir}/logs", exist_ok=True)
        dy = self.ctx.dockyard()
        argv = dy.argv("registry", "serve", "--addr", self.addr, "--root", self.root)
        s = procs.start(
            "dockyard-registry",
            argv,
            f"{self.ctx.workdir}/logs/dyregistry.log",
            marker=f"--root {self.root}",
            env=dy.env,
        )
        self.ctx.started.append(s)
        url = f"http://{self.addr}/v2/"

        def up() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return True
            except OSError:
                return False

        if not procs.wait_until(up, 20, 0.05):
            raise RuntimeError(f"dockyard registry did not come up; see {self.ctx.workdir}/logs")
        return self.addr

    def stop(self) -> None:
        for s in [x for x in self.ctx.started if x.name == "dockyard-registry"]:
            self.ctx.log(procs.stop(s))
            self.ctx.started.remove(s)


def _copy(src: str, dest: str, quiet: bool = True) -> list[str]:
    return [
        "skopeo",
        "copy",
        *(["-q"] if quiet else []),
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        src,
        dest,
    ]


def _oci_layout(ctx, env: dict, archive: str, name: str) -> tuple[str, int]:
    """An OCI layout of ``archive`` (layers gzipped once, untimed); (path, blob bytes)."""
    layout = f"{ctx.workdir}/inputs/{name}"
    if not os.path.isdir(layout):
        subprocess.run(
            _copy(f"docker-archive:{archive}", f"oci:{layout}:big"),
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    blobs = f"{layout}/blobs/sha256"
    return layout, sum(os.path.getsize(f"{blobs}/{b}") for b in os.listdir(blobs))


def _rmtree(path: str):
    return lambda: shutil.rmtree(path, ignore_errors=True)


def _fresh_dir(path: str):
    def step() -> None:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)

    return step


def run(ctx) -> dict:
    out = new_output()
    mb = 20 if ctx.quick else 100
    env = ctx.podman().env  # skopeo reads the same registries.conf / tmp dir
    big, ref, _size = ctx.big_archive(mb)
    one = f"{ctx.workdir}/inputs/one-{mb}mb.tar"
    inputs.docker_archive(one, "localhost/dybench/one:latest", mb * 1_000_000, layers=1)
    images = {
        "4 layers": _oci_layout(ctx, env, big, f"oci-big{mb}"),
        "1 layer": _oci_layout(ctx, env, one, f"oci-one{mb}"),
    }
    missing = ctx.missing_in_dockyard("registry")
    dyreg = None if missing else DockyardRegistry(ctx)
    servers = {SERVER: dyreg.start if dyreg else None, ANCHOR: ctx.start_registry}
    addrs = {SERVER: dyreg.addr if dyreg else "", ANCHOR: ctx.registry_addr()}

    def server_case(tool: str, argv: list[str], prepare: list) -> Case:
        if tool == SERVER and missing:
            return Case(tool, ["dockyard", "registry", "serve"], unavailable=missing)
        return Case(tool, argv, env, prepare=prepare)

    # -- server: skopeo pushes into an empty registry, then pulls into a new OCI layout
    def fill(layout: str) -> None:
        """Restart both registries empty and push `layout` into each (untimed)."""
        for t in (SERVER, ANCHOR):
            if servers[t]:
                servers[t]()
                src, dest = f"oci:{layout}:big", f"docker://{addrs[t]}/dybench/big:s"
                subprocess.run(_copy(src, dest), env=env, check=True)

    dests = {t: f"{ctx.workdir}/pulled-{i}" for i, t in enumerate((SERVER, ANCHOR))}
    for shape, (layout, nbytes) in images.items():
        key = "" if shape == "4 layers" else "-1"
        push = Comparison(
            f"server push {mb} MB, {shape} (skopeo, OCI layout → empty registry)",
            [
                server_case(
                    t,
                    _copy(f"oci:{layout}:big", f"docker://{addrs[t]}/dybench/big:s"),
                    [servers[t]],
                )
                for t in (SERVER, ANCHOR)
            ],
            subject=SERVER,
            nbytes=nbytes,
            goal=f"registry-push{key}",
            sync=True,
        )
        measure(ctx, out, push, runs=5, warmup=1)
        fill(layout)
        pull = Comparison(
            f"server pull {mb} MB, {shape} (skopeo, registry → new OCI layout)",
            [
                server_case(
                    t,
                    _copy(f"docker://{addrs[t]}/dybench/big:s", f"oci:{dests[t]}:big"),
                    [_rmtree(dests[t])],
                )
                for t in (SERVER, ANCHOR)
            ],
            subject=SERVER,
            nbytes=nbytes,
            goal=f"registry-pull{key}",
            sync=True,
        )
        measure(ctx, out, pull, runs=5, warmup=1)

    # many clients at once, last: its 20 copies of the image leave the most writeback behind
    layout, nbytes = images["4 layers"]
    fill(layout)
    many = Comparison(
        f"server: {CLIENTS} clients pull {mb} MB, 4 layers at once (skopeo → OCI layouts)",
        [
            server_case(
                t,
                [
                    sys.executable,
                    "-m",
                    "bench.fanout",
                    str(CLIENTS),
                    *_copy(f"docker://{addrs[t]}/dybench/big:s", f"oci:{dests[t]}/c{{i}}:big"),
                ],
                [_fresh_dir(dests[t])],
            )
            for t in (SERVER, ANCHOR)
        ],
        subject=SERVER,
        nbytes=nbytes * CLIENTS,
        goal="registry-pull-20",
        sync=True,
    )
    measure(ctx, out, many, runs=3, warmup=1)
    for d in dests.values():
        shutil.rmtree(d, ignore_errors=True)
    if dyreg:
        dyreg.stop()

    _client(ctx, out, env, mb, ref, big, *images["4 layers"])
    ctx.stop_registry()
    out["notes"] += [
        f"{images['4 layers'][1] / 1e6:.1f} MB of blobs in the 4-layer image, "
        f"{images['1 layer'][1] / 1e6:.1f} MB in the 1-layer one (gzip layers of random data + "
        "config); a registry is restarted with empty storage before each push; MB/s = blob "
        f"bytes / median seconds ({CLIENTS}× the bytes for the concurrent pull)",
        "client pull: dockyard pulls into its image store and unpacks the layers, as skopeo does "
        "into containers-storage (podman's store); that is the goal's anchor. skopeo into an OCI "
        "layout only writes the blobs and is shown for reference",
    ]
    return out


def _client(ctx, out: dict, env: dict, mb: int, ref: str, big: str, layout: str, nbytes: int):
    """dockyard push / pull vs skopeo copy, all against docker-registry."""
    addr = ctx.start_registry()
    name = f"{mb} MB, 4 layers"
    mine, theirs = f"{addr}/dybench/big:dockyard", f"{addr}/dybench/big:skopeo"
    dy = dockyard_case(ctx, ["push", "-q", mine], ("load", "tag", "push", "pull", "rmi"))
    if dy.unavailable:
        for what, goal in (
            ("push", "registry-client"),
            ("pull", "registry-client-pull"),
            ("re-push", "registry-repush"),
        ):
            out["pending"].append(
                {
                    "name": f"client {what} {name} (dockyard vs skopeo)",
                    "goal": goal,
                    "reason": dy.unavailable,
                }
            )
        return
    dyk, pod = ctx.dockyard(), ctx.podman()
    dyk.run("load", "-i", big)
    dyk.run("tag", ref, mine)
    skopeo_push = _copy(f"oci:{layout}:big", f"docker://{theirs}")

    # push into an empty registry (dockyard gzips its stored layers on the first, warm-up, push
    # and records the result, as skopeo's OCI layout holds gzip layers from the start)
    dy.prepare = [ctx.start_registry]
    client = Comparison(
        f"client push {name} (into an empty docker-registry)",
        [dy, Case("skopeo", skopeo_push, env, prepare=[ctx.start_registry])],
        nbytes=nbytes,
        goal="registry-client",
        sync=True,
    )
    measure(ctx, out, client, runs=5, warmup=1)

    # a no-op re-push: the registry has every blob and the manifest already
    ctx.start_registry()
    dyk.run("push", "-q", mine)
    subprocess.run(skopeo_push, env=env, check=True)
    again = Comparison(
        f"client re-push {name} (the registry has it all)",
        [Case("dockyard", dyk.argv("push", "-q", mine), dyk.env), Case("skopeo", skopeo_push, env)],
        goal="registry-repush",
    )
    measure(ctx, out, again, runs=20, warmup=2)
    # the loaded image shares its layers (snapshots) with the one pulled next: without it,
    # dockyard's pull would find them unpacked already
    dyk.run("rmi", "-f", ref, mine)

    # pull what skopeo pushed (its gzip blobs are not in dockyard's store)
    pulled = f"{ctx.workdir}/pulled-client"
    stored = "localhost/dybench/pulled:cs"
    pull = Comparison(
        f"client pull {name} (docker-registry → local store)",
        [
            Case(
                "dockyard",
                dyk.argv("pull", "-q", theirs),
                dyk.env,
                prepare=[dyk.argv("rmi", "-f", theirs)],
            ),
            Case(
                "skopeo → containers-storage",
                _copy(f"docker://{theirs}", f"containers-storage:{stored}"),
                env,
                prepare=[pod.argv("rmi", "-f", stored)],
            ),
            Case(
                "skopeo → OCI layout",
                _copy(f"docker://{theirs}", f"oci:{pulled}:big"),
                env,
                prepare=[_rmtree(pulled)],
            ),
        ],
        nbytes=nbytes,
        goal="registry-client-pull",
        sync=True,
    )
    res = measure(ctx, out, pull, runs=5, warmup=1)
    verify(out, res, "dockyard", listed(dyk, theirs.rsplit(":", 1)[0]), f"{theirs} is listed")
    shutil.rmtree(pulled, ignore_errors=True)
    pod.run("rmi", "-f", stored, check=False)
    dyk.run("rmi", "-f", theirs, check=False)


SUITE = Suite("registry", "registry server and client", ("skopeo", "docker-registry"), run)
