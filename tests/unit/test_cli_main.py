"""The CLI edge: global flags, dispatch, help, argument counts and error translation."""

import re

import pytest

from dockyard.cli import help as cli_help
from dockyard.cli.main import main


@pytest.fixture
def run(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli_help, "_terminal_width", lambda: 80)

    def call(*argv):
        status = main(
            ["--root", str(tmp_path / "root"), "--state-dir", str(tmp_path / "st"), *argv]
        )
        out, err = capsys.readouterr()
        return status, out, err

    return call


def test_version_flag(capsys):
    for flag in ("--version", "-v"):
        assert main([flag]) == 0
        out, err = capsys.readouterr()
        assert re.fullmatch(r"dockyard version 0\.1\.0, build ([0-9a-f]{7}|dev)\n", out)
        assert err == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--foo"], "unknown flag: --foo\nSee 'dockyard --help'.\n"),
        (["-x", "images"], "unknown shorthand flag: 'x' in -x\nSee 'dockyard --help'.\n"),
        (["images", "--foo"], "unknown flag: --foo\nSee 'dockyard images --help'.\n"),
        (
            ["image", "ls", "-x"],
            "unknown shorthand flag: 'x' in -x\nSee 'dockyard image ls --help'.\n",
        ),
        (
            ["image", "list", "--format"],
            "flag needs an argument: --format\nSee 'dockyard image ls --help'.\n",
        ),
        (["save", "-o"], "flag needs an argument: 'o' in -o\nSee 'dockyard save --help'.\n"),
        (
            ["images", "--all=maybe"],
            'invalid argument "maybe" for "-a, --all" flag: '
            "strconv.ParseBool: parsing \"maybe\": invalid syntax\nSee 'dockyard images --help'.\n",
        ),
        (["image", "--bad"], "unknown flag: --bad\nSee 'dockyard image --help'.\n"),
    ],
)
def test_flag_errors_exit_125(run, argv, message):
    status, out, err = run(*argv)
    assert (status, out, err) == (125, "", message)


def test_wrong_argument_count_is_exit_1_with_usage(run):
    status, out, err = run("tag", "busybox")
    assert status == 1 and out == ""
    assert err == (
        '"dockyard tag" requires exactly 2 arguments.\n'
        "See 'dockyard tag --help'.\n\n"
        "Usage:  dockyard tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
        "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n"
    )


@pytest.mark.parametrize(
    "argv, first_line",
    [
        (["rmi"], '"dockyard rmi" requires at least 1 argument.'),
        (["image", "rm"], '"dockyard image rm" requires at least 1 argument.'),
        (["images", "a", "b"], '"dockyard images" requires at most 1 argument.'),
        (["load", "x"], '"dockyard load" accepts no arguments.'),
        (["import"], '"dockyard import" requires at least 1 and at most 2 arguments.'),
        (["system", "df", "x"], '"dockyard system df" accepts no arguments.'),
    ],
)
def test_argument_count_messages(run, argv, first_line):
    status, _, err = run(*argv)
    assert status == 1
    assert err.splitlines()[0] == first_line


def test_unknown_commands(run):
    assert run("frobnicate") == (
        1,
        "",
        "dockyard: 'frobnicate' is not a dockyard command.\nSee 'dockyard --help'\n",
    )
    status, _, err = run("image", "frob")
    assert status == 1 and err.startswith("dockyard: 'frob' is not a dockyard image command.")


def test_help_matches_dockers_layout(run):
    status, out, err = run("images", "--help")
    assert status == 0 and err == ""
    assert out == (
        "Usage:  dockyard images [OPTIONS] [REPOSITORY[:TAG]]\n"
        "\n"
        "List images\n"
        "\n"
        "Aliases:\n"
        "  dockyard image ls, dockyard image list, dockyard images\n"
        "\n"
        "Options:\n"
        "  -a, --all             Show all images (default hides intermediate images)\n"
        "      --digests         Show digests\n"
        "  -f, --filter filter   Filter output based on conditions provided\n"
        "      --format string   Format output using a custom template:\n"
        "                        'table':            Print output in table format\n"
        "                        with column headers (default)\n"
        "                        'table TEMPLATE':   Print output in table format\n"
        "                        using the given Go template\n"
        "                        'json':             Print in JSON format\n"
        "                        'TEMPLATE':         Print output using the given\n"
        "                        Go template.\n"
        "                        Refer to https://docs.docker.com/go/formatting/\n"
        "                        for more information about formatting output with\n"
        "                        templates\n"
        "      --no-trunc        Don't truncate output\n"
        "  -q, --quiet           Only show image IDs\n"
    )


def test_help_shows_types_and_defaults(run):
    _, out, _ = run("history", "-h")
    assert (
        "  -H, --human           Print sizes and dates in human readable format\n"
        "                        (default true)\n" in out
    )
    _, out, _ = run("import", "--help")
    assert "  -c, --change list       Apply Dockerfile instruction to the created image\n" in out
    assert "  -m, --message string    Set commit message for imported image\n" in out


def test_help_forms_agree(run):
    by_flag = run("image", "ls", "--help")
    assert run("help", "image", "ls") == by_flag
    assert run("image", "list", "-h") == by_flag
    assert by_flag[1].startswith("Usage:  dockyard image ls [OPTIONS] [REPOSITORY[:TAG]]\n")


def test_groups_and_root_help(run):
    status, out, _ = run("image")
    assert status == 0
    assert out.startswith("Usage:  dockyard image COMMAND\n\nManage images\n\nCommands:\n")
    assert "  ls          List images\n" in out
    assert "  rm          Remove one or more images\n" in out
    status, out, _ = run()
    assert status == 0 and out.startswith("Usage:  dockyard [OPTIONS] COMMAND\n")
    assert "  images      List images\n" in out
    assert run("--help")[1] == out


def test_bad_log_level(run):
    assert run("--log-level", "loud", "images") == (1, "", "Unable to parse logging level: loud\n")


def test_engine_errors_are_one_line(run):
    status, out, err = run("tag", "nope", "other")
    assert (status, out) == (1, "")
    assert err == "Error: No such image: nope:latest\n"
    status, _, err = run("image", "inspect", "-f", "{{.Id}}", "Bad//Name")
    assert status == 1 and err.count("\n") == 1 and err.startswith("Error: ")


def test_internal_errors(run, monkeypatch):
    from dockyard.cli.commands import tag

    def boom(cli, opts, args):
        raise ValueError("kaputt")

    monkeypatch.setattr(tag, "run", boom)
    assert run("tag", "a", "b") == (
        1,
        "",
        "Error: internal error: ValueError: kaputt (run with --debug for details)\n",
    )
    status, out, err = run("--debug", "tag", "a", "b")
    assert (
        status == 1 and out == "" and "Traceback (most recent call last)" in err and "kaputt" in err
    )


def test_interrupt_is_quiet_130(run, monkeypatch):
    from dockyard.cli.commands import tag

    def interrupted(cli, opts, args):
        raise KeyboardInterrupt

    monkeypatch.setattr(tag, "run", interrupted)
    assert run("tag", "a", "b") == (130, "", "")
