"""ARG/ENV scoping and variable expansion over parsed stages (pure; BuildKit's dispatch rules).

Global ARGs (before the first FROM) are visible only in FROM lines unless a stage
re-declares them; `--build-arg` values override defaults; proxy ARGs reach RUN without a
declaration and stay out of history; automatic platform ARGs exist in the global scope.
ENV and ARG values update the stage's environment in order, so each instruction is
expanded with what precedes it. RUN, CMD, ENTRYPOINT, HEALTHCHECK, SHELL and ONBUILD are
not expanded (the shell does that at run time).
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.record import Record, replace

from . import instructions as ins
from .lexer import Lexer, ShellError
from .mounts import Mount, parse_mount
from .parser import error_at

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc costs ~1 ms of start-up; annotations are never evaluated
    from collections.abc import Callable, Mapping

PROXY_ARGS = frozenset(
    {
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
    }
)  # fmt: skip
PLATFORM_ARGS = (
    "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
)  # fmt: skip


class Platform(Record):
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base

    @classmethod
    def parse(cls, text: str) -> Platform:
        """`os[/arch[/variant]]` or a bare arch, normalized as containerd does."""
        parts = text.strip().lower().split("/")
        if not all(parts) or len(parts) > 3:
            raise InvalidArgument(f'invalid platform "{text}": expected os/arch[/variant]')
        if len(parts) == 1:
            if parts[0] in _OSES:
                host = host_platform()
                return cls(parts[0], host.architecture, host.variant)
            return cls("linux", *_normalize_arch(parts[0], ""))
        arch, variant = _normalize_arch(parts[1], parts[2] if len(parts) == 3 else "")
        return cls(parts[0], arch, variant)


_OSES = frozenset({"linux", "windows", "darwin", "freebsd"})
_ARCH_ALIASES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", ""),
    "i686": ("386", ""),
}


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    arch, default_variant = _ARCH_ALIASES.get(arch, (arch, ""))
    variant = variant or default_variant
    if arch == "arm64" and variant in ("8", "v8"):
        variant = ""
    elif arch == "arm" and variant in ("", "7"):
        variant = "v7"
    elif arch == "arm" and variant in ("5", "6", "8"):
        variant = "v" + variant
    return arch, variant


def host_platform() -> Platform:
    import os

    return Platform("linux", *_normalize_arch(os.uname().machine, ""))


class Step(Record):
    """One expanded instruction and the variables in effect when it runs."""

    instruction: ins.Instruction
    env: dict[str, str]  # the stage environment: image ENV plus declared ARG values
    build_args: dict[str, str]  # declared ARGs with a value (recorded for RUN history)
    proxy: dict[str, str]  # proxy ARGs given as build args: RUN env only, never in history
    mounts: tuple[Mount, ...] = ()  # RUN --mount, expanded and validated


class EvaluatedStage(Record):
    index: int
    name: str
    base: str  # FROM image or earlier stage name, expanded with global ARGs
    platform: Platform | None  # expanded FROM --platform, None if not given
    steps: tuple[Step, ...]
    image_env: dict[str, str]  # config ENV at the end of the stage (ARGs excluded)


def global_args(
    df: ins.Dockerfile,
    build_args: Mapping[str, str] | None = None,
    target_platform: Platform | None = None,
    build_platform: Platform | None = None,
) -> dict[str, str]:
    """Variables usable in FROM lines: platform ARGs then the global ARGs in order."""
    build_args = build_args or {}
    build = build_platform or host_platform()
    target = target_platform or build
    scope = {
        "BUILDPLATFORM": str(build),
        "BUILDOS": build.os,
        "BUILDARCH": build.architecture,
        "BUILDVARIANT": build.variant,
        "TARGETPLATFORM": str(target),
        "TARGETOS": target.os,
        "TARGETARCH": target.architecture,
        "TARGETVARIANT": target.variant,
    }
    for key in PLATFORM_ARGS:
        if key in build_args:
            scope[key] = build_args[key]
    lexer = Lexer(df.escape)
    for arg in df.meta_args:
        for d in arg.args:
            if d.key in build_args:
                scope[d.key] = build_args[d.key]
            elif d.value is not None:
                scope[d.key] = _word(lexer, d.value, scope, arg.line)
    return scope


def evaluate(
    df: ins.Dockerfile,
    build_args: Mapping[str, str] | None = None,
    target_platform: Platform | None = None,
    build_platform: Platform | None = None,
    base_env: Callable[[str, Platform | None], Mapping[str, str]] | None = None,
) -> tuple[EvaluatedStage, ...]:
    """Expand every stage in order. `base_env(image, platform)` gives an external base
    image's config Env (default: none); a stage built on an earlier stage inherits its ENV."""
    build_args = dict(build_args or {})
    scope = global_args(df, build_args, target_platform, build_platform)
    proxy = {k: v for k, v in build_args.items() if k in PROXY_ARGS}
    lexer = Lexer(df.escape)
    done: list[EvaluatedStage] = []
    by_name: dict[str, EvaluatedStage] = {}
    for stage in df.stages:
        base = _word(lexer, stage.from_.image, scope, stage.from_.line)
        if not base:
            raise error_at(stage.from_.line, f"base name ({stage.from_.image}) should not be blank")
        platform = None
        if stage.from_.platform:
            text = _word(lexer, stage.from_.platform, scope, stage.from_.line)
            if not text:
                raise error_at(
                    stage.from_.line,
                    f"empty platform value from expression {stage.from_.platform}",
                )
            try:
                platform = Platform.parse(text)
            except InvalidArgument as e:
                raise error_at(stage.from_.line, str(e)) from None
        parent = by_name.get(base.lower())
        if parent is not None:
            env = dict(parent.image_env)
        else:
            env = dict(base_env(base, platform)) if base_env else {}
        runner = _StageRunner(lexer, env, build_args, scope, proxy)
        steps = tuple(runner.step(inst) for inst in stage.instructions)
        done_stage = EvaluatedStage(
            stage.index, stage.name, base, platform, steps, runner.image_env
        )
        done.append(done_stage)
        if stage.name:
            by_name[stage.name] = done_stage
    return tuple(done)


def _word(lexer: Lexer, text: str, env: Mapping[str, str], line: int) -> str:
    try:
        return lexer.word(text, env)
    except ShellError as e:
        raise error_at(line, str(e)) from None


class _StageRunner:
    """Walks one stage, keeping the environment each instruction sees."""

    def __init__(
        self,
        lexer: Lexer,
        env: dict[str, str],
        build_args: Mapping[str, str],
        global_scope: Mapping[str, str],
        proxy: dict[str, str],
    ) -> None:
        self.lexer = lexer
        self.env = env  # what expansion and RUN see
        self.image_env = dict(env)  # what the image config records
        self.build_args = build_args
        self.global_scope = global_scope
        self.declared: dict[str, str] = {}
        self.proxy = proxy

    def _x(self, text: str, line: int) -> str:
        return _word(self.lexer, text, self.env, line)

    def step(self, inst: ins.Instruction) -> Step:
        env_before = dict(self.env)
        mounts: tuple[Mount, ...] = ()
        if isinstance(inst, ins.Arg):
            inst = self._arg(inst)
        elif isinstance(inst, ins.Env):
            inst = replace(inst, pairs=self._pairs(inst.pairs, inst.line))
            if any(not kv.key for kv in inst.pairs):
                raise error_at(inst.line, "ENV names can not be blank")
            for kv in inst.pairs:
                self.env[kv.key] = kv.value
                self.image_env[kv.key] = kv.value
        elif isinstance(inst, ins.Run):
            mounts = self._mounts(inst)
        else:
            inst = self._expand(inst)
        return Step(inst, env_before, dict(self.declared), dict(self.proxy), mounts)

    def _arg(self, inst: ins.Arg) -> ins.Arg:
        defs = []
        for d in inst.args:
            if d.key in self.build_args:
                value: str | None = self.build_args[d.key]
            elif d.value is not None:
                value = self._x(d.value, inst.line)
            else:
                value = self.global_scope.get(d.key)
            if value is not None:
                self.env[d.key] = value
                self.declared[d.key] = value
            defs.append(ins.ArgDef(d.key, value))
        return replace(inst, args=tuple(defs))

    def _pairs(self, pairs: tuple[ins.KeyValue, ...], line: int) -> tuple[ins.KeyValue, ...]:
        # Every pair sees the environment from before the instruction (`ENV a=1 b=$a`).
        return tuple(
            ins.KeyValue(self._x(kv.key, line), self._x(kv.value, line), kv.legacy) for kv in pairs
        )

    def _mounts(self, inst: ins.Run) -> tuple[Mount, ...]:
        out = []
        for spec in inst.mounts:
            try:
                out.append(parse_mount(spec, lambda v: self.lexer.word(v, self.env)))
            except InvalidArgument as e:
                raise error_at(inst.line, str(e)) from None
        return tuple(out)

    def _expand(self, inst: ins.Instruction) -> ins.Instruction:
        x, line = self._x, inst.line
        if isinstance(inst, ins.Copy | ins.Add):
            if isinstance(inst, ins.Copy) and inst.from_:
                self._literal_from(inst)
            contents = tuple(
                replace(c, data=self._raw(c.data, line)) if c.expand else c for c in inst.contents
            )
            changes: dict[str, object] = {
                "sources": tuple(x(s, line) for s in inst.sources),
                "dest": x(inst.dest, line),
                "contents": contents,
                "chown": x(inst.chown, line),
                "chmod": x(inst.chmod, line),
            }
            if isinstance(inst, ins.Add):
                changes["checksum"] = x(inst.checksum, line)
            return replace(inst, **changes)
        if isinstance(inst, ins.Label):
            return replace(inst, pairs=self._pairs(inst.pairs, line))
        if isinstance(inst, ins.Expose):
            ports = [p for port in inst.ports for p in self._words(port, line)]
            return replace(inst, ports=tuple(ports))
        if isinstance(inst, ins.Volume):
            return replace(inst, paths=tuple(x(p, line) for p in inst.paths))
        if isinstance(inst, ins.User):
            return replace(inst, user=x(inst.user, line))
        if isinstance(inst, ins.Workdir):
            return replace(inst, path=x(inst.path, line))
        if isinstance(inst, ins.StopSignal):
            return replace(inst, signal=x(inst.signal, line))
        return inst  # CMD ENTRYPOINT HEALTHCHECK SHELL ONBUILD MAINTAINER: literal

    def _words(self, text: str, line: int) -> list[str]:
        try:
            return self.lexer.words(text, self.env)
        except ShellError as e:
            raise error_at(line, str(e)) from None

    def _raw(self, text: str, line: int) -> str:
        # Heredoc bodies keep their quotes; only variables and escapes are processed.
        try:
            return Lexer("\\", skip_quotes=True).word(text, self.env)
        except ShellError as e:
            raise error_at(line, str(e)) from None

    def _literal_from(self, inst: ins.Copy) -> None:
        try:
            literal = self.lexer.word(inst.from_, {}) == inst.from_
        except ShellError:
            literal = False
        if not literal:
            raise error_at(
                inst.line,
                "variable expansion is not supported for --from, define a new stage with "
                "FROM using ARG from global scope as a workaround",
            )
