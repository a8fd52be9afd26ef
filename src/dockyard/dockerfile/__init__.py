"""The Dockerfile front end: parse, type, expand and order stages; .dockerignore matching.

Pure code (L1): text in, typed records (`dockyard.record`) out. `parse` gives a `Dockerfile`
of global ARGs and stages; `evaluate` expands each stage's instructions with the ARG/ENV scoping BuildKit
applies; `stage_graph` gives the stages a --target needs and a parallel build order;
`PatternMatcher` answers .dockerignore questions. Every error is
`InvalidArgument("Dockerfile:LINE: reason")` (or NotFound for an unknown --target).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~2 ms to import; type checkers treat this name as True
if TYPE_CHECKING:
    from .convert import parse, to_instruction
    from .dockerignore import PatternMatcher, read_dockerignore
    from .expand import (
        PLATFORM_ARGS,
        PROXY_ARGS,
        EvaluatedStage,
        Platform,
        Step,
        evaluate,
        global_args,
        host_platform,
    )
    from .graph import StageGraph, stage_graph
    from .instructions import (
        Add,
        Arg,
        ArgDef,
        Cmd,
        Copy,
        Dockerfile,
        Entrypoint,
        Env,
        Expose,
        From,
        Healthcheck,
        Instruction,
        KeyValue,
        Label,
        Maintainer,
        Onbuild,
        Run,
        Shell,
        SourceContent,
        Stage,
        StopSignal,
        User,
        Volume,
        Workdir,
    )
    from .lexer import Lexer, ShellError, expand_word, expand_words
    from .mounts import Mount, parse_mount
    from .parser import Heredoc, Node, ParsedFile, parse_nodes

# Submodules load on first use: importing the package costs nothing until then.
_HOME = {
    "Add": "instructions",
    "Arg": "instructions",
    "ArgDef": "instructions",
    "Cmd": "instructions",
    "Copy": "instructions",
    "Dockerfile": "instructions",
    "Entrypoint": "instructions",
    "Env": "instructions",
    "EvaluatedStage": "expand",
    "Expose": "instructions",
    "From": "instructions",
    "Healthcheck": "instructions",
    "Heredoc": "parser",
    "Instruction": "instructions",
    "KeyValue": "instructions",
    "Label": "instructions",
    "Lexer": "lexer",
    "Maintainer": "instructions",
    "Mount": "mounts",
    "Node": "parser",
    "Onbuild": "instructions",
    "PLATFORM_ARGS": "expand",
    "PROXY_ARGS": "expand",
    "ParsedFile": "parser",
    "PatternMatcher": "dockerignore",
    "Platform": "expand",
    "Run": "instructions",
    "Shell": "instructions",
    "ShellError": "lexer",
    "SourceContent": "instructions",
    "Stage": "instructions",
    "StageGraph": "graph",
    "Step": "expand",
    "StopSignal": "instructions",
    "User": "instructions",
    "Volume": "instructions",
    "Workdir": "instructions",
    "evaluate": "expand",
    "expand_word": "lexer",
    "expand_words": "lexer",
    "global_args": "expand",
    "host_platform": "expand",
    "parse": "convert",
    "parse_mount": "mounts",
    "parse_nodes": "parser",
    "read_dockerignore": "dockerignore",
    "stage_graph": "graph",
    "to_instruction": "convert",
}


def __getattr__(name: str):
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import sys

    full = f"{__name__}.{module}"
    __import__(full)  # not importlib: it costs its own import (and warnings')
    value = getattr(sys.modules[full], name)
    globals()[name] = value
    return value


__all__ = [
    "PLATFORM_ARGS",
    "PROXY_ARGS",
    "Add",
    "Arg",
    "ArgDef",
    "Cmd",
    "Copy",
    "Dockerfile",
    "Entrypoint",
    "Env",
    "EvaluatedStage",
    "Expose",
    "From",
    "Healthcheck",
    "Heredoc",
    "Instruction",
    "KeyValue",
    "Label",
    "Lexer",
    "Maintainer",
    "Mount",
    "Node",
    "Onbuild",
    "ParsedFile",
    "PatternMatcher",
    "Platform",
    "Run",
    "Shell",
    "ShellError",
    "SourceContent",
    "Stage",
    "StageGraph",
    "Step",
    "StopSignal",
    "User",
    "Volume",
    "Workdir",
    "evaluate",
    "expand_word",
    "expand_words",
    "global_args",
    "host_platform",
    "parse",
    "parse_mount",
    "parse_nodes",
    "read_dockerignore",
    "stage_graph",
    "to_instruction",
]
