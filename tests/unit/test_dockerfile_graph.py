"""Stage dependencies, --target selection and parallel build order."""

import pytest

from dockyard.dockerfile import evaluate, parse, stage_graph
from dockyard.dockerfile.expand import Platform
from dockyard.errors import InvalidArgument, NotFound

MULTI = """FROM golang AS deps
FROM deps AS build
RUN --mount=type=cache,target=/c go build
FROM deps AS test
RUN --mount=type=bind,from=build,target=/b go test
FROM alpine AS lint
FROM alpine AS final
COPY --from=build /app /app
COPY --from=3 /report /report
"""


def test_dependencies_from_from_copy_and_mount():
    g = stage_graph(parse(MULTI))
    assert g.names == ("deps", "build", "test", "lint", "final")
    assert g.deps == (
        frozenset(), frozenset({0}), frozenset({0, 1}), frozenset(), frozenset({1, 3}),
    )  # fmt: skip


def test_needed_for_target_skips_unrelated_stages():
    g = stage_graph(parse(MULTI))
    assert g.needed("final") == {0, 1, 3, 4}
    assert g.needed("TEST") == {0, 1, 2}
    assert g.needed() == g.needed("final")  # default target: the last stage


def test_order_groups_independent_stages():
    g = stage_graph(parse(MULTI))
    assert g.order("final") == [[0, 3], [1], [4]]
    assert g.order("test") == [[0], [1], [2]]


def test_unknown_target_is_not_found_with_buildkit_message():
    with pytest.raises(NotFound) as e:
        stage_graph(parse(MULTI)).needed("nope")
    assert str(e.value) == 'target stage "nope" could not be found'


def test_images_are_not_stages():
    g = stage_graph(parse("FROM alpine AS a\nFROM b\nCOPY --from=busybox:latest /x /y\n"))
    assert g.deps == (frozenset(), frozenset())


def test_from_a_later_stage_name_is_an_image():
    g = stage_graph(parse("FROM later AS first\nFROM alpine AS later\n"))
    assert g.deps == (frozenset(), frozenset())


def test_expanded_bases_from_evaluate():
    df = parse("ARG BASE=builder\nFROM alpine AS builder\nFROM $BASE\n")
    bases = [s.base for s in evaluate(df, build_platform=Platform("linux", "amd64"))]
    assert stage_graph(df).deps[1] == frozenset()  # unexpanded "$BASE" is no stage
    assert stage_graph(df, bases).deps[1] == frozenset({0})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "FROM a\nCOPY --from=0 x y\n",
            'Dockerfile:2: cannot copy from stage "0", it needs to be defined before current stage "0"',
        ),
        (
            "FROM a AS one\nCOPY --from=two x y\nFROM b AS two\n",
            'Dockerfile:2: cannot copy from stage "two", it needs to be defined before current stage "one"',
        ),
        ("FROM a\nCOPY --from=7 x y\n", "Dockerfile:2: invalid stage index 7"),
    ],
)
def test_bad_references(text, message):
    with pytest.raises(InvalidArgument) as e:
        stage_graph(parse(text))
    assert str(e.value) == message


def test_wide_graph_is_one_wave_then_the_join():
    text = "".join(f"FROM alpine AS s{i}\n" for i in range(50))
    text += "FROM alpine\n" + "".join(f"COPY --from=s{i} /a /a{i}\n" for i in range(50))
    g = stage_graph(parse(text))
    assert g.order() == [list(range(50)), [50]]
