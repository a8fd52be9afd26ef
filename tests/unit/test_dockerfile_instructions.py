"""Typed instructions: arguments, flags, HEALTHCHECK durations, ONBUILD, stages, RUN mounts."""

import pytest

from dockyard.dockerfile import (
    Add,
    Arg,
    ArgDef,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    KeyValue,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    SourceContent,
    StopSignal,
    User,
    Volume,
    Workdir,
    parse,
    parse_mount,
)
from dockyard.dockerfile.durations import parse_duration, parse_ram_size
from dockyard.errors import InvalidArgument


def one(line: str):
    df = parse("FROM scratch\n" + line + "\n")
    return df.stages[0].instructions[0]


def fails(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse(text)
    assert str(e.value) == message


def test_every_instruction_has_a_type_with_location_and_original():
    df = parse(
        "FROM busybox AS Base\nRUN a\nCMD b\nLABEL k=v\nMAINTAINER me\nEXPOSE 80\nENV A=1\n"
        "ADD a b\nCOPY a b\nENTRYPOINT e\nVOLUME /v\nUSER u\nWORKDIR /w\nARG X\n"
        'ONBUILD RUN x\nSTOPSIGNAL 9\nHEALTHCHECK NONE\nSHELL ["sh"]\n'
    )
    stage = df.stages[0]
    assert stage.name == "base" and stage.from_ == From(
        line=1, end_line=1, original="FROM busybox AS Base", image="busybox", stage_name="base"
    )
    kinds = [type(i) for i in stage.instructions]
    assert kinds == [
        Run, Cmd, Label, Maintainer, Expose, Env, Add, Copy, Entrypoint, Volume, User,
        Workdir, Arg, Onbuild, StopSignal, Healthcheck, Shell,
    ]  # fmt: skip
    assert [i.line for i in stage.instructions] == list(range(2, 19))
    assert stage.instructions[0].original == "RUN a"
    assert [i.keyword for i in stage.instructions][:3] == ["RUN", "CMD", "LABEL"]


def test_meta_args_and_stages():
    df = parse("ARG A=1\nARG B\nFROM x AS one\nARG A\nFROM one\nRUN y\n")
    assert [a.args for a in df.meta_args] == [(ArgDef("A", "1"),), (ArgDef("B"),)]
    assert [(s.index, s.name, s.from_.image) for s in df.stages] == [
        (0, "one", "x"),
        (1, "", "one"),
    ]
    assert isinstance(df.stages[1].instructions[0], Run)


def test_run_forms_and_flags():
    run = one("RUN --mount=type=cache,target=/c --network=none --security=insecure make")
    assert run.command == ("make",) and run.shell
    assert run.mounts == ("type=cache,target=/c",)
    assert (run.network, run.security) == ("none", "insecure")
    exec_form = one('RUN ["make", "all"]')
    assert exec_form.command == ("make", "all") and not exec_form.shell


def test_cmd_entrypoint_shell_and_exec():
    assert one("CMD echo $HOME").command == ("echo $HOME",)
    entry = one("ENTRYPOINT []")
    assert entry.command == () and not entry.shell


def test_copy_and_add_flags():
    c = one(
        "COPY --from=build --chown=1:2 --chmod=755 --link --parents --exclude=*.md --exclude=x a b /d/"
    )
    assert c == Copy(
        line=2, end_line=2, original=c.original, sources=("a", "b"), dest="/d/", from_="build",
        chown="1:2", chmod="755", link=True, parents=True, exclude=("*.md", "x"),
    )  # fmt: skip
    a = one("ADD --checksum=sha256:abc --keep-git-dir --unpack=false --link=false u /d")
    assert (a.checksum, a.keep_git_dir, a.unpack, a.link) == ("sha256:abc", True, False, False)
    assert one("ADD u /d").keep_git_dir is None


def test_copy_heredoc_sources():
    df = parse("FROM x\nCOPY <<A <<-'B' plain /dest/\nhello $X\nA\n\tquoted\n\tB\n")
    c = df.stages[0].instructions[0]
    assert c.sources == ("plain",) and c.dest == "/dest/"
    assert c.contents == (
        SourceContent("A", "hello $X\n", True),
        SourceContent("B", "quoted\n", False),
    )
    assert c.end_line == 6


def test_env_and_label_pairs():
    assert one("ENV A=1 B=two").pairs == (KeyValue("A", "1"), KeyValue("B", "two"))
    assert one("ENV K spaced value").pairs == (KeyValue("K", "spaced value", legacy=True),)
    assert one('LABEL "a b"=c').pairs == (KeyValue('"a b"', "c"),)


def test_expose_is_sorted_like_buildkit():
    assert one("EXPOSE 8080 443 80/udp").ports == ("443", "80/udp", "8080")


def test_arg_forms():
    assert one('ARG A B=1 C= D="x y"').args == (
        ArgDef("A"), ArgDef("B", "1"), ArgDef("C", ""), ArgDef("D", '"x y"'),
    )  # fmt: skip


def test_onbuild_expression_and_typed_trigger():
    o = one("ONBUILD   COPY --from=x a b")
    assert o.expression == "COPY --from=x a b"
    assert isinstance(o.trigger, Copy) and o.trigger.from_ == "x"
    h = parse("FROM x\nONBUILD RUN <<EOF\nhi\nEOF\n").stages[0].instructions[0]
    assert h.expression == "RUN <<EOF\nhi\nEOF" and h.trigger.heredocs[0].content == "hi\n"


def test_healthcheck_durations_in_nanoseconds():
    h = one(
        "HEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=100ms --start-interval=2s --retries=4 CMD curl x"
    )
    assert h.test == ("CMD-SHELL", "curl x")
    assert (h.interval, h.timeout, h.start_period, h.start_interval, h.retries) == (
        90_000_000_000, 1_500_000_000, 100_000_000, 2_000_000_000, 4,
    )  # fmt: skip
    assert one('HEALTHCHECK CMD ["a", "b"]').test == ("CMD", "a", "b")
    assert one("HEALTHCHECK none").test == ("NONE",)
    assert one("HEALTHCHECK --interval=0s CMD x").interval == 0


def test_simple_single_value_instructions():
    assert one("USER app:app").user == "app:app"
    assert one("WORKDIR /a b").path == "/a b"
    assert one("STOPSIGNAL SIGKILL").signal == "SIGKILL"
    assert one("MAINTAINER A <a@b>").maintainer == "A <a@b>"
    assert one('VOLUME ["/a", "/b"]').paths == ("/a", "/b")
    assert one('SHELL ["bash", "-c"]').shell == ("bash", "-c")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("FOO bar", "Dockerfile:2: unknown instruction: FOO"),
        ("COPY --bogus a b", "Dockerfile:2: unknown flag: --bogus"),
        ("RUN --from=x a", "Dockerfile:2: unknown flag: --from"),
        ("WORKDIR --chown=1 /a", "Dockerfile:2: unknown flag: --chown"),
        ("COPY --from=a --from=b x y", "Dockerfile:2: duplicate flag specified: --from"),
        (
            "COPY --link=maybe a b",
            "Dockerfile:2: expecting boolean value for flag --link, not: maybe",
        ),
        ("COPY --link= a b", "Dockerfile:2: missing a value on flag: --link"),
        ("COPY --from a b", "Dockerfile:2: missing a value on flag: --from"),
        (
            "COPY a",
            "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined",
        ),
        (
            "ADD a",
            "Dockerfile:2: ADD requires at least two arguments, but only one was provided. Destination could not be determined",
        ),
        ("COPY a <<EOF\nEOF", "Dockerfile:2: COPY cannot accept a heredoc as a destination"),
        ("RUN", "Dockerfile:2: RUN requires at least one argument"),
        ("CMD", "Dockerfile:2: CMD requires at least one argument"),
        ("ENV", "Dockerfile:2: ENV requires at least one argument"),
        ("ENV =x", "Dockerfile:2: ENV names can not be blank"),
        ("ARG =x", "Dockerfile:2: ARG names can not be blank"),
        ("ARG", "Dockerfile:2: ARG requires at least one argument"),
        ("LABEL", "Dockerfile:2: LABEL requires at least one argument"),
        ("EXPOSE", "Dockerfile:2: EXPOSE requires at least one argument"),
        ("VOLUME", "Dockerfile:2: VOLUME requires at least one argument"),
        ('VOLUME ["/a", " "]', "Dockerfile:2: VOLUME specified can not be an empty string"),
        ("USER", "Dockerfile:2: USER requires exactly one argument"),
        ("WORKDIR", "Dockerfile:2: WORKDIR requires exactly one argument"),
        ("STOPSIGNAL", "Dockerfile:2: STOPSIGNAL requires exactly one argument"),
        ("MAINTAINER", "Dockerfile:2: MAINTAINER requires exactly one argument"),
        ("SHELL sh -c", "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
        ("SHELL []", "Dockerfile:2: SHELL requires at least one argument"),
        ("ONBUILD", "Dockerfile:2: ONBUILD requires at least one argument"),
        (
            "ONBUILD ONBUILD RUN x",
            "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
        ),
        ("ONBUILD FROM x", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
        ("ONBUILD maintainer x", "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("ONBUILD BOGUS x", "Dockerfile:2: unknown instruction: BOGUS"),
        ("HEALTHCHECK", "Dockerfile:2: HEALTHCHECK requires at least one argument"),
        ("HEALTHCHECK CMD", "Dockerfile:2: Missing command after HEALTHCHECK CMD"),
        ("HEALTHCHECK NONE x", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"),
        ("HEALTHCHECK CONNECT x", 'Dockerfile:2: Unknown type "CONNECT" in HEALTHCHECK (try CMD)'),
        ("HEALTHCHECK --interval=5 CMD x", 'Dockerfile:2: time: missing unit in duration "5"'),
        (
            "HEALTHCHECK --interval=5y CMD x",
            'Dockerfile:2: time: unknown unit "y" in duration "5y"',
        ),
        (
            "HEALTHCHECK --timeout=10us CMD x",
            'Dockerfile:2: Interval "timeout" cannot be less than 1ms',
        ),
        ("HEALTHCHECK --retries=-1 CMD x", "Dockerfile:2: --retries cannot be negative (-1)"),
        (
            "HEALTHCHECK --retries=x CMD x",
            'Dockerfile:2: strconv.ParseInt: parsing "x": invalid syntax',
        ),
        ("RUN --network=bridge x", 'Dockerfile:2: invalid network mode "bridge"'),
        ("RUN --security=weird x", 'Dockerfile:2: invalid security mode "weird"'),
        (
            "RUN --mount=from=$X,target=/a x",
            "Dockerfile:2: 'from' doesn't support variable expansion, define alias stage instead",
        ),
        ("FROM", "Dockerfile:2: FROM requires either one or three arguments"),
        ("FROM a b", "Dockerfile:2: FROM requires either one or three arguments"),
        (
            "FROM a AS 1st",
            'Dockerfile:2: invalid name for build stage: "1st", name can\'t start with a number or contain symbols',
        ),
        ("FROM --bogus=1 a", "Dockerfile:2: unknown flag: --bogus"),
    ],
)
def test_errors_name_the_line(line, message):
    fails("FROM scratch\n" + line + "\n", message)


def test_instruction_before_first_from():
    fails("RUN x\nFROM y\n", "Dockerfile:1: no build stage in current context")
    fails("ARG A\n", "Dockerfile: no FROM instruction (no build stage)")


def test_error_line_is_the_first_line_of_a_continued_instruction():
    fails("FROM x\n\nCOPY \\\n  --nope \\\n  a b\n", "Dockerfile:3: unknown flag: --nope")


# -- RUN --mount -----------------------------------------------------------------------------


def test_mount_types_and_defaults():
    assert parse_mount("type=cache,target=/c").readonly is False
    assert parse_mount("target=/src").readonly is True  # bind defaults to read-only
    m = parse_mount("type=cache,id=go,target=/go,sharing=locked,mode=0700,uid=1,gid=2,rw")
    assert (m.id, m.sharing, m.mode, m.uid, m.gid, m.readonly) == (
        "go",
        "locked",
        0o700,
        1,
        2,
        False,
    )
    s = parse_mount("type=secret,id=tok,env=TOKEN,required")
    assert (s.type, s.env, s.required) == ("secret", "TOKEN", True)
    t = parse_mount("type=tmpfs,target=/t,size=64m")
    assert t.size == 64 * 1024 * 1024
    b = parse_mount('type=bind,from=build,"source=/a,b",dst=/x,ro=false')
    assert (b.from_, b.source, b.target, b.readonly) == ("build", "/a,b", "/x", False)


def test_mount_values_are_expanded():
    m = parse_mount("type=cache,target=$DIR", lambda v: v.replace("$DIR", "/cache"))
    assert m.target == "/cache"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("type=volume", 'unsupported mount type "volume"'),
        ("type=cache,sharing=sometimes", 'unsupported sharing value "sometimes"'),
        ("target=/a,mode=0700", 'mode not allowed for "bind" type mounts'),
        ("type=tmpfs,uid=1", 'uid not allowed for "tmpfs" type mounts'),
        ("type=bind,size=1m", "unexpected key 'size' for mount type 'bind'"),
        ("type=bind,required", "unexpected key 'required' for mount type 'bind'"),
        ("type=secret", "invalid secret mount. one of source, target required"),
        ("type=secret,id=a,source=b", "both source and id can't be set"),
        ("type=secret,id=a,from=x", "secret mount should not have a from"),
        ("type=bind,sharing=shared", "invalid cache sharing set for bind mount"),
        ("type=cache,mode=999", "invalid value 999 for mode"),
        ("type=cache,uid=-1", "invalid value -1 for uid"),
        ("ro=maybe", "invalid value for ro: maybe"),
        ("bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
        ("target", "invalid field 'target' must be a key=value pair"),
        ('type="cache', "failed to parse csv mounts"),
        ('type=ca"che', "failed to parse csv mounts"),
        ('"type=cache"x', "failed to parse csv mounts"),
    ],
)
def test_mount_errors(spec, message):
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_mount(spec)


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0), ("1ns", 1), ("1us", 1_000), ("1µs", 1_000), ("1ms", 1_000_000), ("1.5s", 1_500_000_000),
        ("2m", 120_000_000_000), ("1h2m3s", 3_723_000_000_000), ("-1s", -1_000_000_000), (".5s", 500_000_000),
    ],
)  # fmt: skip
def test_go_durations(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["", "s", "1", "1x", "1..5s", "--1s", "9999999999999h"])
def test_bad_go_durations(text):
    with pytest.raises(InvalidArgument):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [("1024", 1024), ("1k", 1024), ("64m", 64 << 20), ("1.5GiB", 3 << 29), ("2 MB", 2 << 20)],
)
def test_ram_sizes(text, size):
    assert parse_ram_size(text) == size
