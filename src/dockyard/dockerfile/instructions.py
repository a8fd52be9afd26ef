"""Typed Dockerfile instructions, stages and the parsed file.

One frozen dataclass per instruction, each carrying its line range and original text.
Values are as written (unexpanded); `evaluate` produces expanded copies of the same types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .parser import Heredoc


@dataclass(frozen=True, slots=True, kw_only=True)
class Instruction:
    """Fields every instruction has: where it is and how it was written."""

    keyword: ClassVar[str] = ""
    line: int
    end_line: int
    original: str


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: str
    legacy: bool = False  # written `KEY value`, not `KEY=value`


@dataclass(frozen=True, slots=True)
class ArgDef:
    key: str
    value: str | None = None  # None: declared without a default


@dataclass(frozen=True, slots=True)
class SourceContent:
    """An inline COPY/ADD source given as a heredoc."""

    path: str
    data: str
    expand: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class From(Instruction):
    keyword: ClassVar[str] = "FROM"
    image: str
    stage_name: str = ""  # lower-cased `AS name`, "" if none
    platform: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Run(Instruction):
    keyword: ClassVar[str] = "RUN"
    command: tuple[str, ...]
    shell: bool = True  # shell form: the command is run through SHELL
    heredocs: tuple[Heredoc, ...] = ()
    mounts: tuple[str, ...] = ()  # raw --mount values; `mounts.parse_mount` types them
    network: str = "default"
    security: str = "sandbox"
    devices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Cmd(Instruction):
    keyword: ClassVar[str] = "CMD"
    command: tuple[str, ...]
    shell: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Entrypoint(Instruction):
    keyword: ClassVar[str] = "ENTRYPOINT"
    command: tuple[str, ...]
    shell: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Label(Instruction):
    keyword: ClassVar[str] = "LABEL"
    pairs: tuple[KeyValue, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Maintainer(Instruction):
    keyword: ClassVar[str] = "MAINTAINER"
    maintainer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Expose(Instruction):
    keyword: ClassVar[str] = "EXPOSE"
    ports: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Env(Instruction):
    keyword: ClassVar[str] = "ENV"
    pairs: tuple[KeyValue, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Add(Instruction):
    keyword: ClassVar[str] = "ADD"
    sources: tuple[str, ...]
    dest: str
    contents: tuple[SourceContent, ...] = ()
    chown: str = ""
    chmod: str = ""
    link: bool = False
    keep_git_dir: bool | None = None
    checksum: str = ""
    unpack: bool | None = None
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Copy(Instruction):
    keyword: ClassVar[str] = "COPY"
    sources: tuple[str, ...]
    dest: str
    contents: tuple[SourceContent, ...] = ()
    from_: str = ""  # --from: a stage name, stage index or image
    chown: str = ""
    chmod: str = ""
    link: bool = False
    parents: bool = False
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Volume(Instruction):
    keyword: ClassVar[str] = "VOLUME"
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class User(Instruction):
    keyword: ClassVar[str] = "USER"
    user: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Workdir(Instruction):
    keyword: ClassVar[str] = "WORKDIR"
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Arg(Instruction):
    keyword: ClassVar[str] = "ARG"
    args: tuple[ArgDef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Onbuild(Instruction):
    keyword: ClassVar[str] = "ONBUILD"
    expression: str  # the trigger as it goes into the image config
    trigger: Instruction


@dataclass(frozen=True, slots=True, kw_only=True)
class StopSignal(Instruction):
    keyword: ClassVar[str] = "STOPSIGNAL"
    signal: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Healthcheck(Instruction):
    """`test` is ("NONE",), ("CMD", argv...) or ("CMD-SHELL", command); durations in ns."""

    keyword: ClassVar[str] = "HEALTHCHECK"
    test: tuple[str, ...]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Shell(Instruction):
    keyword: ClassVar[str] = "SHELL"
    shell: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Stage:
    """`FROM ... [AS name]` and the instructions up to the next FROM."""

    index: int
    from_: From
    instructions: tuple[Instruction, ...]

    @property
    def name(self) -> str:
        return self.from_.stage_name


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """A parsed Dockerfile: global ARGs (before the first FROM) and the stages."""

    meta_args: tuple[Arg, ...]
    stages: tuple[Stage, ...]
    escape: str = "\\"
    directives: dict[str, str] = field(default_factory=dict)

    @property
    def syntax(self) -> str | None:
        return self.directives.get("syntax")
