"""The stage graph: which stages a stage needs, what a --target needs, and a build order.

Edges come from `FROM <earlier stage>`, `COPY --from=<stage|index>` and
`RUN --mount=from=<stage|index>`. A name that is not an earlier stage is an image, as
in BuildKit. The order groups independent stages so they can be built in parallel.
"""

from __future__ import annotations

from dockyard.errors import NotFound
from dockyard.record import Record

from . import instructions as ins
from .parser import error_at

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc costs ~1 ms of start-up; annotations are never evaluated
    from collections.abc import Sequence


class StageGraph(Record):
    names: tuple[str, ...]  # stage names ("" for unnamed), by index
    deps: tuple[frozenset[int], ...]  # stage index → indices it needs

    def index(self, target: str) -> int:
        """The stage a --target names (case-insensitive); the last stage for ""."""
        if not target:
            return len(self.names) - 1
        low = target.lower()
        for i, name in enumerate(self.names):
            if name and name == low:
                return i
        raise NotFound(f'target stage "{target}" could not be found')

    def needed(self, target: str = "") -> frozenset[int]:
        """Every stage the target needs, itself included."""
        seen: set[int] = set()
        todo = [self.index(target)]
        while todo:
            i = todo.pop()
            if i not in seen:
                seen.add(i)
                todo.extend(self.deps[i])
        return frozenset(seen)

    def order(self, target: str = "") -> list[list[int]]:
        """Needed stages in waves: each wave depends only on earlier waves."""
        needed = self.needed(target)
        level: dict[int, int] = {}
        for i in sorted(needed):  # dependencies always point to earlier stages
            level[i] = 1 + max((level[d] for d in self.deps[i]), default=-1)
        waves: list[list[int]] = [[] for _ in range(max(level.values()) + 1)]
        for i in sorted(needed):
            waves[level[i]].append(i)
        return waves


def stage_graph(df: ins.Dockerfile, bases: Sequence[str] | None = None) -> StageGraph:
    """Build the graph. `bases` are the FROM images after ARG expansion (`evaluate`);
    without them the FROM text is used as written."""
    names = tuple(stage.name for stage in df.stages)
    deps: list[frozenset[int]] = []
    for stage in df.stages:
        base = bases[stage.index] if bases is not None else stage.from_.image
        found: set[int] = set()
        ref = _earlier_by_name(names, stage.index, base)
        if ref is not None:
            found.add(ref)
        for inst in stage.instructions:
            for source, line in _references(inst):
                ref = _resolve(names, stage, source, line)
                if ref is not None:
                    found.add(ref)
        deps.append(frozenset(found))
    return StageGraph(names, tuple(deps))


def _references(inst: ins.Instruction) -> list[tuple[str, int]]:
    if isinstance(inst, ins.Copy) and inst.from_:
        return [(inst.from_, inst.line)]
    if isinstance(inst, ins.Run) and inst.mounts:
        from .mounts import csv_fields

        out = []
        for spec in inst.mounts:
            for item in csv_fields(spec):
                key, eq, value = item.partition("=")
                if eq and key.lower() == "from" and value:
                    out.append((value, inst.line))
        return out
    return []


def _earlier_by_name(names: tuple[str, ...], current: int, ref: str) -> int | None:
    low = ref.lower()
    for i in range(current):
        if names[i] and names[i] == low:
            return i
    return None


def _resolve(names: tuple[str, ...], stage: ins.Stage, ref: str, line: int) -> int | None:
    if ref.isascii() and ref.isdigit():
        index = int(ref)
        if index >= len(names):
            raise error_at(line, f"invalid stage index {ref}")
        if index >= stage.index:
            raise error_at(
                line,
                f'cannot copy from stage "{ref}", it needs to be defined before current stage'
                f' "{stage.name or stage.index}"',
            )
        return index
    low = ref.lower()
    if low in names[stage.index :] and low not in names[: stage.index]:
        raise error_at(
            line,
            f'cannot copy from stage "{ref}", it needs to be defined before current stage'
            f' "{stage.name or stage.index}"',
        )
    return _earlier_by_name(names, stage.index, ref)
