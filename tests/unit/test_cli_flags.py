"""The flag parser follows pflag/cobra: forms of flags, values, and Docker's exact error messages."""

import pytest

from dockyard.cli.flags import (
    BOOL,
    FILTER,
    INT,
    LIST,
    STRINGS,
    Flag,
    FlagError,
    HelpRequested,
    parse,
    parse_bool,
    parse_int,
)

FLAGS = (
    Flag("all", "a", BOOL),
    Flag("quiet", "q", BOOL),
    Flag("format"),
    Flag("output", "o"),
    Flag("last", "n", INT, default=-1),
    Flag("change", "c", LIST),
    Flag("filter", "f", FILTER),
    Flag("platform", kind=STRINGS),
    Flag("human", "H", BOOL, default=True),
    Flag("no-trunc", kind=BOOL, aliases=("notrunc",), hidden=True),
)


def p(*argv, interspersed=True):
    return parse(FLAGS, list(argv), interspersed=interspersed)


def test_defaults_when_nothing_is_given():
    v, args = p()
    assert (v.all, v.quiet, v.format, v.last, v.change, v.filter, v.human) == (
        False,
        False,
        "",
        -1,
        [],
        {},
        True,
    )
    assert args == [] and v.changed == set()


@pytest.mark.parametrize(
    "argv, attr, want",
    [
        (["--format", "x"], "format", "x"),
        (["--format=x"], "format", "x"),
        (["--format="], "format", ""),
        (["--format=a=b"], "format", "a=b"),
        (["-o", "f.tar"], "output", "f.tar"),
        (["-of.tar"], "output", "f.tar"),
        (["-o=f.tar"], "output", "f.tar"),
        (["-n", "5"], "last", 5),
        (["-n5"], "last", 5),
        (["--last=0x10"], "last", 16),
        (["--last", "-3"], "last", -3),
        (["--all"], "all", True),
        (["--all=false"], "all", False),
        (["--all=0"], "all", False),
        (["-a=false"], "all", False),
        (["--human=False"], "human", False),
        (["-H=f"], "human", False),
        (["--notrunc"], "no_trunc", True),
        (["-c", "CMD x", "--change=ENV a=b"], "change", ["CMD x", "ENV a=b"]),
        (
            ["--platform", "linux/amd64,linux/arm64", "--platform=x"],
            "platform",
            ["linux/amd64", "linux/arm64", "x"],
        ),
    ],
)
def test_value_forms(argv, attr, want):
    v, args = p(*argv)
    assert getattr(v, attr) == want
    assert args == []


def test_combined_shorthands_and_a_trailing_value():
    v, args = p("-aqfdangling=true")
    assert v.all and v.quiet
    assert v.filter == {"dangling": ["true"]}
    assert args == []


def test_filters_repeat_and_keys_are_lower_cased_and_trimmed():
    v, _ = p("-f", "Label=a=b", "--filter", " label = c ", "-f", "dangling=true")
    assert v.filter == {"label": ["a=b", "c"], "dangling": ["true"]}


def test_bool_does_not_take_the_next_word():
    v, args = p("--all", "false")
    assert v.all is True and args == ["false"]


def test_interspersed_flags_and_arguments():
    v, args = p("one", "-q", "two", "--format", "f", "three")
    assert v.quiet and v.format == "f"
    assert args == ["one", "two", "three"]


def test_not_interspersed_stops_at_the_first_argument():
    v, args = p("-q", "busybox", "ls", "-a", "--format", "x", interspersed=False)
    assert v.quiet and not v.all and v.format == ""
    assert args == ["busybox", "ls", "-a", "--format", "x"]


def test_double_dash_ends_flags_and_a_lone_dash_is_an_argument():
    v, args = p("-", "-q", "--", "-a", "--format")
    assert v.quiet and not v.all
    assert args == ["-", "-a", "--format"]


def test_changed_records_what_the_user_set():
    v, _ = p("--human=true", "-q")
    assert v.changed == {"human", "quiet"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--foo"], "unknown flag: --foo"),
        (["--foo=bar"], "unknown flag: --foo"),
        (["-x"], "unknown shorthand flag: 'x' in -x"),
        (["-aqx"], "unknown shorthand flag: 'x' in -x"),
        (["-xa"], "unknown shorthand flag: 'x' in -xa"),
        (["--format"], "flag needs an argument: --format"),
        (["-o"], "flag needs an argument: 'o' in -o"),
        (["-qo"], "flag needs an argument: 'o' in -o"),
        (
            ["-n", "x"],
            'invalid argument "x" for "-n, --last" flag: '
            'strconv.ParseInt: parsing "x": invalid syntax',
        ),
        (
            ["--last=99999999999999999999"],
            'invalid argument "99999999999999999999" for "-n, --last" '
            'flag: strconv.ParseInt: parsing "99999999999999999999": value out of range',
        ),
        (
            ["--all=yes"],
            'invalid argument "yes" for "-a, --all" flag: '
            'strconv.ParseBool: parsing "yes": invalid syntax',
        ),
        (
            ["--no-trunc=2"],
            'invalid argument "2" for "--no-trunc" flag: '
            'strconv.ParseBool: parsing "2": invalid syntax',
        ),
        (
            ["-f", "dangling"],
            'invalid argument "dangling" for "-f, --filter" flag: '
            "bad format of filter (expected name=value)",
        ),
        (["---x"], "bad flag syntax: ---x"),
        (["--=x"], "bad flag syntax: --=x"),
    ],
)
def test_errors_read_like_docker(argv, message):
    with pytest.raises(FlagError) as e:
        p(*argv)
    assert str(e.value) == message


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["-qh"], ["x", "--help", "--foo"]])
def test_help(argv):
    with pytest.raises(HelpRequested):
        p(*argv)


def test_h_is_a_normal_shorthand_when_a_command_defines_it():
    v, _ = parse((Flag("human", "H", BOOL), Flag("host", "h")), ["-h", "unix:///x"])
    assert v.host == "unix:///x"


@pytest.mark.parametrize(
    "text, want",
    [
        ("0", 0),
        ("-12", -12),
        ("+7", 7),
        ("0x1f", 31),
        ("0o17", 15),
        ("017", 15),
        ("0b101", 5),
        ("1_000", 1000),
        ("9223372036854775807", 2**63 - 1),
    ],
)
def test_parse_int_is_go_base_zero(text, want):
    assert parse_int(text) == want


@pytest.mark.parametrize("text", ["", " 1", "1.5", "abc", "08", "1__0", "_1", "0x"])
def test_parse_int_rejects(text):
    with pytest.raises(ValueError, match="invalid syntax"):
        parse_int(text)


@pytest.mark.parametrize(
    "text, want",
    [
        ("1", True),
        ("t", True),
        ("T", True),
        ("TRUE", True),
        ("true", True),
        ("True", True),
        ("0", False),
        ("f", False),
        ("F", False),
        ("FALSE", False),
        ("false", False),
        ("False", False),
    ],
)
def test_parse_bool_is_go_strconv(text, want):
    assert parse_bool(text) is want


@pytest.mark.parametrize("text", ["yes", "tRUE", "", "2"])
def test_parse_bool_rejects(text):
    with pytest.raises(ValueError):
        parse_bool(text)
