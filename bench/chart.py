"""Bar charts of suite results (PNG, matplotlib Agg; imported only when drawing)."""

from __future__ import annotations

from bench.render import fmt_ratio


def draw(res: dict, out_png: str) -> bool:
    """One panel per benchmark: median per tool, whiskers min..max. False when nothing to draw."""
    comps = [c for c in res.get("comparisons", []) if any(x["stats"] for x in c["cases"])]
    if not comps:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, len(comps))
    rows = (len(comps) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(comps) :]:
        ax.axis("off")
    for ax, c in zip(axes.flat, comps, strict=False):
        tools, med, lo, hi, colors = [], [], [], [], []
        for case in c["cases"]:
            s = case["stats"]
            if not s:
                continue
            tools.append(case["tool"])
            med.append(s["median"] * 1000)
            lo.append((s["median"] - s["min"]) * 1000)
            hi.append((s["max"] - s["median"]) * 1000)
            colors.append("tab:orange" if case["tool"] == c["subject"] else "tab:blue")
        # seconds for long operations, milliseconds otherwise
        scale, unit = (1000.0, "s") if max(med) > 2000 else (1.0, "ms")
        med, lo, hi = ([x / scale for x in v] for v in (med, lo, hi))
        xs = range(len(tools))
        ax.bar(xs, med, yerr=[lo, hi], color=colors, capsize=4)
        ax.set_xticks(list(xs), tools, rotation=15)
        ax.set_ylabel(f"{unit} (median, min–max)")
        missing = [x["tool"] for x in c["cases"] if not x["stats"]]
        if missing:
            ax.text(
                0.5,
                0.97,
                "no figure: " + ", ".join(missing),
                transform=ax.transAxes,
                ha="center",
                va="top",
                fontsize=8,
                color="tab:red",
            )
        title = c["name"]
        goal = c.get("goal")
        if goal:
            title += f"\n{goal['goal']}: {fmt_ratio(goal['ratio'])} ({goal['status']})"
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"dockyard bench — {res['suite']} ({res['date']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return True
