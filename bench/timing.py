"""Interleaved timing: each round runs every tool once (order rotated per round), after warm-up
rounds; untimed prepare steps run before each sample. Results are plain dicts ready for JSON."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench import stats

# A prepare step is an argv (run, result ignored) or a Python callable.
Prepare = list[str] | Callable[[], object]
Executor = Callable[[list[str], dict | None], tuple[float, int, str]]

COMMAND_TIMEOUT = 600  # seconds; a hung command is an error, not a figure
STOP_AFTER_ERRORS = 3  # a command that failed this often without one success is not tried again


@dataclass
class Case:
    """One tool's command in a comparison."""

    tool: str
    argv: list[str]
    env: dict[str, str] | None = None
    prepare: list[Prepare] = field(default_factory=list)
    unavailable: str | None = None  # why this case cannot run yet (e.g. not yet in dockyard)
    # a series: these commands one after the other make one sample (argv then only labels it)
    steps: list[list[str]] | None = None

    def command(self) -> str:
        """The command as a shell line, with the environment variables that differ."""
        extra = ""
        if self.env:
            diff = {k: v for k, v in self.env.items() if os.environ.get(k) != v}
            extra = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(diff.items()))
        line = shlex.join(self.argv)
        if self.steps:
            line = (
                f"{len(self.steps)} commands in sequence: {shlex.join(self.steps[0])}; …; "
                f"{shlex.join(self.steps[-1])}"
            )
        return f"{extra} {line}" if extra else line


@dataclass
class Comparison:
    """The same operation timed with dockyard (the subject) and one or more anchors."""

    name: str
    cases: list[Case]
    subject: str = "dockyard"
    nbytes: int | None = None  # bytes moved per run, for MB/s
    goal: str | None = None  # a key of bench.goals.GOALS
    sync: bool = False  # os.sync() after prepare (bulk I/O benchmarks)


def rotation(names: Sequence[str], round_no: int) -> list[str]:
    """The order in which the tools run in round ``round_no``: rotated by one each round."""
    if not names:
        return []
    k = round_no % len(names)
    return list(names[k:]) + list(names[:k])


def execute(argv: list[str], env: dict | None) -> tuple[float, int, str]:
    """Run argv once; wall seconds, exit code and the tail of stderr."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            timeout=COMMAND_TIMEOUT,
        )
    except OSError as e:
        return time.perf_counter() - t0, 127, str(e)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t0, -1, f"timed out after {COMMAND_TIMEOUT} s"
    dt = time.perf_counter() - t0
    return dt, p.returncode, p.stderr.decode(errors="replace")[-600:]


def _prepare(case: Case) -> None:
    for step in case.prepare:
        if callable(step):
            step()
        else:
            subprocess.run(
                step,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=case.env,
                timeout=COMMAND_TIMEOUT,
            )


def run_comparison(
    cmp: Comparison,
    runs: int,
    warmup: int,
    run: Executor = execute,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Time every available case of ``cmp`` interleaved; return the result dict (see render)."""
    active = [c for c in cmp.cases if c.unavailable is None]
    per_round: dict[str, dict[int, float]] = {c.tool: {} for c in cmp.cases}
    errors: dict[str, list[dict]] = {c.tool: [] for c in cmp.cases}
    by_tool = {c.tool: c for c in active}
    # Every comparison starts on a settled disk: what the setup or an earlier suite left
    # dirty (hundreds of MB after save/load) is written back now, not during the rounds,
    # where its writeback would take a core from whichever tool runs then.
    os.sync()
    for r in range(warmup + runs):
        for tool in rotation([c.tool for c in active], r):
            case = by_tool[tool]
            if len(errors[tool]) >= STOP_AFTER_ERRORS and not per_round[tool]:
                continue
            _prepare(case)
            if cmp.sync:
                os.sync()
            dt, rc, err = _sample(case, run)
            if rc != 0:
                errors[tool].append({"round": r, "rc": rc, "stderr": err.strip()})
                if log:
                    log(f"  {cmp.name}: {tool} failed (rc {rc}): {_last_line(err)}")
            elif r >= warmup:
                per_round[tool][r - warmup] = dt
    return result_dict(cmp, per_round, errors, runs, warmup)


def _sample(case: Case, run: Executor) -> tuple[float, int, str]:
    """One sample: the command, or the sum of a series (stopping at its first failure)."""
    if not case.steps:
        return run(case.argv, case.env)
    total = 0.0
    for step in case.steps:
        dt, rc, err = run(step, case.env)
        total += dt
        if rc != 0:
            return total, rc, f"{shlex.join(step)}: {err}"
    return total, 0, ""


def _last_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:300] if lines else ""


def result_dict(
    cmp: Comparison,
    per_round: dict[str, dict[int, float]],
    errors: dict[str, list[dict]],
    runs: int,
    warmup: int,
) -> dict:
    """Assemble the JSON-ready result of one comparison from its per-round samples."""
    from bench import goals

    cases = []
    for c in cmp.cases:
        samples = [per_round[c.tool][r] for r in sorted(per_round[c.tool])]
        s = stats.summary(samples)
        cases.append(
            {
                "tool": c.tool,
                "command": c.command(),
                "unavailable": c.unavailable,
                "samples": samples,
                "rounds": sorted(per_round[c.tool]),
                "stats": s,
                "mb_s": stats.throughput(cmp.nbytes, s.get("median")),
                "errors": len(errors[c.tool]),
                "first_error": _last_line(errors[c.tool][0]["stderr"]) if errors[c.tool] else "",
            }
        )
    subject = per_round.get(cmp.subject, {})
    ratios = {}
    for c in cmp.cases:
        if c.tool == cmp.subject:
            continue
        rs = stats.pairwise_ratios(subject, per_round[c.tool])
        ratios[c.tool] = {"per_round": rs, "median": stats.median(rs)}
    out = {
        "name": cmp.name,
        "subject": cmp.subject,
        "nbytes": cmp.nbytes,
        "runs": runs,
        "warmup": warmup,
        "cases": cases,
        "ratios": ratios,
        "goal": None,
    }
    if cmp.goal:
        out["goal"] = goals.evaluate(cmp.goal, subject, per_round.get(goals.GOALS[cmp.goal].vs, {}))
    return out
