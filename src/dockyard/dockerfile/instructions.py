"""Typed Dockerfile instructions, stages and the parsed file.

One frozen record per instruction, each carrying its line range and original text.
Values are as written (unexpanded); `evaluate` produces expanded copies of the same types.
"""

from __future__ import annotations

from dockyard.record import Record, factory

from .parser import Heredoc


class Instruction(Record):
    """Fields every instruction has: where it is and how it was written."""

    keyword = ""
    line: int
    end_line: int
    original: str


class KeyValue(Record):
    key: str
    value: str
    legacy: bool = False  # written `KEY value`, not `KEY=value`


class ArgDef(Record):
    key: str
    value: str | None = None  # None: declared without a default


class SourceContent(Record):
    """An inline COPY/ADD source given as a heredoc."""

    path: str
    data: str
    expand: bool


class From(Instruction):
    keyword = "FROM"
    image: str
    stage_name: str = ""  # lower-cased `AS name`, "" if none
    platform: str = ""


class Run(Instruction):
    keyword = "RUN"
    command: tuple[str, ...]
    shell: bool = True  # shell form: the command is run through SHELL
    heredocs: tuple[Heredoc, ...] = ()
    mounts: tuple[str, ...] = ()  # raw --mount values; `mounts.parse_mount` types them
    network: str = "default"
    security: str = "sandbox"
    devices: tuple[str, ...] = ()


class Cmd(Instruction):
    keyword = "CMD"
    command: tuple[str, ...]
    shell: bool = True


class Entrypoint(Instruction):
    keyword = "ENTRYPOINT"
    command: tuple[str, ...]
    shell: bool = True


class Label(Instruction):
    keyword = "LABEL"
    pairs: tuple[KeyValue, ...]


class Maintainer(Instruction):
    keyword = "MAINTAINER"
    maintainer: str


class Expose(Instruction):
    keyword = "EXPOSE"
    ports: tuple[str, ...]


class Env(Instruction):
    keyword = "ENV"
    pairs: tuple[KeyValue, ...]


class Add(Instruction):
    keyword = "ADD"
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


class Copy(Instruction):
    keyword = "COPY"
    sources: tuple[str, ...]
    dest: str
    contents: tuple[SourceContent, ...] = ()
    from_: str = ""  # --from: a stage name, stage index or image
    chown: str = ""
    chmod: str = ""
    link: bool = False
    parents: bool = False
    exclude: tuple[str, ...] = ()


class Volume(Instruction):
    keyword = "VOLUME"
    paths: tuple[str, ...]


class User(Instruction):
    keyword = "USER"
    user: str


class Workdir(Instruction):
    keyword = "WORKDIR"
    path: str


class Arg(Instruction):
    keyword = "ARG"
    args: tuple[ArgDef, ...]


class Onbuild(Instruction):
    keyword = "ONBUILD"
    expression: str  # the trigger as it goes into the image config
    trigger: Instruction


class StopSignal(Instruction):
    keyword = "STOPSIGNAL"
    signal: str


class Healthcheck(Instruction):
    """`test` is ("NONE",), ("CMD", argv...) or ("CMD-SHELL", command); durations in ns."""

    keyword = "HEALTHCHECK"
    test: tuple[str, ...]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


class Shell(Instruction):
    keyword = "SHELL"
    shell: tuple[str, ...]


class Stage(Record):
    """`FROM ... [AS name]` and the instructions up to the next FROM."""

    index: int
    from_: From
    instructions: tuple[Instruction, ...]

    @property
    def name(self) -> str:
        return self.from_.stage_name


class Dockerfile(Record):
    """A parsed Dockerfile: global ARGs (before the first FROM) and the stages."""

    meta_args: tuple[Arg, ...]
    stages: tuple[Stage, ...]
    escape: str = "\\"
    directives: dict[str, str] = factory(dict)

    @property
    def syntax(self) -> str | None:
        return self.directives.get("syntax")
