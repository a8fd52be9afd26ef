"""Hostile and random input: the front end answers or raises InvalidArgument, nothing else."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.dockerfile import PatternMatcher, evaluate, expand_word, expand_words, parse
from dockyard.dockerfile.expand import Platform
from dockyard.dockerfile.glob import ANY, CLASS, DIRS, LIT, STAR, CharClass, fullmatch
from dockyard.errors import InvalidArgument

DOCKERFILE_ALPHABET = st.sampled_from(
    [*"FROMRUNCOPYENVARGabc \t\n\\`$'\"{}[]:=-+?#%/<>,.01", "\r\n", "<<EOF", "EOF", "--"]
)
WORDS = st.lists(DOCKERFILE_ALPHABET, max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(["FROM x", "RUN a", "ENV A=$B", "ARG B=1", "COPY a b", ""]) | WORDS,
        max_size=12,
    )
)
def test_random_dockerfiles_parse_or_fail_cleanly(lines):
    text = "\n".join(lines)
    try:
        df = parse(text)
        evaluate(df, {"B": "2"}, build_platform=Platform("linux", "amd64"))
    except InvalidArgument as e:
        assert str(e).startswith("Dockerfile")


@settings(max_examples=400, deadline=None)
@given(WORDS)
def test_random_words_expand_or_fail_cleanly(word):
    env = {"a": "x y", "b": ""}
    try:
        expand_word(word, env)
        expand_words(word, env, escape="`")
    except InvalidArgument as e:
        assert str(e).startswith("failed to process")


def _oracle(tokens) -> str:
    """The same tokens as a Python regex (a slow but obvious reference)."""
    out = []
    for kind, arg in tokens:
        if kind == LIT:
            out.append(re.escape(arg))
        elif kind == ANY:
            out.append("[^/]" if arg else ".")
        elif kind == CLASS:
            body = "".join(
                re.escape(lo) + ("-" + re.escape(hi) if hi != lo else "") for lo, hi in arg.ranges
            )
            out.append(f"[{'^' if arg.negated else ''}{body}]")
        elif kind == STAR:
            out.append("[^/]*" if arg else ".*")
        else:
            out.append("(.*/)?")
    return "".join(out)


TOKENS = st.lists(
    st.one_of(
        st.tuples(st.just(LIT), st.sampled_from("ab/")),
        st.tuples(st.just(ANY), st.booleans()),
        st.tuples(st.just(STAR), st.booleans()),
        st.tuples(st.just(DIRS), st.none()),
        st.tuples(
            st.just(CLASS),
            st.sampled_from([CharClass(False, (("a", "a"),)), CharClass(True, (("a", "b"),))]),
        ),
    ),
    max_size=6,
)


@settings(max_examples=1500, deadline=None)
@given(TOKENS, st.text(alphabet="ab/c", max_size=10))
def test_bit_parallel_matcher_agrees_with_a_regex(tokens, text):
    expected = re.fullmatch(_oracle(tokens), text, re.DOTALL) is not None
    assert fullmatch(tokens, text) is expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="ab*?[]!^-\\/.", max_size=8), max_size=4),
    st.text(alphabet="ab/.", max_size=10),
)
def test_random_ignore_patterns(patterns, path):
    try:
        pm = PatternMatcher(patterns)
        result = pm.matches(path)
        assert isinstance(result, bool)
        if pm.can_skip_dir(path):
            assert result
    except InvalidArgument:
        pass
