"""Build errors a user sees: the failing RUN (step, command, exit code, output), a missing
COPY source, an unknown instruction or flag, a bad option — one clear message, no image,
no tag moved, and no build dirs or mounts left behind."""

import os

import pytest
from build_support import BuildCli


@pytest.fixture(scope="module")
def cli(tmp_path_factory, busybox_tar):
    c = BuildCli(tmp_path_factory.mktemp("dy-build-err"), check=False)
    assert c("import", str(busybox_tar), "busybox").returncode == 0
    return c


def build(cli, tmp_path, dockerfile: str, *flags: str, files: dict | None = None):
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    for name, data in (files or {}).items():
        (ctx / name).write_text(data)
    p = cli("build", *flags, str(ctx))
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def no_leftovers(cli) -> None:
    tmp = cli.root / "root" / "tmp"
    assert not tmp.exists() or not os.listdir(tmp)
    with open("/proc/self/mountinfo") as f:
        assert str(cli.root) not in f.read()


def test_failing_run_names_step_command_exit_code_and_output(cli, tmp_path):
    code, out, err = build(
        cli, tmp_path, "FROM busybox\nRUN echo before\nRUN echo oops-output >&2; exit 3\n",
        "-t", "fail:1",
    )  # fmt: skip
    assert code != 0
    assert "Dockerfile:3" in err and "exit code: 3" in err
    assert '"/bin/sh -c echo oops-output >&2; exit 3"' in err
    assert "oops-output" in err  # the command's output is part of the error
    assert "Successfully" not in out
    assert cli("image", "inspect", "fail:1").returncode != 0
    no_leftovers(cli)


def test_failed_build_leaves_an_existing_tag_alone(cli, tmp_path):
    ok, _, _ = build(cli, tmp_path, "FROM busybox\nRUN echo 1 > /v\n", "-t", "keep:1")
    assert ok == 0
    before = cli("image", "inspect", "-f", "{{.Id}}", "keep:1").stdout
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM busybox\nRUN false\n")
    assert cli("build", "-t", "keep:1", str(tmp_path / "ctx")).returncode != 0
    assert cli("image", "inspect", "-f", "{{.Id}}", "keep:1").stdout == before


def test_missing_copy_source_names_the_line(cli, tmp_path):
    code, _, err = build(cli, tmp_path, "FROM busybox\n\nCOPY nothere.txt /x\n")
    assert code != 0
    assert "Dockerfile:3" in err and "nothere.txt" in err and "not found" in err
    no_leftovers(cli)


def test_unknown_instruction_and_bad_flag_name_the_line(cli, tmp_path):
    code, _, err = build(cli, tmp_path, "FROM busybox\nFROBNICATE now\n")
    assert code != 0 and "Dockerfile:2" in err and "FROBNICATE" in err.upper()
    code, _, err = build(cli, tmp_path, "FROM busybox\nCOPY --bogus=1 a /a\n")
    assert code != 0 and "Dockerfile:2" in err and "bogus" in err


def test_copy_of_several_files_needs_a_directory(cli, tmp_path):
    code, _, err = build(cli, tmp_path, "FROM busybox\nCOPY a b /dest\n",
                         files={"a": "a", "b": "b"})  # fmt: skip
    assert code != 0 and "Dockerfile:2" in err and "must be a directory" in err


def test_unknown_base_image_and_target(cli, tmp_path):
    code, _, err = build(cli, tmp_path, "FROM no-such-image:7\nRUN true\n")
    assert code != 0 and "no-such-image" in err
    code, _, err = build(cli, tmp_path, "FROM busybox AS a\n", "--target", "zzz")
    assert code != 0 and 'target stage "zzz" could not be found' in err


def test_bad_options(cli, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    p = cli("build", str(ctx))
    assert p.returncode != 0 and b"Dockerfile" in p.stderr
    (ctx / "Dockerfile").write_text("FROM busybox\n")
    p = cli("build", "--progress", "fancy", str(ctx))
    assert p.returncode != 0 and b"fancy" in p.stderr
    p = cli("build", "-t", "Bad:Tag!", str(ctx))
    assert p.returncode != 0 and b"invalid" in p.stderr.lower()
    p = cli("build", str(tmp_path / "missing"))
    assert p.returncode != 0 and b"not found" in p.stderr
