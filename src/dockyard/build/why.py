"""What `--progress=plain` says about a step that was not reused: which file or build arg
changed since the last build of the same step (its slot), or that an earlier step did."""

from dockyard.fastjson import loads


def why_rebuilt(no_cache: bool, cache, slot: str, inputs: dict, entry) -> str:
    """Why a step was not reused: --no-cache, its layer gone, or which input changed."""
    if no_cache:
        return "rebuilding: --no-cache"
    if entry is not None:
        return "rebuilding: the cached layer was removed"
    prev = cache.latest_for_slot(slot)
    if prev is None:
        return "rebuilding: not built before"
    old = loads(prev.inputs)
    changed = sorted(
        p
        for p in set(old.get("files", {})) | set(inputs["files"])
        if old.get("files", {}).get(p) != inputs["files"].get(p)
    )
    if changed:
        more = f" (+{len(changed) - 5} more)" if len(changed) > 5 else ""
        return "rebuilding: changed files: " + ", ".join(changed[:5]) + more
    args = sorted(
        k
        for k in set(old.get("args", {})) | set(inputs["args"])
        if old.get("args", {}).get(k) != inputs["args"].get(k)
    )
    if args:
        return "rebuilding: changed build args: " + ", ".join(args)
    if old.get("parent") != inputs["parent"]:
        return "rebuilding: an earlier step changed"
    return "rebuilding: the instruction changed"
