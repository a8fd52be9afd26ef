"""The Dockerfile shell lexer: BuildKit's own vectors (envVarTest, wordsTest) plus our cases."""

from pathlib import Path

import pytest

from dockyard.dockerfile import Lexer, ShellError, expand_word, expand_words
from dockyard.errors import InvalidArgument

VECTORS = Path(__file__).parent / "dockerfile_corpus" / "buildkit" / "shell"
ENV_VAR_ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


def _env_var_cases():
    for n, line in enumerate((VECTORS / "envVarTest").read_text().splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        platform, source, expected = (part.strip() for part in line.split("|"))
        if platform in ("A", "U"):
            yield pytest.param(source, expected, id=f"line{n}")


def _words_cases():
    env: dict[str, str] = {}
    for n, line in enumerate((VECTORS / "wordsTest").read_text().splitlines(), 1):
        if line.startswith("#"):
            continue
        if line.startswith("ENV "):
            key, _, value = line[3:].lstrip(" ").partition("=")
            env[key] = value
            continue
        source, expected = line.split("|")
        yield pytest.param(source.strip(), expected.lstrip(" ").split(","), dict(env), id=f"l{n}")


@pytest.mark.parametrize(("source", "expected"), list(_env_var_cases()))
def test_buildkit_env_var_vectors(source, expected):
    if expected == "error":
        with pytest.raises(ShellError):
            expand_word(source, ENV_VAR_ENV)
    else:
        assert expand_word(source, ENV_VAR_ENV) == expected


@pytest.mark.parametrize(("source", "expected", "env"), list(_words_cases()))
def test_buildkit_words_vectors(source, expected, env):
    try:
        result = expand_words(source, env)
    except ShellError:
        result = ["error"]
    assert result == expected


def test_vector_files_are_all_used():
    assert len(list(_env_var_cases())) > 200
    assert len(list(_words_cases())) > 20


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${V:-w}", "w"),  # empty counts as unset with ':'
        ("${V-w}", ""),  # set (to empty) without ':' → value
        ("${U-w}", "w"),
        ("${V:+w}", ""),
        ("${V+w}", "w"),
        ("${S:+w}", "w"),
        ("${U+w}", ""),
        ("${S?boom}", "set"),
        ("${V?boom}", ""),
        ("$S$S", "setset"),
        ("${S}x", "setx"),
        ("a\\$S", "a$S"),
        ("'$S'", "$S"),
        ('"$S"', "set"),
        ('"a\\"b"', 'a"b'),
        ('"a\\nb"', "a\\nb"),  # inside "", only \" \$ \\ are escapes
    ],
)
def test_modifiers(word, expected):
    assert expand_word(word, {"V": "", "S": "set"}) == expected


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("${U?}", "U: is not allowed to be unset"),
        ("${U?custom text}", "U: custom text"),
        ("${V:?}", "V: is not allowed to be empty"),
        ("${V:?why}", "V: why"),
        ("${U", "missing '}'"),
        ("${}", "bad substitution"),
        ("${U:=x}", "unsupported modifier"),
        ("${U:#x}", "unsupported modifier (:#)"),
        ('"open', "matching double-quote"),
        ("'open", "matching single-quote"),
    ],
)
def test_errors_are_invalid_argument_with_reason(word, message):
    with pytest.raises(InvalidArgument) as e:
        expand_word(word, {"V": ""})
    assert message in str(e.value)
    assert str(e.value).startswith("failed to process ")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${P#*/}", "a/b/c.tar.gz"),
        ("${P##*/}", "c.tar.gz"),
        ("${P%.*}", "/a/b/c.tar"),
        ("${P%%.*}", "/a/b/c"),
        ("${P#nomatch}", "/a/b/c.tar.gz"),
        ("${P/b/X}", "/a/X/c.tar.gz"),
        ("${P//\\//_}", "_a_b_c.tar.gz"),
        ("${P/?/Y}", "Ya/b/c.tar.gz"),
        ("${U#x}", ""),
    ],
)
def test_pattern_operators(word, expected):
    assert expand_word(word, {"P": "/a/b/c.tar.gz"}) == expected


def test_backtick_escape_token():
    env = {"X": "1"}
    assert expand_word("a`$X", env, escape="`") == "a$X"
    assert expand_word("c:\\dir\\$X", env, escape="`") == "c:\\dir\\1"
    assert expand_words("one` two three", env, escape="`") == ["one two", "three"]


def test_words_keep_quoted_spaces_and_split_expanded_ones():
    env = {"S": "a  b"}
    assert expand_words('x $S "$S" y', env) == ["x", "a", "b", "a  b", "y"]
    assert expand_word('x $S "$S"', env) == "x a  b a  b"


def test_empty_quotes_do_not_make_a_word():
    assert expand_words('"" a', {}) == ["a"]


def test_skip_unset_keeps_references():
    lex = Lexer(skip_unset=True)
    assert lex.word("$A ${B} ${C:-x} $D", {"D": "d"}) == "$A ${B} ${C:-x} d"


def test_raw_quotes_and_escapes_are_kept_when_asked():
    lex = Lexer(raw_quotes=True, raw_escapes=True)
    assert lex.words("<<'EOF' \\$x \"q\"", {}) == ["<<'EOF'", "\\$x", '"q"']


def test_deep_nesting_is_rejected_not_a_crash():
    hostile = "${a:-" * 5000 + "x" + "}" * 5000
    with pytest.raises(ShellError, match="nested too deeply"):
        expand_word(hostile, {})


def test_error_message_is_bounded_for_huge_words():
    with pytest.raises(ShellError) as e:
        expand_word('"' + "x" * 100_000, {})
    assert len(str(e.value)) < 400


def test_unicode_names_and_values():
    assert expand_word("$안녕", {"안녕": "hi"}) == "hi"
    assert expand_word("${KOREAN}!", ENV_VAR_ENV) == "한국어!"
