"""The performance goals of the issues, and how a measured ratio is judged against them."""

from __future__ import annotations

from dataclasses import dataclass

from bench import stats

MET, NOT_MET, UNMEASURABLE = "met", "not met", "not yet measurable"


@dataclass(frozen=True)
class Goal:
    """dockyard against one anchor: ``time`` goals want dockyard time / anchor time <= target,
    ``throughput`` goals want dockyard throughput / anchor throughput >= target."""

    suite: str
    text: str
    vs: str
    kind: str  # "time" | "throughput"
    target: float

    def judge(self, ratio: float | None) -> str:
        if ratio is None:
            return UNMEASURABLE
        ok = ratio <= self.target if self.kind == "time" else ratio >= self.target
        return MET if ok else NOT_MET

    def describe(self) -> str:
        op = "≤" if self.kind == "time" else "≥"
        what = "time" if self.kind == "time" else "throughput"
        return f"{what} {op} {self.target:g}× {self.vs}"


GOALS: dict[str, Goal] = {
    "cli-start": Goal("cli", "CLI start", "podman", "time", 1.0),
    "images-list": Goal("images", "images (100 images)", "podman", "time", 1.0),
    "image-save": Goal("image", "save throughput", "podman", "throughput", 1.0),
    "image-load": Goal("image", "load throughput", "podman", "throughput", 1.0),
    "run-rm-true": Goal("run", "run --rm true", "podman", "time", 0.2),
    "run-50-start-stop": Goal("run", "50 start+stop", "podman", "time", 0.3),
    "run-ps-50": Goal("run", "ps -a (50 containers)", "docker", "time", 1.0),
    "build-cold": Goal("build", "build cold", "buildkit", "time", 0.25),
    "build-changed": Goal("build", "build changed", "buildkit", "time", 0.25),
    "build-cached": Goal("build", "build cached", "buildkit", "time", 0.33),
    "registry-push": Goal("registry", "registry push", "docker-registry", "throughput", 1.2),
    "registry-push-1": Goal(
        "registry", "registry push, 1 layer", "docker-registry", "throughput", 1.2
    ),
    "registry-pull": Goal("registry", "registry pull", "docker-registry", "throughput", 1.0),
    "registry-pull-1": Goal(
        "registry", "registry pull, 1 layer", "docker-registry", "throughput", 1.0
    ),
    "registry-pull-20": Goal(
        "registry", "registry pull, 20 clients", "docker-registry", "throughput", 1.0
    ),
    "registry-client": Goal("registry", "registry client push", "skopeo", "throughput", 1.0),
    "registry-client-pull": Goal(
        "registry", "registry client pull", "skopeo → containers-storage", "throughput", 1.0
    ),
    "registry-repush": Goal("registry", "registry client no-op re-push", "skopeo", "time", 1.0),
}


def evaluate(key: str, subject: dict[int, float], anchor: dict[int, float]) -> dict:
    """Judge goal ``key`` from per-round seconds of dockyard and of the goal's anchor."""
    g = GOALS[key]
    ratio = stats.median_ratio(subject, anchor, invert=g.kind == "throughput")
    return {
        "key": key,
        "text": g.text,
        "goal": g.describe(),
        "vs": g.vs,
        "kind": g.kind,
        "target": g.target,
        "ratio": ratio,
        "status": g.judge(ratio),
    }


def unmeasured(key: str) -> dict:
    """The goal record of a benchmark that could not run (dockyard command missing)."""
    return evaluate(key, {}, {})
