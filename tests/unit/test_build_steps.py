"""Pure pieces of the builder: metadata instructions on the image config, history text,
COPY's --chmod/--chown parsing, the merged view of plain layer dirs."""

import os

import pytest

from dockyard import dockerfile as D
from dockyard.build import copy as C
from dockyard.build import steps as ST
from dockyard.build.merged import MergedView
from dockyard.errors import InvalidArgument
from dockyard.oci.image import ContainerConfig


def run_steps(text: str, cfg=None, args=None):
    df = D.parse(text)
    stage = D.evaluate(df, args or {})[0]
    cfg = cfg or ContainerConfig(env=("PATH=/bin",))
    cmd_set = False
    for step in stage.steps:
        if not isinstance(step.instruction, (D.Run, D.Copy, D.Add, D.Arg)):
            cfg, cmd_set = ST.apply(cfg, step.instruction, cmd_set)
    return cfg


def test_env_replaces_and_appends_in_order():
    cfg = run_steps("FROM x\nENV A=1 B=2\nENV A=3\n")
    assert cfg.env == ("PATH=/bin", "B=2", "A=3")


def test_workdir_is_relative_to_the_previous_one():
    assert run_steps("FROM x\nWORKDIR /a\nWORKDIR b/../c\n").working_dir == "/a/c"


def test_cmd_and_entrypoint_shell_form_use_the_current_shell():
    cfg = run_steps('FROM x\nSHELL ["/bin/bash", "-xc"]\nCMD echo hi\n')
    assert cfg.cmd == ("/bin/bash", "-xc", "echo hi")
    cfg = run_steps("FROM x\nENTRYPOINT top -b\n")
    assert cfg.entrypoint == ("/bin/sh", "-c", "top -b")


def test_entrypoint_drops_an_inherited_cmd_but_not_one_set_in_the_stage():
    base = ContainerConfig(cmd=("sh",))
    assert run_steps('FROM x\nENTRYPOINT ["e"]\n', base).cmd is None
    assert run_steps('FROM x\nCMD ["c"]\nENTRYPOINT ["e"]\n', base).cmd == ("c",)


def test_expose_label_volume_and_healthcheck():
    cfg = run_steps(
        'FROM x\nEXPOSE 80 53/UDP\nLABEL a=1 "b c"=2\nVOLUME /v\n'
        "HEALTHCHECK --timeout=3s CMD true\nSTOPSIGNAL 9\nUSER app\nONBUILD COPY . /\n"
    )
    assert cfg.exposed_ports == {"80/tcp": {}, "53/udp": {}}
    assert cfg.labels == {"a": "1", "b c": "2"}
    assert cfg.volumes == {"/v": {}}
    assert cfg.healthcheck.test == ("CMD-SHELL", "true")
    assert cfg.healthcheck.timeout == 3_000_000_000
    assert (cfg.stop_signal, cfg.user, cfg.on_build) == ("9", "app", ("COPY . /",))


def test_args_expand_into_metadata():
    cfg = run_steps("FROM x\nARG V=1\nENV VERSION=$V\nLABEL v=${V}\n", args={"V": "9"})
    assert "VERSION=9" in cfg.env and cfg.labels == {"v": "9"}


def test_history_text():
    df = D.parse("FROM x\nRUN echo hi\nCOPY a b\n")
    run, copy = df.stages[0].instructions
    assert ST.created_by(run, ["/bin/sh", "-c", "echo hi"], {"A": "1"}) == (
        "RUN |1 A=1 /bin/sh -c echo hi # buildkit"
    )
    assert ST.created_by(copy) == "COPY a b # buildkit"


def test_chmod_and_chown_parsing(tmp_path):
    assert C.parse_chmod("0755", 3) == 0o755 and C.parse_chmod("", 3) is None
    with pytest.raises(InvalidArgument, match="Dockerfile:3: invalid chmod"):
        C.parse_chmod("u+x", 3)
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\nstaff:x:50:\n")
    layers = MergedView([str(tmp_path)])
    o = C.parse_chown("app:staff", layers, 4)
    assert (o.uid, o.gid) == (1000, 50)
    o = C.parse_chown("12", layers, 4)
    assert (o.uid, o.gid) == (12, 12)
    with pytest.raises(InvalidArgument, match="Dockerfile:4: unable to find user nobody"):
        C.parse_chown("nobody", layers, 4)


def test_merged_view_top_layer_wins_and_symlinks_stay_inside(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    for d in (lower / "etc", upper / "etc", lower / "data"):
        d.mkdir(parents=True)
    (lower / "etc" / "a").write_text("lower")
    (upper / "etc" / "a").write_text("upper")
    (lower / "etc" / "b").write_text("only-lower")
    os.symlink("/etc", upper / "link")  # absolute: means the image's /etc, not the host's
    os.symlink("../../../../..", upper / "climb")
    v = MergedView([str(upper), str(lower)])
    assert v.listdir(["etc"]) == ["a", "b"]
    host, _ = v.lookup(v.resolve("/link/a"))
    with open(host) as f:
        assert f.read() == "upper"
    assert v.resolve("/link/b") == ["etc", "b"]
    assert v.resolve("/climb/etc/passwd") == ["etc", "passwd"]
    assert v.stat("/etc/passwd") is None  # never the host's file
    assert v.listdir([]) == ["climb", "data", "etc", "link"]


def test_user_resolution_reads_the_images_files(tmp_path):
    from dockyard.build.users import resolve_user

    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0::/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\nweb:x:33:\nlogs:x:4:web,other\n")
    v = MergedView([str(tmp_path)])
    assert resolve_user(v, "web", 5) == (33, 33, (33, 4))
    assert resolve_user(v, "web:root", 5) == (33, 0, (0,))
    assert resolve_user(v, "4242", 5) == (4242, 0, (0,))
    with pytest.raises(InvalidArgument, match="Dockerfile:5: unable to find user ghost"):
        resolve_user(v, "ghost", 5)
    with pytest.raises(InvalidArgument, match="unable to find group nogroup"):
        resolve_user(v, "web:nogroup", 5)
