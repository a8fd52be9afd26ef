"""Differential test against BuildKit's own parser (PyPI `dockerfile`, Go-compiled).

Over the corpus (ours + BuildKit's parser testfiles) every instruction's name, flags,
original text, argument list, JSON-ness, line range and heredocs must agree. The few
places where that wheel (an older BuildKit) and current BuildKit differ are listed in
KNOWN with the reason; dockyard follows current BuildKit there.
"""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from dockyard.dockerfile import parse_nodes
from dockyard.errors import InvalidArgument

# The wheel is a Go library: importing it starts the Go runtime's threads, and a test process
# with threads can no longer clone containers (the linux tests run in the same process). So
# BuildKit's parser runs in a child process that answers one JSON line per Dockerfile.
_SERVER = """
import json, sys
import dockerfile
for line in sys.stdin:
    try:
        cmds = dockerfile.parse_string(json.loads(line))
    except dockerfile.GoParseError as e:
        out = {"error": str(e)}
    else:
        out = {"cmds": [dict(cmd=c.cmd, sub_cmd=c.sub_cmd, json=c.json, original=c.original,
                             start_line=c.start_line, end_line=c.end_line, flags=c.flags,
                             value=c.value, heredocs=[[h.name, h.file_descriptor, h.content]
                                                      for h in c.heredocs]) for c in cmds]}
    sys.stdout.write(json.dumps(out) + "\\n")
    sys.stdout.flush()
"""


class _BuildKit:
    """`parse_string` and `GoParseError` of the `dockerfile` wheel, run in a child process."""

    class GoParseError(Exception):
        pass

    def __init__(self):
        self._proc = None

    def parse_string(self, source: str) -> list:
        if self._proc is None:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        self._proc.stdin.write(json.dumps(source) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the dockerfile wheel's child process died (is it installed?)")
        out = json.loads(line)
        if "error" in out:
            raise self.GoParseError(out["error"])
        return [
            SimpleNamespace(
                **{**c, "flags": tuple(c["flags"]), "value": tuple(c["value"]),
                   "heredocs": [SimpleNamespace(name=n, file_descriptor=fd, content=body)
                                for n, fd, body in c["heredocs"]]}
            )
            for c in out["cmds"]
        ]  # fmt: skip

    def close(self) -> None:
        if self._proc is not None:
            self._proc.stdin.close()
            self._proc.wait(timeout=10)


@pytest.fixture(scope="module", autouse=True)
def _buildkit_child():
    yield
    dockerfile.close()


dockerfile = _BuildKit()

CORPUS = Path(__file__).parent / "dockerfile_corpus"
FILES = sorted((CORPUS / "own").glob("*.Dockerfile")) + sorted(
    (CORPUS / "buildkit" / "parser").glob("*/Dockerfile")
)

# (file, start line of the wheel's instruction) → why we differ on purpose.
KNOWN = {
    ("15-bad-json-is-shell.Dockerfile", 4): "trailing text after a JSON array: current BuildKit "
    "(json.Unmarshal) makes it shell form; the wheel's json.Decoder ignores the tail",
    ("46-heredoc-in-onbuild.Dockerfile", 2): "heredocs in ONBUILD triggers: current BuildKit "
    "reads them (heredocCompoundDirectives); the wheel does not",
    ("49-heredoc-fd-and-redirect.Dockerfile", 5): "`<<  NAME` with spaces: current BuildKit's "
    "heredoc regexp allows them; the wheel does not",
    ("49-heredoc-fd-and-redirect.Dockerfile", 6): "the wheel sees the body line as an instruction",
    ("49-heredoc-fd-and-redirect.Dockerfile", 7): "the wheel sees the terminator as an instruction",
    ("51-heredoc-buildkit-vectors.Dockerfile", 101): "`<<  EOF` with spaces (as above)",
    (
        "51-heredoc-buildkit-vectors.Dockerfile",
        102,
    ): "the wheel sees the body line as an instruction",
    ("51-heredoc-buildkit-vectors.Dockerfile", 104): "`<<  EOF` with spaces (as above)",
    (
        "51-heredoc-buildkit-vectors.Dockerfile",
        105,
    ): "the wheel sees the body line as an instruction",
    ("json/Dockerfile", 8): "the wheel's C binding truncates strings at NUL (\\u0000)",
}


def _theirs(cmd) -> tuple:
    heredocs = tuple((h.name, h.file_descriptor, h.content) for h in cmd.heredocs)
    return (cmd.cmd, cmd.sub_cmd, cmd.json, cmd.original, cmd.start_line, cmd.end_line,
            cmd.flags, cmd.value, heredocs)  # fmt: skip


def _ours(node) -> tuple:
    original = node.original
    if node.heredocs:  # the wheel appends each body and terminator to the original
        original += "".join("\n" + h.content + h.name for h in node.heredocs) + "\n"
    heredocs = tuple((h.name, h.fd, h.content) for h in node.heredocs)
    if node.sub is not None:
        sub = node.sub
        # The wheel reports the ONBUILD line's own flags, not the trigger's.
        return (node.cmd, sub.cmd, sub.json, original, node.start_line, node.end_line,
                node.flags, sub.args, heredocs)  # fmt: skip
    return (node.cmd, None, node.json, original, node.start_line, node.end_line,
            node.flags, node.args, heredocs)  # fmt: skip


def _key(path: Path) -> str:
    return path.name if path.parent.name == "own" else f"{path.parent.name}/{path.name}"


def _compare(path: Path) -> tuple[set, list]:
    source = path.read_text(encoding="utf-8")
    try:
        theirs = [_theirs(c) for c in dockerfile.parse_string(source)]
    except dockerfile.GoParseError as e:
        with pytest.raises(InvalidArgument) as ours_err:
            parse_nodes(source)
        assert str(e) in str(ours_err.value)
        return set(), []
    ours = [_ours(n) for n in parse_nodes(source).nodes]
    by_line = {t[4]: t for t in theirs}
    mine = {o[4]: o for o in ours}
    differing = {
        line for line in by_line.keys() | mine.keys() if by_line.get(line) != mine.get(line)
    }
    return differing, theirs


def test_the_wheel_is_buildkit():
    (cmd,) = dockerfile.parse_string("FROM x\n")
    assert cmd.cmd == "FROM"


def test_corpus_is_large_enough():
    assert len(list((CORPUS / "own").glob("*.Dockerfile"))) >= 40


@pytest.mark.parametrize("path", FILES, ids=_key)
def test_agrees_with_buildkit(path):
    differing, _ = _compare(path)
    expected = {line for (name, line) in KNOWN if name == _key(path)}
    assert differing <= expected, differing - expected


def test_known_differences_still_differ():
    # If the wheel catches up, the table must shrink with it.
    for name, line in KNOWN:
        path = CORPUS / "own" / name if "/" not in name else CORPUS / "buildkit" / "parser" / name
        differing, _ = _compare(path)
        assert line in differing, (name, line)


@pytest.mark.parametrize(
    "source",
    [
        'FROM x\nCMD ["a", 1]\n',
        "# escape=`\n# escape=\\\nFROM x\n",
        "FROM x\nRUN <<EOF\nnever\n",
        "",
        "# only a comment\n",
    ],
)
def test_both_reject(source):
    with pytest.raises(dockerfile.GoParseError):
        dockerfile.parse_string(source)
    with pytest.raises(InvalidArgument):
        parse_nodes(source)


@pytest.mark.parametrize("seed", range(200))
def test_generated_dockerfiles_agree(seed):
    source = _generate(seed)
    theirs = [_theirs(c) for c in dockerfile.parse_string(source)]
    ours = [_ours(n) for n in parse_nodes(source).nodes]
    assert ours == theirs, source


_PIECES = [
    "RUN echo $A", "RUN [\"a\", \"b c\"]", "RUN --mount=type=cache,target=/c x", "CMD [\"x\"]",
    "CMD x y", "ENV A=1 B=\"2 3\"", "ENV K v w", "LABEL a=b c=\"d e\"", "COPY --from=s a b",
    "COPY [\"a b\", \"c\"]", "ADD --chown=1:1 a b", "EXPOSE 80 443", "VOLUME [\"/v\"]",
    "USER u", "WORKDIR /w", "ARG X=1", "ONBUILD RUN x", "STOPSIGNAL 9", "SHELL [\"sh\"]",
    "HEALTHCHECK --interval=5s CMD x", "HEALTHCHECK NONE", "MAINTAINER m",
    "RUN a \\\n  b", "RUN a \\\n# c\n  b", "RUN a \\\n\n  b", "COPY <<E /x\nbody\nE",
    "RUN <<-E\n\tx\n\tE", "run lower", "ENV a='q' b=\"\\\"\"", "COPY --link -- a b",
    "# comment", "", "RUN x # not comment", "ARG Y",
]  # fmt: skip


def _generate(seed: int) -> str:
    import random

    rng = random.Random(seed)
    lines = ["FROM base AS s"] + [rng.choice(_PIECES) for _ in range(rng.randint(1, 12))]
    return "\n".join(lines) + ("\n" if rng.random() < 0.8 else "")
