"""Helpers shared by the suites: timing a comparison with the run's round counts, noticing
broken commands, and the dockyard case of a comparison."""

from __future__ import annotations

from bench.context import Ctx
from bench.timing import Case, Comparison, run_comparison


def new_output() -> dict:
    return {"comparisons": [], "pending": [], "notes": [], "broken": []}


def measure(ctx: Ctx, out: dict, cmp: Comparison, runs: int, warmup: int = 1) -> dict:
    """Time ``cmp`` interleaved and add it to ``out``; a command that exists but fails is broken."""
    n, w = ctx.rounds(runs, warmup)
    ctx.log(
        f"{cmp.name}: {n} runs after {w} warm-up, tools: "
        + ", ".join(c.tool + (" (unavailable)" if c.unavailable else "") for c in cmp.cases)
    )
    res = run_comparison(cmp, n, w, log=ctx.log)
    for case in res["cases"]:
        if not case["unavailable"] and case["errors"]:
            out["broken"].append(f"{cmp.name} / {case['tool']}: {case['first_error']}")
    out["comparisons"].append(res)
    return res


def dockyard_case(ctx: Ctx, argv_args: list[str], needs: tuple[str, ...], **kw) -> Case:
    """dockyard's case, marked unavailable when a subcommand it needs does not exist yet."""
    dy = ctx.dockyard()
    return Case(
        "dockyard", dy.argv(*argv_args), dy.env, unavailable=ctx.missing_in_dockyard(*needs), **kw
    )


def safe_setup(out: dict, what: str, fn) -> str | None:
    """Run an untimed setup step; on failure record it as broken and return the reason."""
    try:
        fn()
        return None
    except Exception as e:  # any failure here means this tool's half cannot be timed
        msg = f"setup failed ({what}): {str(e).strip().splitlines()[-1][:200] if str(e) else e!r}"
        out["broken"].append(msg)
        return msg


def verify(out: dict, res: dict, tool: str, ok: bool, what: str) -> None:
    """Record whether a timed command really did its job (a fast no-op must not pass for a
    figure): a failed check marks the case and makes the run broken."""
    for case in res["cases"]:
        if case["tool"] == tool and case["stats"]:
            case.setdefault("checks", []).append({"what": what, "ok": ok})
            if not ok:
                case["verify_failed"] = what
                out["broken"].append(f"{res['name']} / {tool}: check failed: {what}")


def listed(eng, needle: str, at_least: int = 1, args: tuple[str, ...] = ("images",)) -> bool:
    """True when ``<engine> images`` (or ``args``) prints ``needle`` on ``at_least`` lines."""
    import subprocess

    p = subprocess.run(eng.argv(*args), env=eng.env, capture_output=True, timeout=120)
    lines = p.stdout.decode(errors="replace").splitlines()
    return p.returncode == 0 and sum(needle in x for x in lines) >= at_least
