"""Markdown rendering of suite results (one table per suite) and of bench/RESULTS.md."""

from __future__ import annotations

from bench import goals as goals_mod

NOT_IN_DOCKYARD = "not yet available in dockyard"


def fmt_seconds(x: float | None) -> str:
    if x is None:
        return "—"
    if x < 1.0:
        return f"{x * 1000:.1f} ms"
    return f"{x:.2f} s"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}×"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def goal_cell(goal: dict | None) -> tuple[str, str]:
    """(goal text with the measured ratio, verdict) for a table row."""
    if not goal:
        return "", ""
    measured = fmt_ratio(goal["ratio"])
    return f"{goal['goal']} (measured {measured})", goal["status"]


def comparison_rows(c: dict) -> list[str]:
    rows = []
    goal = c.get("goal")
    for case in c["cases"]:
        s = case["stats"]
        tool = case["tool"]
        if case.get("unavailable"):
            # the short verdict where a figure would be, the detail in the errors column
            why = case["unavailable"]
            med = NOT_IN_DOCKYARD if why.startswith(NOT_IN_DOCKYARD) else "not run"
            lo, hi, n = "", "", ""
        elif not s:
            med, lo, hi, n = "failed", "", "", "0"
        else:
            med, lo, hi, n = (
                fmt_seconds(s["median"]),
                fmt_seconds(s["min"]),
                fmt_seconds(s["max"]),
                str(s["n"]),
            )
        mbs = f"{case['mb_s']:.0f}" if case.get("mb_s") else ""
        ratio = ""
        if tool != c["subject"]:
            ratio = fmt_ratio(c["ratios"].get(tool, {}).get("median"))
        gtext, verdict = goal_cell(goal) if goal and goal["vs"] == tool else ("", "")
        err = _cell(case["unavailable"][:200]) if case.get("unavailable") else ""
        if case["errors"]:
            err = f"{case['errors']}: {_cell(case['first_error'][:160])}"
        if case.get("verify_failed"):
            err = f"CHECK FAILED: {_cell(case['verify_failed'])}" + (f"; {err}" if err else "")
        rows.append(
            f"| {_cell(c['name'])} | {tool} | {n} | {lo} | {med} | {hi} | {mbs} | "
            f"{ratio} | {gtext} | {verdict} | {err} |"
        )
    return rows


TABLE_HEAD = (
    "| benchmark | tool | n | min | median | max | MB/s | dockyard ÷ tool (time, median "
    "per round) | goal | verdict | errors |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def suite_table(res: dict) -> str:
    """The markdown table of one suite (pending benchmarks listed after the measured ones)."""
    lines = [TABLE_HEAD]
    for c in res.get("comparisons", []):
        lines.extend(comparison_rows(c))
    for p in res.get("pending", []):
        g = goals_mod.GOALS.get(p.get("goal") or "")
        gtext = g.describe() if g else ""
        verdict = goals_mod.UNMEASURABLE if g else ""
        short = NOT_IN_DOCKYARD if p["reason"].startswith(NOT_IN_DOCKYARD) else "not run"
        lines.append(
            f"| {_cell(p['name'])} | dockyard | | | {short} | | | | "
            f"{gtext} | {verdict} | {_cell(p['reason'][:200])} |"
        )
    return "\n".join(lines)


def suite_commands(res: dict) -> str:
    """The exact command behind every figure."""
    out = []
    for c in res.get("comparisons", []):
        for case in c["cases"]:
            if not case.get("unavailable"):
                out.append(f"- {_cell(c['name'])} / {case['tool']}: `{case['command']}`")
    return "\n".join(out)


def machine_line(m: dict) -> str:
    mem = m.get("mem_gib")
    return (
        f"{m.get('cpu_model', '?')}, {m.get('cores', '?')} cores, "
        f"{mem:.1f} GiB RAM, Linux {m.get('kernel', '?')}, {m.get('os', '?')}"
        if mem is not None
        else f"{m.get('cores', '?')} cores, Linux {m.get('kernel', '?')}"
    )


def _span(xs: set[int]) -> str:
    return str(min(xs)) if len(xs) == 1 else f"{min(xs)}–{max(xs)}"


def rounds_text(res: dict) -> str:
    """'20 timed rounds after 2 warm-up round(s)' (a range when the benchmarks differ)."""
    comps = res.get("comparisons") or []
    runs = {c["runs"] for c in comps} or {res.get("runs", 0)}
    warm = {c["warmup"] for c in comps} or {res.get("warmup", 0)}
    return f"{_span(runs)} timed rounds after {_span(warm)} warm-up round(s)"


def suite_markdown(res: dict) -> str:
    """The markdown written next to <suite>.json: header, table, notes, commands."""
    parts = [
        f"### {res['suite']} — {res.get('title', '')}",
        "",
        f"{res['date']} · {machine_line(res.get('machine', {}))} · "
        f"{rounds_text(res)}, interleaved (order rotated each round)"
        + (" · **quick**" if res.get("quick") else ""),
        "",
        f"Reproduce: `{res['command']}`",
        "",
    ]
    if res.get("status") and res["status"] != "ok":
        parts += [f"**{res['status']}**", ""]
    parts += [suite_table(res), ""]
    for note in res.get("notes", []):
        parts.append(f"- {note}")
    if res.get("notes"):
        parts.append("")
    cmds = suite_commands(res)
    if cmds:
        parts += ["Commands timed:", "", cmds, ""]
    return "\n".join(parts)


def goal_status(results: list[dict]) -> list[dict]:
    """Every goal of the issues with its latest verdict (not yet measurable when unmeasured)."""
    found: dict[str, dict] = {}
    for res in results:
        for c in res.get("comparisons", []):
            if c.get("goal"):
                found[c["goal"]["key"]] = c["goal"]
    out = []
    for key, g in goals_mod.GOALS.items():
        rec = found.get(key) or goals_mod.unmeasured(key)
        out.append({"suite": g.suite, **rec})
    return out


def results_markdown(results: list[dict], generated: str) -> str:
    """bench/RESULTS.md: the goals, then the latest table of every suite."""
    order = {
        name: i for i, name in enumerate(("cli", "images", "image", "run", "build", "registry"))
    }
    results = sorted(results, key=lambda r: order.get(r["suite"], 99))
    parts = [
        "# dockyard benchmark results",
        "",
        "Generated by the harness (`python -m bench`, see `bench/`); do not edit by hand.",
        f"Last updated {generated}.",
        "",
    ]
    machines = {machine_line(r.get("machine", {})) for r in results}
    for m in sorted(machines):
        parts.append(f"Machine: {m}")
    parts += [
        "",
        "Ratios are medians of per-round ratios (dockyard and the anchor run in the same "
        "round, order rotated each round). Time goals want a ratio at or below the target, "
        "throughput goals at or above.",
        "",
        "## Goals",
        "",
        "| suite | goal | target | measured | status |",
        "|---|---|---|---|---|",
    ]
    for g in goal_status(results):
        parts.append(
            f"| {g['suite']} | {g['text']} | {g['goal']} | {fmt_ratio(g['ratio'])} | "
            f"{g['status']} |"
        )
    parts += ["", "## Suites", ""]
    done = {r["suite"] for r in results}
    missing = [name for name in order if name not in done]
    if missing:
        parts += [
            f"No full run recorded yet for: {', '.join(missing)} "
            f"(`python -m bench {' '.join(missing)}`).",
            "",
        ]
    for res in results:
        parts.append(suite_markdown(res))
        vers = res.get("versions", {})
        if vers:
            parts.append(
                "Versions: " + "; ".join(f"{k} {_cell(v)}" for k, v in sorted(vers.items()))
            )
            parts.append("")
    return "\n".join(parts).rstrip() + "\n"
