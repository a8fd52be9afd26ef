"""ARG/ENV scoping and which instructions expand variables."""

import pytest

from dockyard.dockerfile import ArgDef, KeyValue, Platform, evaluate, global_args, parse
from dockyard.errors import InvalidArgument

AMD64 = Platform("linux", "amd64")
ARM = Platform("linux", "arm", "v7")


def run(text: str, build_args=None, **kw):
    kw.setdefault("build_platform", AMD64)
    return evaluate(parse(text), build_args, **kw)


def steps(text: str, build_args=None, **kw):
    return run(text, build_args, **kw)[-1].steps


def test_global_args_only_in_from_unless_redeclared():
    text = "ARG V=1.0\nFROM img:$V\nRUN echo $V\nLABEL a=$V\nARG V\nLABEL b=$V\n"
    (stage,) = run(text)
    assert stage.base == "img:1.0"
    label_a, label_b = stage.steps[1].instruction, stage.steps[3].instruction
    assert label_a.pairs == (KeyValue("a", ""),)
    assert label_b.pairs == (KeyValue("b", "1.0"),)
    assert stage.steps[2].instruction.args == (ArgDef("V", "1.0"),)


def test_build_args_override_defaults_and_global_values():
    text = "ARG V=1\nFROM img:$V\nARG V\nARG W=def\nENV OUT=$V-$W\n"
    (stage,) = run(text, {"V": "9", "W": "cli"})
    assert stage.base == "img:9"
    assert stage.image_env == {"OUT": "9-cli"}


def test_undeclared_build_args_are_not_visible():
    (stage,) = run("FROM x\nENV A=${NOPE:-unset}\n", {"NOPE": "given"})
    assert stage.image_env == {"A": "unset"}


def test_arg_without_value_and_no_build_arg_is_declared_but_unset():
    (stage,) = run("FROM x\nARG A\nENV B=${A-unset}\n")
    assert stage.image_env == {"B": "unset"}
    assert stage.steps[1].build_args == {}


def test_arg_default_expands_with_earlier_values():
    (stage,) = run("FROM x\nENV BASE=/opt\nARG DIR=$BASE/app\nWORKDIR $DIR\n")
    assert stage.steps[2].instruction.path == "/opt/app"
    assert stage.steps[2].build_args == {"DIR": "/opt/app"}


def test_env_pairs_see_the_environment_before_the_instruction():
    (stage,) = run("FROM x\nENV A=1\nENV A=2 B=$A\n")
    assert stage.image_env == {"A": "2", "B": "1"}


def test_env_does_not_leak_args_into_image_config_but_run_sees_both():
    st = steps("FROM x\nARG A=1\nENV B=2\nRUN env\n")
    run_step = st[2]
    assert run_step.env == {"A": "1", "B": "2"}
    assert run_step.build_args == {"A": "1"}
    assert run("FROM x\nARG A=1\nENV B=2\n")[0].image_env == {"B": "2"}


def test_run_cmd_entrypoint_healthcheck_shell_onbuild_are_not_expanded():
    st = steps(
        'FROM x\nENV V=1\nRUN echo $V\nCMD echo $V\nENTRYPOINT ["$V"]\n'
        'HEALTHCHECK CMD test $V\nSHELL ["$V"]\nONBUILD RUN $V\nMAINTAINER $V\n'
    )
    assert st[1].instruction.command == ("echo $V",)
    assert st[2].instruction.command == ("echo $V",)
    assert st[3].instruction.command == ("$V",)
    assert st[4].instruction.test == ("CMD-SHELL", "test $V")
    assert st[5].instruction.shell == ("$V",)
    assert st[6].instruction.expression == "RUN $V"
    assert st[7].instruction.maintainer == "$V"


def test_expanding_instructions():
    st = steps(
        "FROM x\nENV D=/data P=8080 U=app S=SIGTERM\n"
        "COPY --chown=$U:$U --chmod=$M src/$D ${D}/\n"
        "ADD --checksum=$S u $D\n"
        "EXPOSE $P ${P}/udp\nVOLUME $D /x$D\nUSER $U\nWORKDIR $D/w\nSTOPSIGNAL $S\n"
        "LABEL $U=$D\n"
    )
    copy, add, expose, volume, user, workdir, stop, label = (s.instruction for s in st[1:])
    assert (copy.chown, copy.chmod, copy.sources, copy.dest) == (
        "app:app",
        "",
        ("src//data",),
        "/data/",
    )
    assert (add.checksum, add.dest) == ("SIGTERM", "/data")
    assert expose.ports == ("8080", "8080/udp")
    assert volume.paths == ("/data", "/x/data")
    assert (user.user, workdir.path, stop.signal) == ("app", "/data/w", "SIGTERM")
    assert label.pairs == (KeyValue("app", "/data"),)


def test_quotes_are_removed_in_expanded_words():
    st = steps('FROM x\nENV A="two words" B=\'$A\' C="$A"\nLABEL "k k"="v v"\n')
    assert st[0].instruction.pairs == (
        KeyValue("A", "two words"), KeyValue("B", "$A"), KeyValue("C", ""),
    )  # fmt: skip
    assert st[1].instruction.pairs == (KeyValue("k k", "v v"),)


def test_expose_words_split():
    st = steps('FROM x\nARG PORTS="80 443"\nEXPOSE $PORTS\n')
    assert st[1].instruction.ports == ("80", "443")


def test_heredoc_content_expands_unless_quoted():
    st = steps("FROM x\nENV N=v\nCOPY <<A <<'B' /d/\n\"$N\" ${N}\nA\n$N\nB\n")
    a, b = st[1].instruction.contents
    assert a.data == '"v" v\n'
    assert b.data == "$N\n"


def test_escape_directive_applies_to_expansion():
    st = steps("# escape=`\nFROM x\nENV A=1\nWORKDIR c:\\a\\$A`$A\n")
    assert st[1].instruction.path == "c:\\a\\1$A"


def test_platform_args_in_global_scope_and_on_request_in_stages():
    text = (
        "FROM --platform=$BUILDPLATFORM img:$TARGETARCH AS b\n"
        "RUN x\nARG TARGETPLATFORM\nARG TARGETVARIANT\nENV T=$TARGETPLATFORM-$BUILDARCH\n"
    )
    (stage,) = run(text, target_platform=ARM)
    assert stage.base == "img:arm" and stage.platform == AMD64
    assert stage.steps[0].env == {}
    assert stage.image_env == {"T": "linux/arm/v7-"}
    assert stage.steps[3].build_args == {"TARGETPLATFORM": "linux/arm/v7", "TARGETVARIANT": "v7"}


def test_global_args_defaults():
    scope = global_args(parse("ARG A=$TARGETOS\nFROM x\n"), None, ARM, AMD64)
    assert scope["A"] == "linux" and scope["BUILDPLATFORM"] == "linux/amd64"
    assert scope["TARGETVARIANT"] == "v7" and scope["BUILDVARIANT"] == ""


def test_build_arg_can_override_platform_args():
    scope = global_args(parse("FROM x\n"), {"TARGETARCH": "riscv64"}, ARM, AMD64)
    assert scope["TARGETARCH"] == "riscv64"


def test_proxy_args_reach_run_without_declaration_and_are_separate():
    st = steps(
        "FROM x\nRUN a\nARG HTTP_PROXY\nRUN b\n", {"HTTP_PROXY": "http://p", "no_proxy": "l"}
    )
    first = st[0]
    assert first.proxy == {"HTTP_PROXY": "http://p", "no_proxy": "l"}
    assert first.build_args == {} and "HTTP_PROXY" not in first.env
    assert st[2].env["HTTP_PROXY"] == "http://p"


def test_stage_inherits_env_of_parent_stage_and_base_image_env():
    def base_env(image, platform):
        assert image == "debian" and platform is None
        return {"PATH": "/usr/bin"}

    a, b = run("FROM debian AS a\nENV PATH=/opt:$PATH\nFROM a\nENV X=$PATH\n", base_env=base_env)
    assert a.image_env == {"PATH": "/opt:/usr/bin"}
    assert b.image_env == {"PATH": "/opt:/usr/bin", "X": "/opt:/usr/bin"}


def test_run_mounts_are_expanded_and_validated():
    st = steps("FROM x\nARG C=/cache\nRUN --mount=type=cache,target=$C,id=${C} true\n")
    (mount,) = st[1].mounts
    assert (mount.type, mount.target, mount.id) == ("cache", "/cache", "/cache")
    with pytest.raises(InvalidArgument, match=r"^Dockerfile:3: unsupported mount type"):
        run("FROM x\nARG T=nope\nRUN --mount=type=$T true\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ARG B\nFROM $B\n", "Dockerfile:2: base name ($B) should not be blank"),
        (
            "FROM x\nENV A=${U:?required}\n",
            'Dockerfile:2: failed to process "${U:?required}": U: required',
        ),
        (
            "FROM x\nWORKDIR ${A\n",
            "Dockerfile:2: failed to process \"${A\": syntax error: missing '}'",
        ),
        ("FROM --platform=$NOPE x\n", "Dockerfile:1: empty platform value from expression $NOPE"),
        (
            "FROM --platform=a/b/c/d x\n",
            'Dockerfile:1: invalid platform "a/b/c/d": expected os/arch[/variant]',
        ),
        (
            "FROM x AS a\nFROM y\nARG S=a\nCOPY --from=$S a b\n",
            "Dockerfile:4: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
        ),
        ("ARG A=${B?no}\nFROM x\n", 'Dockerfile:1: failed to process "${B?no}": B: no'),
    ],
)
def test_expansion_errors_name_the_line(text, message):
    with pytest.raises(InvalidArgument) as e:
        run(text)
    assert str(e.value) == message


def test_platform_parse():
    assert Platform.parse("linux/arm64/v8") == Platform("linux", "arm64")
    assert Platform.parse("linux/arm") == Platform("linux", "arm", "v7")
    assert Platform.parse("Linux/ARMHF") == Platform("linux", "arm", "v7")
    assert Platform.parse("x86_64") == Platform("linux", "amd64")
    assert Platform.parse("linux").os == "linux"
    with pytest.raises(InvalidArgument):
        Platform.parse("linux//v7")
    assert str(Platform("linux", "arm", "v7")) == "linux/arm/v7"
