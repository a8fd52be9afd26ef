"""Every corpus Dockerfile goes through the whole front end: parse → evaluate → graph."""

from pathlib import Path

import pytest

from dockyard.dockerfile import Platform, evaluate, parse, stage_graph
from dockyard.errors import InvalidArgument

OWN = sorted((Path(__file__).parent / "dockerfile_corpus" / "own").glob("*.Dockerfile"))

# Corpus files that are meant to be rejected once typed, and why.
REJECTED = {
    "51-heredoc-buildkit-vectors.Dockerfile": "Dockerfile:9: unknown instruction: INVALID",
}


@pytest.mark.parametrize("path", OWN, ids=lambda p: p.name)
def test_corpus_file_through_the_front_end(path):
    source = path.read_bytes()
    if path.name in REJECTED:
        with pytest.raises(InvalidArgument) as e:
            parse(source)
        assert str(e.value) == REJECTED[path.name]
        return
    df = parse(source)
    stages = evaluate(
        df,
        {"HTTP_PROXY": "http://proxy:3128"},
        target_platform=Platform("linux", "arm64"),
        build_platform=Platform("linux", "amd64"),
    )
    assert len(stages) == len(df.stages) >= 1
    graph = stage_graph(df, [s.base for s in stages])
    waves = graph.order()
    assert waves[-1][-1] == len(df.stages) - 1
    for stage in stages:
        assert len(stage.steps) == len(df.stages[stage.index].instructions)
        for step in stage.steps:
            assert step.instruction.line >= 1 and step.instruction.original


def test_escape_file_expands_with_backtick():
    df = parse((OWN[0].parent / "03-escape-backtick.Dockerfile").read_text())
    assert df.escape == "`"
    copy = df.stages[0].instructions[1]
    assert copy.sources == ("a\\b",) and copy.dest == "c:\\dest\\"


def test_multistage_file_order():
    df = parse((OWN[0].parent / "36-multistage.Dockerfile").read_text())
    graph = stage_graph(df)
    assert graph.order("final") == [[0], [1], [3]]
    assert graph.order("test") == [[0], [2]]


def test_package_import_is_lazy():
    import subprocess
    import sys

    code = (
        "import sys, dockyard.dockerfile as d\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('dockyard.dockerfile.'))\n"
        "assert loaded == [], loaded\n"
        "d.parse('FROM x\\nRUN y\\n')\n"
        "assert 'dockyard.dockerfile.convert' in sys.modules\n"
        "assert 'dockyard.dockerfile.dockerignore' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_exported_name_resolves():
    import dockyard.dockerfile as d

    for name in d.__all__:
        assert getattr(d, name) is not None, name
