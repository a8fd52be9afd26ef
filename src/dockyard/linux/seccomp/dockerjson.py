"""Docker's seccomp profile JSON (`--security-opt seccomp=FILE`) into a typed `Profile`.

Strict at the edge: unknown actions, operators, bad types and notify-based profiles are
refused with one-line `InvalidArgument`/`Unsupported` errors naming what is wrong.
"""

from dockyard.errors import InvalidArgument, Unsupported
from dockyard.linux.seccomp.profile import ACTIONS, OPS, Arg, Filter, Profile, Rule

MAX_PROFILE = 4 << 20


def _strs(v, what: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise InvalidArgument(f"seccomp profile: {what} must be a list of strings")
    return tuple(v)


def _int(v, what: str, lo: int = 0, hi: int = (1 << 64) - 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise InvalidArgument(f"seccomp profile: {what} must be an integer in [{lo}, {hi}]")
    return v


def _action(v, what: str) -> str:
    if v == "SCMP_ACT_NOTIFY":
        raise Unsupported(f"seccomp profile: {what} SCMP_ACT_NOTIFY is not supported")
    if v not in ACTIONS:
        raise InvalidArgument(f"seccomp profile: {what}: unknown action {v!r}")
    return v


def _filter(v, what: str) -> Filter:
    if v is None:
        return Filter()
    if not isinstance(v, dict):
        raise InvalidArgument(f"seccomp profile: {what} must be an object")
    mk = v.get("minKernel", "")
    if not isinstance(mk, str):
        raise InvalidArgument(f"seccomp profile: {what}.minKernel must be a string")
    return Filter(
        caps=tuple(c.upper() for c in _strs(v.get("caps"), what + ".caps")),
        arches=_strs(v.get("arches"), what + ".arches"),
        min_kernel=mk,
    )


def _arg(v, where: str) -> Arg:
    if not isinstance(v, dict):
        raise InvalidArgument(f"seccomp profile: {where} must be an object")
    op = v.get("op")
    if op not in OPS:
        raise InvalidArgument(f"seccomp profile: {where}: unknown operator {op!r}")
    return Arg(
        index=_int(v.get("index"), where + ".index", 0, 5),
        value=_int(v.get("value", 0), where + ".value"),
        op=op,
        value_two=_int(v.get("valueTwo", 0), where + ".valueTwo"),
    )


def _rule(v, i: int) -> Rule:
    where = f"syscalls[{i}]"
    if not isinstance(v, dict):
        raise InvalidArgument(f"seccomp profile: {where} must be an object")
    names = _strs(v.get("names"), where + ".names")
    if v.get("name"):
        if names:
            raise InvalidArgument(f"seccomp profile: {where} has both name and names")
        if not isinstance(v["name"], str):
            raise InvalidArgument(f"seccomp profile: {where}.name must be a string")
        names = (v["name"],)
    if not names:
        raise InvalidArgument(f"seccomp profile: {where} names no syscall")
    errno = v.get("errnoRet")
    args = v.get("args") or []
    if not isinstance(args, list):
        raise InvalidArgument(f"seccomp profile: {where}.args must be a list")
    return Rule(
        names=names,
        action=_action(v.get("action"), where + ".action"),
        errno_ret=None if errno is None else _int(errno, where + ".errnoRet", 0, 4095),
        args=tuple(_arg(a, f"{where}.args[{j}]") for j, a in enumerate(args)),
        includes=_filter(v.get("includes"), where + ".includes"),
        excludes=_filter(v.get("excludes"), where + ".excludes"),
    )


def parse(data: bytes) -> Profile:
    """A `Profile` from the bytes of a Docker seccomp JSON file."""
    import json

    if len(data) > MAX_PROFILE:
        raise InvalidArgument("seccomp profile: larger than 4 MiB")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"seccomp profile: not valid JSON: {e}")
    if not isinstance(doc, dict):
        raise InvalidArgument("seccomp profile: must be a JSON object")
    if doc.get("listenerPath"):
        raise Unsupported("seccomp profile: listenerPath (seccomp notify) is not supported")
    default_errno = doc.get("defaultErrnoRet")
    arch_map = []
    for j, a in enumerate(doc.get("archMap") or []):
        if not isinstance(a, dict) or not isinstance(a.get("architecture"), str):
            raise InvalidArgument(f"seccomp profile: archMap[{j}] needs an architecture")
        arch_map.append((a["architecture"], _strs(a.get("subArchitectures"), "subArchitectures")))
    rules = doc.get("syscalls") or []
    if not isinstance(rules, list):
        raise InvalidArgument("seccomp profile: syscalls must be a list")
    return Profile(
        default_action=_action(doc.get("defaultAction"), "defaultAction"),
        rules=tuple(_rule(r, i) for i, r in enumerate(rules)),
        default_errno=None
        if default_errno is None
        else _int(default_errno, "defaultErrnoRet", 0, 4095),
        arch_map=tuple(arch_map),
        architectures=_strs(doc.get("architectures"), "architectures"),
    )
