"""Raw nodes → typed instructions and stages (BuildKit's `instructions` package rules).

Owns: which flags each instruction accepts and their types, argument-count checks,
HEALTHCHECK durations, COPY/ADD heredoc sources, ONBUILD restrictions, and grouping
instructions into stages with the global ARGs before the first FROM.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

from . import instructions as ins
from .durations import parse_duration
from .parser import Node, error_at, parse_heredoc, parse_nodes, strip_leading_tabs

_BOOL, _STR, _STRS = 0, 1, 2

_FLAGS: dict[str, dict[str, int]] = {
    "from": {"platform": _STR},
    "run": {"mount": _STRS, "network": _STR, "security": _STR, "device": _STRS},
    "add": {
        "chown": _STR,
        "chmod": _STR,
        "link": _BOOL,
        "keep-git-dir": _BOOL,
        "checksum": _STR,
        "unpack": _BOOL,
        "exclude": _STRS,
    },
    "copy": {
        "chown": _STR,
        "from": _STR,
        "chmod": _STR,
        "link": _BOOL,
        "exclude": _STRS,
        "parents": _BOOL,
    },
    "healthcheck": {
        "interval": _STR,
        "timeout": _STR,
        "start-period": _STR,
        "start-interval": _STR,
        "retries": _STR,
    },
}
_NO_FLAGS: dict[str, int] = {}


def parse(source: str | bytes) -> ins.Dockerfile:
    """Parse a Dockerfile into global ARGs and stages; InvalidArgument("Dockerfile:N: ...")."""
    parsed = parse_nodes(source)
    meta: list[ins.Arg] = []
    stages: list[tuple[ins.From, list[ins.Instruction]]] = []
    for node in parsed.nodes:
        inst = to_instruction(node)
        if isinstance(inst, ins.From):
            stages.append((inst, []))
        elif not stages:
            if not isinstance(inst, ins.Arg):
                raise error_at(node.start_line, "no build stage in current context")
            meta.append(inst)
        else:
            stages[-1][1].append(inst)
    if not stages:
        raise InvalidArgument("Dockerfile: no FROM instruction (no build stage)")
    return ins.Dockerfile(
        tuple(meta),
        tuple(ins.Stage(i, f, tuple(body)) for i, (f, body) in enumerate(stages)),
        parsed.escape,
        parsed.directives,
    )


def to_instruction(node: Node) -> ins.Instruction:
    """Type one node; errors name the node's first line."""
    build = _BUILDERS.get(node.cmd.lower())
    if build is None:
        raise error_at(node.start_line, f"unknown instruction: {node.cmd}")
    try:
        return build(node)
    except InvalidArgument as e:
        msg = str(e)
        if msg.startswith("Dockerfile:"):
            raise
        raise error_at(node.start_line, msg) from None


def _where(node: Node) -> dict:
    return {"line": node.start_line, "end_line": node.end_line, "original": node.original}


class _Flags:
    """The parsed `--flags` of one instruction."""

    __slots__ = ("used", "values")

    def __init__(self, node: Node, allowed: dict[str, int]) -> None:
        self.values: dict[str, object] = {}
        self.used: set[str] = set()
        for flag in node.flags:
            if flag == "--":
                break
            if not flag.startswith("--"):
                raise InvalidArgument(f"arg should start with -- : {flag}")
            name, eq, value = flag.partition("=")
            key = name[2:]
            kind = allowed.get(key)
            if kind is None:
                raise InvalidArgument(f"unknown flag: {name}")
            if key in self.used and kind != _STRS:
                raise InvalidArgument(f"duplicate flag specified: {name}")
            self.used.add(key)
            if kind == _BOOL:
                if eq and value == "":
                    raise InvalidArgument(f"missing a value on flag: {name}")
                low = value.lower()
                if low not in ("", "true", "false"):
                    raise InvalidArgument(f"expecting boolean value for flag {name}, not: {value}")
                self.values[key] = low != "false"
            elif not eq:
                raise InvalidArgument(f"missing a value on flag: {name}")
            elif kind == _STR:
                self.values[key] = value
            else:
                self.values.setdefault(key, []).append(value)  # type: ignore[union-attr]

    def str(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)  # type: ignore[return-value]

    def bool(self, key: str) -> bool:
        return bool(self.values.get(key, False))

    def opt_bool(self, key: str) -> bool | None:
        return self.values.get(key)  # type: ignore[return-value]

    def strs(self, key: str) -> tuple[str, ...]:
        return tuple(self.values.get(key, ()))  # type: ignore[arg-type]


def _one(node: Node, name: str) -> str:
    _Flags(node, _NO_FLAGS)
    if len(node.args) != 1:
        raise InvalidArgument(f"{name} requires exactly one argument")
    return node.args[0]


def _at_least_one(node: Node, name: str) -> None:
    if not node.args:
        raise InvalidArgument(f"{name} requires at least one argument")


def _pairs(node: Node, name: str) -> tuple[ins.KeyValue, ...]:
    _Flags(node, _NO_FLAGS)
    _at_least_one(node, name)
    args = node.args
    out = []
    for i in range(0, len(args), 2):
        if not args[i]:
            raise InvalidArgument(f"{name} names can not be blank")
        out.append(ins.KeyValue(args[i], args[i + 1], node.kv_legacy))
    return tuple(out)


def _from(node: Node) -> ins.From:
    args = node.args
    name = ""
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not _valid_stage_name(name):
            raise InvalidArgument(
                f'invalid name for build stage: "{args[2]}", name can\'t start with a number or contain symbols'
            )
    elif len(args) != 1:
        raise InvalidArgument("FROM requires either one or three arguments")
    flags = _Flags(node, _FLAGS["from"])
    return ins.From(**_where(node), image=args[0], stage_name=name, platform=flags.str("platform"))


def _valid_stage_name(name: str) -> bool:
    # ^[a-z][a-z0-9-_.]*$
    if not name or not ("a" <= name[0] <= "z"):
        return False
    return all("a" <= c <= "z" or "0" <= c <= "9" or c in "-_." for c in name)


def _command(node: Node) -> tuple[tuple[str, ...], bool]:
    return node.args, not node.json


def _run(node: Node) -> ins.Run:
    flags = _Flags(node, _FLAGS["run"])
    if not node.args and not node.json:
        raise InvalidArgument("RUN requires at least one argument")
    network = flags.str("network", "default")
    if network not in ("default", "none", "host"):
        raise InvalidArgument(f'invalid network mode "{network}"')
    security = flags.str("security", "sandbox")
    if security not in ("sandbox", "insecure"):
        raise InvalidArgument(f'invalid security mode "{security}"')
    mounts = flags.strs("mount")
    from .mounts import check_mount

    for spec in mounts:
        check_mount(spec)
    command, shell = _command(node)
    return ins.Run(
        **_where(node),
        command=command,
        shell=shell,
        heredocs=node.heredocs,
        mounts=mounts,
        network=network,
        security=security,
        devices=flags.strs("device"),
    )


def _cmd(node: Node) -> ins.Cmd:
    _Flags(node, _NO_FLAGS)
    if not node.args and not node.json:
        raise InvalidArgument("CMD requires at least one argument")
    command, shell = _command(node)
    return ins.Cmd(**_where(node), command=command, shell=shell)


def _entrypoint(node: Node) -> ins.Entrypoint:
    _Flags(node, _NO_FLAGS)
    if not node.args and not node.json:
        raise InvalidArgument("ENTRYPOINT requires at least one argument")
    command, shell = _command(node)
    return ins.Entrypoint(**_where(node), command=command, shell=shell)


def _sources_and_dest(
    node: Node, name: str
) -> tuple[tuple[str, ...], str, tuple[ins.SourceContent, ...]]:
    if len(node.args) < 2:
        raise InvalidArgument(
            f"{name} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )
    *srcs, dest = node.args
    if parse_heredoc(dest) is not None:
        raise InvalidArgument(f"{name} cannot accept a heredoc as a destination")
    bodies = {doc.name: doc.content for doc in node.heredocs}
    paths: list[str] = []
    contents: list[ins.SourceContent] = []
    for src in srcs:
        doc = None if node.json else parse_heredoc(src)
        if doc is None:
            paths.append(src)
            continue
        data = bodies.get(doc.name, "")
        if doc.chomp:
            data = strip_leading_tabs(data)
        contents.append(ins.SourceContent(doc.name, data, doc.expand))
    return tuple(paths), dest, tuple(contents)


def _add(node: Node) -> ins.Add:
    if len(node.args) < 2:
        _sources_and_dest(node, "ADD")
    flags = _Flags(node, _FLAGS["add"])
    sources, dest, contents = _sources_and_dest(node, "ADD")
    return ins.Add(
        **_where(node),
        sources=sources,
        dest=dest,
        contents=contents,
        chown=flags.str("chown"),
        chmod=flags.str("chmod"),
        link=flags.bool("link"),
        keep_git_dir=flags.opt_bool("keep-git-dir"),
        checksum=flags.str("checksum"),
        unpack=flags.opt_bool("unpack"),
        exclude=flags.strs("exclude"),
    )


def _copy(node: Node) -> ins.Copy:
    if len(node.args) < 2:
        _sources_and_dest(node, "COPY")
    flags = _Flags(node, _FLAGS["copy"])
    sources, dest, contents = _sources_and_dest(node, "COPY")
    return ins.Copy(
        **_where(node),
        sources=sources,
        dest=dest,
        contents=contents,
        from_=flags.str("from"),
        chown=flags.str("chown"),
        chmod=flags.str("chmod"),
        link=flags.bool("link"),
        parents=flags.bool("parents"),
        exclude=flags.strs("exclude"),
    )


def _expose(node: Node) -> ins.Expose:
    _at_least_one(node, "EXPOSE")
    _Flags(node, _NO_FLAGS)
    return ins.Expose(**_where(node), ports=tuple(sorted(node.args)))


def _volume(node: Node) -> ins.Volume:
    _at_least_one(node, "VOLUME")
    _Flags(node, _NO_FLAGS)
    paths = tuple(v.strip() for v in node.args)
    if "" in paths:
        raise InvalidArgument("VOLUME specified can not be an empty string")
    return ins.Volume(**_where(node), paths=paths)


def _arg(node: Node) -> ins.Arg:
    _at_least_one(node, "ARG")
    _Flags(node, _NO_FLAGS)
    defs = []
    for word in node.args:
        key, eq, value = word.partition("=")
        if eq and not key:
            raise InvalidArgument("ARG names can not be blank")
        defs.append(ins.ArgDef(key, value if eq else None))
    return ins.Arg(**_where(node), args=tuple(defs))


def _onbuild(node: Node) -> ins.Onbuild:
    _at_least_one(node, "ONBUILD")
    _Flags(node, _NO_FLAGS)
    trigger = node.args[0].strip().upper()
    if trigger == "ONBUILD":
        raise InvalidArgument("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger in ("MAINTAINER", "FROM"):
        raise InvalidArgument(f"{trigger} isn't allowed as an ONBUILD trigger")
    assert node.sub is not None
    expression = _after_keyword(node.original)
    for doc in node.heredocs:
        expression += "\n" + doc.content + doc.name
    sub = node.sub
    if node.heredocs:
        sub = Node(
            sub.cmd, sub.args, sub.flags, sub.original, sub.start_line, node.end_line,
            sub.json, node.heredocs, None, sub.kv_legacy,
        )  # fmt: skip
    return ins.Onbuild(**_where(node), expression=expression, trigger=to_instruction(sub))


def _after_keyword(original: str) -> str:
    text = original.lstrip()
    text = text[len("ONBUILD") :]
    return text.lstrip()


def _healthcheck(node: Node) -> ins.Healthcheck:
    _at_least_one(node, "HEALTHCHECK")
    flags = _Flags(node, _FLAGS["healthcheck"])
    kind = node.args[0].upper()
    rest = node.args[1:]
    if kind == "NONE":
        if rest:
            raise InvalidArgument("HEALTHCHECK NONE takes no arguments")
        return ins.Healthcheck(**_where(node), test=("NONE",))
    if kind != "CMD":
        raise InvalidArgument(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    if not rest:
        raise InvalidArgument("Missing command after HEALTHCHECK CMD")
    test = ("CMD", *rest) if node.json else ("CMD-SHELL", " ".join(rest))
    retries = 0
    text = flags.str("retries")
    if text:
        retries = _parse_int32(text)
        if retries < 0:
            raise InvalidArgument(f"--retries cannot be negative ({retries})")
    return ins.Healthcheck(
        **_where(node),
        test=test,
        interval=_interval(flags, "interval"),
        timeout=_interval(flags, "timeout"),
        start_period=_interval(flags, "start-period"),
        start_interval=_interval(flags, "start-interval"),
        retries=retries,
    )


def _parse_int32(text: str) -> int:
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise InvalidArgument(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    value = int(text)
    if not -(2**31) <= value < 2**31:
        raise InvalidArgument(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def _interval(flags: _Flags, key: str) -> int:
    text = flags.str(key)
    if not text:
        return 0
    value = parse_duration(text)
    if value == 0:
        return 0
    if value < 1_000_000:
        raise InvalidArgument(f'Interval "{key}" cannot be less than 1ms')
    return value


def _shell(node: Node) -> ins.Shell:
    _Flags(node, _NO_FLAGS)
    if not node.args:
        raise InvalidArgument("SHELL requires at least one argument")
    if not node.json:
        raise InvalidArgument("SHELL requires the arguments to be in JSON form")
    return ins.Shell(**_where(node), shell=node.args)


def _env(node: Node) -> ins.Env:
    return ins.Env(**_where(node), pairs=_pairs(node, "ENV"))


def _label(node: Node) -> ins.Label:
    return ins.Label(**_where(node), pairs=_pairs(node, "LABEL"))


def _maintainer(node: Node) -> ins.Maintainer:
    return ins.Maintainer(**_where(node), maintainer=_one(node, "MAINTAINER"))


def _user(node: Node) -> ins.User:
    return ins.User(**_where(node), user=_one(node, "USER"))


def _workdir(node: Node) -> ins.Workdir:
    return ins.Workdir(**_where(node), path=_one(node, "WORKDIR"))


def _stopsignal(node: Node) -> ins.StopSignal:
    return ins.StopSignal(**_where(node), signal=_one(node, "STOPSIGNAL"))


_BUILDERS = {
    "add": _add,
    "arg": _arg,
    "cmd": _cmd,
    "copy": _copy,
    "entrypoint": _entrypoint,
    "env": _env,
    "expose": _expose,
    "from": _from,
    "healthcheck": _healthcheck,
    "label": _label,
    "maintainer": _maintainer,
    "onbuild": _onbuild,
    "run": _run,
    "shell": _shell,
    "stopsignal": _stopsignal,
    "user": _user,
    "volume": _volume,
    "workdir": _workdir,
}
