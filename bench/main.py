"""Command line of the harness: pick suites, prepare the anchors, run, write results."""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import shutil
import signal
import sys
import traceback

from bench import anchors, machine, render
from bench.context import Ctx, default_dockyard_bin
from bench.suites import all_suites

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(REPO, "bench", "results")


def parse(argv: list[str] | None) -> argparse.Namespace:
    suites = list(all_suites())
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Time dockyard against Docker, Podman, runc, BuildKit, buildah and distribution. "
            f"Suites: {', '.join(suites)} (default: all)."
        ),
    )
    p.add_argument("suites", nargs="*", metavar="SUITE", help="suites to run")
    p.add_argument(
        "--quick",
        action="store_true",
        help="one run of each suite, small inputs (for CI); results go to results/quick",
    )
    p.add_argument("--runs", type=int, help="timed rounds per benchmark (default: per suite)")
    p.add_argument("--warmup", type=int, help="untimed warm-up rounds (default: per suite)")
    p.add_argument("--workdir", default="/tmp/dockyard-bench", help="scratch dir (removed after)")
    p.add_argument("--keep", action="store_true", help="keep the work dir afterwards")
    p.add_argument("--dockyard", default=default_dockyard_bin(REPO), help="dockyard executable")
    p.add_argument(
        "--results-dir",
        help="where <suite>.json/.md/.png go "
        "(default bench/results, bench/results/quick with --quick)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--update-results",
        dest="update",
        action="store_true",
        default=None,
        help="rewrite bench/RESULTS.md (default for full runs)",
    )
    g.add_argument("--no-update-results", dest="update", action="store_false")
    p.add_argument("--no-install", action="store_true", help="do not apt-get missing anchors")
    p.add_argument("--list", action="store_true", help="list the suites and exit")
    p.add_argument(
        "--render",
        action="store_true",
        help="only re-render the .md/.png files and "
        "bench/RESULTS.md from bench/results/*.json (no measuring)",
    )
    a = p.parse_args(argv)
    bad = [s for s in a.suites if s not in suites]
    if bad:
        p.error(f"unknown suite(s): {', '.join(bad)} (choose from {', '.join(suites)})")
    if a.runs is not None and a.runs < 1:
        p.error("--runs must be at least 1")
    if a.update is None:
        a.update = not a.quick
    return a


def log(msg: str) -> None:
    ts = datetime.datetime.now(datetime.UTC).strftime("%H:%M:%S")
    print(f"[{ts}] {msg}", file=sys.stderr, flush=True)


def reproduce(suite: str, a: argparse.Namespace) -> str:
    cmd = f"cd {REPO} && .venv/bin/python -m bench {suite}"
    if a.quick:
        cmd += " --quick"
    if a.runs is not None:
        cmd += f" --runs {a.runs}"
    if a.warmup is not None:
        cmd += f" --warmup {a.warmup}"
    return cmd


def suite_status(out: dict) -> str:
    if out.get("error"):
        return f"harness error: {out['error']}"
    missing = [
        c["name"]
        for c in out["comparisons"]
        if any(x["tool"] == c["subject"] and x["unavailable"] for x in c["cases"])
    ]
    missing += [p["name"] for p in out["pending"]]
    if not out["comparisons"] and out["pending"]:
        return (
            render.NOT_IN_DOCKYARD
            + " — "
            + "; ".join(sorted({p["reason"] for p in out["pending"]}))
        )
    if missing:
        return "dockyard not yet measurable for: " + ", ".join(missing)
    return "ok"


MARKER = ".dockyard-bench"


def check_workdir(w: str) -> str | None:
    """Why ``w`` must not be used as the (wiped) work dir, or None."""
    real = os.path.realpath(w)
    if real.count("/") < 2 or real in (REPO, os.path.realpath(os.path.expanduser("~"))):
        return f"refusing to use {w} as the work dir (it is wiped): pick a dedicated folder"
    if os.path.isdir(real) and os.listdir(real) and not os.path.exists(f"{real}/{MARKER}"):
        return f"{w} exists and was not made by the harness (no {MARKER}); pick another --workdir"
    return None


def fresh_workdir(ctx: Ctx) -> None:
    """Start from an empty work dir (inputs kept): stop a dockerd a crashed run left behind."""
    from bench import procs

    w = ctx.workdir
    pidfile = anchors.docker_paths(w)["pidfile"]
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        if f"--data-root {anchors.docker_paths(w)['data']}" in procs.cmdline(pid):
            log(f"stopping dockerd pid {pid} left by an earlier run")
            os.kill(pid, signal.SIGTERM)
            procs.wait_until(lambda: not procs.cmdline(pid), 30)
    except (OSError, ValueError):
        pass
    ctx._umount_under_workdir()
    if os.path.isdir(w):
        for name in os.listdir(w):
            if name in ("inputs", MARKER):
                continue
            path = os.path.join(w, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    os.makedirs(w, exist_ok=True)
    with open(f"{w}/{MARKER}", "w") as f:
        f.write("scratch dir of python -m bench; removed after the run\n")


def run_suites(a: argparse.Namespace) -> int:
    suites = all_suites()
    chosen = [s for s in suites if s in a.suites] if a.suites else list(suites)
    needs = sorted({n for s in chosen for n in suites[s].needs})
    if not a.no_install:
        anchors.ensure(needs, log)
    results_dir = a.results_dir or (os.path.join(RESULTS, "quick") if a.quick else RESULTS)
    os.makedirs(results_dir, exist_ok=True)
    ctx = Ctx(REPO, os.path.abspath(a.workdir), a.dockyard, a.quick, a.runs, a.warmup, log)
    fresh_workdir(ctx)
    facts = machine.facts()
    broken: list[str] = []
    written = []
    try:
        versions = machine.versions(ctx.dockyard().base[:1], ctx.podman().env)
        for name in chosen:
            suite = suites[name]
            log(f"== suite {name}: {suite.title}")
            try:
                out = suite.run(ctx)
            except Exception as e:
                log(traceback.format_exc())
                out = {
                    "comparisons": [],
                    "pending": [],
                    "notes": [],
                    "broken": [],
                    "error": f"{e.__class__.__name__}: {e}",
                }
                broken.append(f"{name}: {out['error']}")
            broken.extend(f"{name}: {b}" for b in out["broken"])
            res = {
                "suite": name,
                "title": suite.title,
                "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "command": reproduce(name, a),
                "quick": a.quick,
                "runs": max((c["runs"] for c in out["comparisons"]), default=0),
                "warmup": max((c["warmup"] for c in out["comparisons"]), default=0),
                "machine": facts,
                "versions": versions,
                "status": suite_status(out),
                "comparisons": out["comparisons"],
                "pending": out["pending"],
                "notes": out["notes"],
                "broken": out["broken"],
            }
            written.append(write_suite(res, results_dir))
    finally:
        log("cleaning up")
        ctx.cleanup(a.keep)
    for res in written:
        print(render.suite_markdown(res))
    if a.update:
        write_results_md(log)
    if broken:
        print("BROKEN benchmarks (a command that exists failed):", file=sys.stderr)
        for b in broken:
            print(f"  - {b}", file=sys.stderr)
        return 1
    return 0


def write_suite(res: dict, results_dir: str) -> dict:
    base = os.path.join(results_dir, res["suite"])
    _atomic_write(base + ".json", json.dumps(res, indent=1) + "\n")
    _atomic_write(base + ".md", render.suite_markdown(res))
    try:
        from bench import chart

        if chart.draw(res, base + ".tmp.png"):
            os.replace(base + ".tmp.png", base + ".png")
    except Exception as e:  # a missing chart must not lose the figures
        log(f"chart for {res['suite']} not drawn: {e}")
    log(f"wrote {base}.json/.md/.png")
    return res


def write_results_md(logf=log) -> str:
    """Re-render bench/RESULTS.md from every full-run result in bench/results/."""
    results = []
    for name in sorted(os.listdir(RESULTS)):
        if name.endswith(".json"):
            with open(os.path.join(RESULTS, name)) as f:
                results.append(json.load(f))
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    path = os.path.join(REPO, "bench", "RESULTS.md")
    _atomic_write(path, render.results_markdown(results, now))
    logf(f"updated {path}")
    return path


def _atomic_write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    if a.list:
        for s in all_suites().values():
            print(f"{s.name:10} {s.title}")
        return 0
    if a.render:
        for name in sorted(os.listdir(RESULTS)):
            if name.endswith(".json"):
                with open(os.path.join(RESULTS, name)) as f:
                    write_suite(json.load(f), RESULTS)
        write_results_md()
        return 0
    bad = check_workdir(a.workdir)
    if bad:
        print(f"python -m bench: {bad}", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("python -m bench: needs root (dockerd, podman storage, apt-get)", file=sys.stderr)
        return 2
    # SIGTERM unwinds like ^C so that the cleanup (stop dockerd/registry, remove dirs) runs
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with open(os.path.abspath(a.workdir).rstrip("/") + ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"python -m bench: another run uses {a.workdir}", file=sys.stderr)
            return 2
        try:
            return run_suites(a)
        finally:
            os.unlink(lock.name)
