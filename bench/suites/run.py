"""run suite (containers issue): `run --rm true`, N start+stop, `ps -a` with N containers
(N=50; 5 with --quick), and the memory of the process that parents each idle container (our
supervisor, containerd-shim, conmon). Until dockyard has `run`, only the docker/podman halves
are timed."""

from __future__ import annotations

from bench.suites import Suite
from bench.suites.common import dockyard_case, listed, measure, new_output, safe_setup, verify
from bench.timing import Case, Comparison

BUSYBOX = "localhost/dybench/busybox:latest"
# exits at once on SIGTERM, so stop measures the engine, not a 10 s grace period
WAITER = ["sh", "-c", 'trap "exit 0" TERM; sleep 3600 & wait']


def _names(n: int) -> list[str]:
    return [f"dybench-tp-{i:02d}" for i in range(n)]


def _engines(ctx, out: dict) -> tuple[dict, dict]:
    """Engines with busybox imported, and why each one cannot take part (None when it can)."""
    tar = ctx.busybox_tar()
    engines = {"dockyard": ctx.dockyard(), "podman": ctx.podman(), "docker": ctx.docker()}
    why = {"dockyard": ctx.missing_in_dockyard("import", "run", "rm", "rmi")}
    for name, eng in engines.items():
        if name == "dockyard" and why["dockyard"]:
            continue
        q = ["-q"] if name == "podman" else []
        why[name] = safe_setup(
            out, f"{name} import busybox", lambda eng=eng, q=q: eng.run("import", *q, tar, BUSYBOX)
        )
    return engines, why


def _rm_args(name: str, names: list[str]) -> list[str]:
    return ["rm", "-f", "-t", "0", *names] if name == "podman" else ["rm", "-f", *names]


def run(ctx) -> dict:
    out = new_output()
    engines, why = _engines(ctx, out)
    order = ("dockyard", "podman", "docker")

    def case(name: str, args: list[str], needs: tuple[str, ...] = (), **kw) -> Case:
        if name == "dockyard":
            c = dockyard_case(ctx, args, ("import", "run", "rm", *needs), **kw)
            c.unavailable = c.unavailable or why["dockyard"]
            return c
        eng = engines[name]
        return Case(name, eng.argv(*args), eng.env, unavailable=why[name], **kw)

    true = ["run", "--rm", "--network", "none", BUSYBOX, "true"]
    cmp = Comparison("run --rm true", [case(n, true) for n in order], goal="run-rm-true")
    measure(ctx, out, cmp, runs=20, warmup=2)

    n = 5 if ctx.quick else 50
    names = _names(n)

    def series(name: str) -> Case:
        eng = engines[name]
        steps = [
            eng.argv("run", "-d", "--network", "none", "--name", c, BUSYBOX, *WAITER) for c in names
        ]
        steps += [eng.argv("stop", c) for c in names]
        return case(
            name,
            ["run", "-d", "…", "stop", "…"],
            ("stop",),
            steps=steps,
            prepare=[eng.argv(*_rm_args(name, names))],
        )

    cmp = Comparison(
        f"{n} start (run -d) + {n} stop", [series(x) for x in order], goal="run-50-start-stop"
    )
    # no warm-up round here: `run --rm true` above already warmed every engine, and one round
    # of 2x50 commands is long
    measure(ctx, out, cmp, runs=3, warmup=0)

    cmp = Comparison(
        f"ps -a ({n} running containers)",
        [case(x, ["ps", "-a"], ("ps",)) for x in order],
        goal="run-ps-50",
    )
    for c in cmp.cases:
        if c.unavailable:
            continue
        eng = engines[c.tool]
        eng.run(*_rm_args(c.tool, names), check=False)
        for name in names:
            eng.run("run", "-d", "--network", "none", "--name", name, BUSYBOX, *WAITER, check=False)
    res = measure(ctx, out, cmp, runs=20, warmup=2)
    for c in cmp.cases:
        if not c.unavailable:
            ok = listed(engines[c.tool], "dybench-tp-", n, ("ps", "-a"))
            verify(out, res, c.tool, ok, f"`ps -a` lists the {n} containers")
    out["notes"].append(_parent_memory(engines, why, names))
    for name, eng in engines.items():
        if not why.get(name):
            eng.run(*_rm_args(name, names), check=False)
            eng.run("rmi", "-f", BUSYBOX, check=False)
    out["notes"].append(
        f"containers run `{' '.join(WAITER)}` with --network none; podman uses --runtime runc"
    )
    return out


def _parent_memory(engines: dict, why: dict, names: list[str]) -> str:
    """The median RSS of the process that parents each idle container's pid 1, per engine;
    the containers issue's goal: dockyard's supervisor at most containerd-shim's."""
    import statistics
    import subprocess

    found = {}
    for name, eng in engines.items():
        if why.get(name):
            continue
        p = subprocess.run(eng.argv("inspect", "-f", "{{.State.Pid}}", *names), env=eng.env,
                           capture_output=True, text=True)  # fmt: skip
        rss, parent = [], ""
        for pid in p.stdout.split():
            fields = _status(_status(pid).get("PPid", "0"))
            if "VmRSS" in fields:
                rss.append(int(fields["VmRSS"].split()[0]))
                parent = fields.get("Name", "")
        if rss:
            found[name] = (statistics.median(rss) / 1024, parent)
    parts = [f"{n} {mb:.1f} MB ({parent})" for n, (mb, parent) in found.items()]
    verdict = ""
    if "dockyard" in found and "docker" in found:
        met = found["dockyard"][0] <= found["docker"][0]
        verdict = f"; goal ≤ containerd-shim's: {'met' if met else 'not met'}"
    return (
        "memory of the parent of each idle container (median VmRSS): " + ", ".join(parts) + verdict
    )


def _status(pid: str) -> dict:
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except OSError:
        return {}


SUITE = Suite("run", "container start/stop", ("podman", "runc", "/usr/bin/docker", "dockerd"), run)
