"""Dockerfile text → raw nodes: directives, comments, continuations, JSON, flags, heredocs.

BuildKit's parser testfiles (Dockerfile + AST dump) are checked node for node.
"""

import json
from pathlib import Path

import pytest

from dockyard.dockerfile import parse_nodes
from dockyard.errors import InvalidArgument

CORPUS = Path(__file__).parent / "dockerfile_corpus"
BUILDKIT = CORPUS / "buildkit" / "parser"


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\\u0000", "\\x00")


def _dump(node) -> str:
    """BuildKit's Node.Dump() of one instruction."""
    out = node.cmd.lower()
    if node.flags:
        out += " [" + " ".join(_go_quote(f) for f in node.flags) + "]"
    if node.sub is not None:
        return f"{out} ({_dump(node.sub)})"
    args = node.args
    if node.cmd.lower() in ("env", "label"):
        delim = "" if node.kv_legacy else "="
        args = [x for i in range(0, len(args), 2) for x in (args[i], args[i + 1], delim)]
    for arg in args:
        out += " " + _go_quote(arg)
    return out


@pytest.mark.parametrize("case", sorted(p.name for p in BUILDKIT.iterdir()))
def test_buildkit_testfiles_dump_identically(case):
    source = (BUILDKIT / case / "Dockerfile").read_bytes()
    expected = (BUILDKIT / case / "result").read_text().splitlines()
    got = [f"({_dump(n)})" for n in parse_nodes(source).nodes]
    assert got == [line for line in expected if line]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty_dockerfile", "file with no instructions"),
        ("only_comments", "file with no instructions"),
        ("env_no_value", "Dockerfile:3: ENV must have two arguments"),
        ("shykes-nested-json", "Dockerfile:1: when using JSON array syntax"),
    ],
)
def test_buildkit_negative_testfiles(case, message):
    source = (CORPUS / "buildkit" / "parser-negative" / case / "Dockerfile").read_bytes()
    with pytest.raises(InvalidArgument, match=message):
        parse_nodes(source)


# -- directives ---------------------------------------------------------------------------


def test_escape_directive_backtick_changes_continuation():
    p = parse_nodes("# escape=`\nFROM x\nRUN a `\n  b\nCOPY c:\\a\\ d\n")
    assert p.escape == "`"
    assert p.nodes[1].args == ("a   b",)
    assert p.nodes[2].args == ("c:\\a\\", "d")


def test_syntax_and_check_directives_are_recorded():
    p = parse_nodes("# syntax=docker/dockerfile:1\n# check=skip=all\nFROM x\n")
    assert p.directives == {"syntax": "docker/dockerfile:1", "check": "skip=all"}


def test_directive_names_are_case_insensitive_and_spaced():
    p = parse_nodes("#  EsCaPe =  `  \nFROM x\nRUN a `\n b\n")
    assert p.escape == "`" and p.nodes[1].args == ("a  b",)


@pytest.mark.parametrize(
    "text",
    [
        "# comment\n# escape=`\nFROM x\nRUN a `\nRUN b\n",  # after a comment
        "FROM x\n# escape=`\nRUN a `\nRUN b\n",  # after an instruction
        "\n# escape=`\nFROM x\nRUN a `\nRUN b\n",  # after a blank line
        "# unknown=1\n# escape=`\nFROM x\nRUN a `\nRUN b\n",  # after an unknown directive
    ],
)
def test_directives_only_count_at_the_top(text):
    p = parse_nodes(text)
    assert p.escape == "\\"
    assert [n.args for n in p.nodes[1:]] == [("a `",), ("b",)]


def test_repeated_directive_is_an_error_with_its_line():
    with pytest.raises(InvalidArgument, match=r"^Dockerfile:2: only one escape parser directive"):
        parse_nodes("# escape=`\n# Escape=\\\nFROM x\n")


def test_invalid_escape_token():
    with pytest.raises(InvalidArgument, match="Dockerfile:1: invalid escape token '/'"):
        parse_nodes("# escape=/\nFROM x\n")


def test_bom_is_ignored():
    assert parse_nodes("\ufeffFROM x\n".encode()).nodes[0].cmd == "FROM"


def test_invalid_utf8_is_a_clear_error():
    with pytest.raises(InvalidArgument, match="not valid UTF-8"):
        parse_nodes(b"FROM x\nRUN \xff\n")


# -- lines ----------------------------------------------------------------------------------


def test_continuation_skips_comment_and_empty_lines_and_tracks_lines():
    p = parse_nodes("FROM x\nRUN a \\\n# c\n\n   \n  b \\\n  # d\n  c\nCMD z\n")
    run = p.nodes[1]
    assert run.args == ("a   b   c",)
    assert (run.start_line, run.end_line) == (2, 8)
    assert p.nodes[2].start_line == 9


def test_continuation_at_eof_and_escaped_escape():
    assert parse_nodes("FROM x\nRUN a \\").nodes[1].args == ("a",)
    p = parse_nodes("FROM x\nRUN a \\\\\nRUN b\n")
    assert [n.args for n in p.nodes[1:]] == [("a \\\\",), ("b",)]


def test_crlf_line_endings():
    p = parse_nodes("FROM x\r\nRUN a \\\r\n b\r\n")
    assert p.nodes[1].args == ("a  b",)


def test_hash_inside_instruction_is_not_a_comment():
    assert parse_nodes("FROM x\nRUN echo #hi\n").nodes[1].args == ("echo #hi",)


def test_instruction_names_keep_case_and_args():
    p = parse_nodes("from x AS y\nRuN true\n")
    assert [n.cmd for n in p.nodes] == ["from", "RuN"]


# -- forms and flags -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "args", "is_json"),
    [
        ('RUN ["a", "b c"]', ("a", "b c"), True),
        ("RUN [ ]", (), True),
        ("RUN [\"a\", 'b']", ("[\"a\", 'b']",), False),
        ('RUN ["a" "b"]', ('["a" "b"]',), False),
        ('RUN ["a"] tail', ('["a"] tail',), False),
        ('RUN {"a": 1}', ('{"a": 1}',), False),
        ('RUN ["a", NaN]', ('["a", NaN]',), False),
        ("RUN " + "[" * 5000, ("[" * 5000,), False),
        ('COPY ["a b", "c"]', ("a b", "c"), True),
        ("COPY a  b\tc", ("a", "b", "c"), False),
    ],
)
def test_json_versus_shell_form(line, args, is_json):
    node = parse_nodes("FROM x\n" + line + "\n").nodes[1]
    assert (node.args, node.json) == (args, is_json)


def test_json_array_of_non_strings_is_an_error():
    with pytest.raises(InvalidArgument, match="Dockerfile:2: when using JSON array syntax"):
        parse_nodes('FROM x\nCMD ["a", 1]\n')


def test_flags_are_split_unquoted_and_stop_at_double_dash():
    node = parse_nodes("FROM x\nCOPY --chown=\"a b\" --link --from='s' -- --x y\n").nodes[1]
    assert node.flags == ("--chown=a b", "--link", "--from=s")
    assert node.args == ("--x", "y")


def test_flags_repeat():
    text = "FROM x\nRUN --mount=type=cache,target=/a --mount=type=tmpfs,target=/b true\n"
    assert parse_nodes(text).nodes[1].flags == (
        "--mount=type=cache,target=/a",
        "--mount=type=tmpfs,target=/b",
    )


def test_env_and_label_words_keep_quotes_for_later_expansion():
    node = parse_nodes('FROM x\nENV a="b c" d=e\\ f\n').nodes[1]
    assert node.args == ("a", '"b c"', "d", "e\\ f")
    legacy = parse_nodes("FROM x\nENV k  v  w\n").nodes[1]
    assert legacy.args == ("k", "v  w") and legacy.kv_legacy


def test_env_word_without_equals_is_an_error():
    with pytest.raises(InvalidArgument, match="Dockerfile:2: Syntax error - can't find = in"):
        parse_nodes("FROM x\nENV a=b c\n")


def test_onbuild_carries_its_trigger():
    node = parse_nodes('FROM x\nONBUILD RUN ["make"]\n').nodes[1]
    assert node.sub.cmd == "RUN" and node.sub.args == ("make",) and node.sub.json


def test_healthcheck_splits_type_and_command():
    node = parse_nodes("FROM x\nHEALTHCHECK --retries=3 CMD curl -f x\n").nodes[1]
    assert node.args == ("CMD", "curl -f x") and node.flags == ("--retries=3",)


# -- heredocs ------------------------------------------------------------------------------

# BuildKit's TestParseExtractsHeredoc, as (name, content, expand, chomp, fd) per instruction.
HEREDOC_EXPECTED = [
    [],  # FROM
    [],  # ENV
    [],  # RUN ls
    [],  # USER <<INVALID
    [],  # INVALID
    [("EMPTY", "", True, False, 0)],
    [("EMPTY2", "", True, False, 3)],
    [],  # RUN "<<NOHEREDOC"
    [("INDENT", "\tfoo\n\tbar\n", True, False, 0)],
    [("UNINDENT", "\tbaz\n\tquux\n", True, True, 0)],
    [("UNINDENT2", "\tbaz\n\tquux\n", True, True, 0)],
    [("EXPAND", "\texpand $NAME\n", True, True, 0)],
    [("NOEXPAND", "\tdon't expand $NAME\n", False, True, 0)],
    [("COPY", "echo hello world\necho foo bar\n", True, False, 0)],
    [
        (
            "COMMENT",
            "# internal comment\necho hello world\necho foo bar # trailing comment\n",
            True,
            False,
            0,
        )
    ],
    [("MOUNT", "echo hello\n", True, False, 0)],
    [("FILE1", "content 1\n", True, False, 0), ("FILE2", "content 2\n", True, False, 0)],
    [("EOF", "\"foo\"\n'bar'\n", True, False, 0)],
    [("X", "Y\n", True, False, 0), ("Y", "X\n", True, False, 0)],
    [("COMPLEX", "print('hello world')\n", True, False, 0)],
    [("file.txt", "hello world\n", True, False, 0)],
    [("eof", "echo foo\n", False, False, 0)],
    [("eo'f", "echo foo\n", True, False, 0)],
    [("eo'f", "echo foo\n", False, False, 0)],
    [("one two", "echo bar\n", False, False, 0)],
    [("$EOF", "", True, False, 0)],
    [("EOF", "", True, False, 0)],
    [("EOF", "", True, False, 0)],
]


def test_buildkit_heredoc_vectors():
    source = (CORPUS / "own" / "51-heredoc-buildkit-vectors.Dockerfile").read_text()
    nodes = parse_nodes(source).nodes
    got = [[(h.name, h.content, h.expand, h.chomp, h.fd) for h in n.heredocs] for n in nodes]
    assert got == HEREDOC_EXPECTED


def test_heredoc_lines_and_following_instruction():
    p = parse_nodes("FROM x\nRUN <<EOF\na\nb\nEOF\nCMD c\n")
    assert (p.nodes[1].start_line, p.nodes[1].end_line) == (2, 5)
    assert p.nodes[2].start_line == 6 and p.nodes[2].args == ("c",)


def test_heredoc_body_is_not_parsed_as_instructions():
    p = parse_nodes("FROM x\nRUN <<EOF\nFROM evil\n# escape=`\nEOF\n")
    assert len(p.nodes) == 2 and p.nodes[1].heredocs[0].content == "FROM evil\n# escape=`\n"


def test_unterminated_heredoc_names_its_line():
    with pytest.raises(InvalidArgument, match=r"^Dockerfile:2: unterminated heredoc$"):
        parse_nodes("FROM x\nRUN <<EOF\necho never ends\n")


def test_heredoc_only_for_run_copy_add_in_shell_form():
    p = parse_nodes('FROM x\nCMD <<EOF\nRUN ["<<EOF"]\nEOF\n')
    assert [n.heredocs for n in p.nodes] == [(), (), (), ()]


def test_heredoc_in_onbuild_trigger():
    node = parse_nodes("FROM x\nONBUILD RUN <<EOF\necho hi\nEOF\n").nodes[1]
    assert node.heredocs[0].content == "echo hi\n" and node.end_line == 4


# -- hostile input -------------------------------------------------------------------------


def test_huge_continuation_is_linear():
    text = "FROM x\nRUN " + "a \\\n" * 50_000 + "b\n"
    node = parse_nodes(text).nodes[1]
    assert node.end_line == 50_002 and node.args[0].endswith("a b")


def test_many_heredocs_on_one_line():
    names = [f"E{i}" for i in range(200)]
    text = "FROM x\nRUN " + " ".join(f"<<{n}" for n in names) + "\n"
    text += "".join(f"{n}\n" for n in names)
    assert len(parse_nodes(text).nodes[1].heredocs) == 200


def test_nul_bytes_and_control_characters_survive():
    node = parse_nodes("FROM x\nRUN echo \x00\x01\n").nodes[1]
    assert node.args == ("echo \x00\x01",)


def test_heredoc_text_strips_tabs_only_for_chomp():
    p = parse_nodes("FROM x\nRUN <<-A <<B\n\t\tone\n\tA\n\ttwo\nB\n")
    a, b = p.nodes[1].heredocs
    assert (a.content, a.text) == ("\t\tone\n", "one\n")
    assert (b.content, b.text) == ("\ttwo\n", "\ttwo\n")
