"""The pure parts of the runtime: run options + image config -> container spec, users,
mounts, signals, restart policies, the state machine, names, status text, json-file lines."""

import json

import pytest

from dockyard.errors import Conflict, InvalidArgument
from dockyard.runtime import containerspec as CS
from dockyard.runtime import jsonlog, names
from dockyard.runtime import spec as S
from dockyard.runtime import state as ST

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    "app:x:1000:1000::/home/app:/bin/sh\n"
    "broken-line\n"
)
GROUP = "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nwheel:x:10:app,other\nstaff:x:50:app\n"


def img(**kw):
    return S.ImageDefaults(**kw)


@pytest.mark.parametrize(
    "entry,cmd,ientry,icmd,argv",
    [
        (None, None, None, ("/bin/sh",), ("/bin/sh",)),
        (None, ("ls", "-l"), None, ("/bin/sh",), ("ls", "-l")),
        (None, None, ("/init",), ("a",), ("/init", "a")),
        (None, ("b",), ("/init",), ("a",), ("/init", "b")),
        (("/e",), None, ("/init",), ("a",), ("/e",)),  # --entrypoint drops the image's cmd
        (("/e",), ("x",), ("/init",), ("a",), ("/e", "x")),
        (("",), ("x",), ("/init",), ("a",), ("x",)),  # --entrypoint "" resets it
    ],
)
def test_argv_like_docker(entry, cmd, ientry, icmd, argv):
    opts = S.RunOptions(image="i", entrypoint=entry, cmd=cmd)
    assert S.resolve_argv(opts, img(entrypoint=ientry, cmd=icmd)) == argv


def test_no_command_is_an_error():
    with pytest.raises(InvalidArgument, match="No command specified"):
        S.resolve_argv(S.RunOptions(image="i"), img())


def test_env_merge_path_default_hostname_home_and_override_order():
    env = S.merge_env(("A=1", "B=2"), ("B=3", "C", "D=4"), "h", "/root")
    assert env == ("PATH=" + S.DEFAULT_PATH, "HOSTNAME=h", "A=1", "B=3", "D=4", "HOME=/root")
    assert S.merge_env(("PATH=/x",), (), "", "") == ("PATH=/x",)
    with pytest.raises(InvalidArgument):
        S.merge_env((), ("=x",))


def test_workdir():
    assert S.resolve_workdir("", "") == "/"
    assert S.resolve_workdir("/a/../b/", "/img") == "/b"
    assert S.resolve_workdir("", "/img") == "/img"
    with pytest.raises(InvalidArgument, match="needs to be an absolute path"):
        S.resolve_workdir("rel", "")


@pytest.mark.parametrize(
    "spec,uid,gid,groups,home",
    [
        ("", 0, 0, (0,), "/root"),
        ("nobody", 65534, 65534, (65534,), "/nonexistent"),
        ("app", 1000, 1000, (1000, 10, 50), "/home/app"),
        ("1000", 1000, 1000, (1000, 10, 50), "/home/app"),
        ("4242", 4242, 0, (0,), "/"),
        ("app:wheel", 1000, 10, (10,), "/home/app"),
        ("4242:77", 4242, 77, (77,), "/"),
    ],
)
def test_user_resolution_like_runc(spec, uid, gid, groups, home):
    u = S.resolve_user(spec, PASSWD, GROUP)
    assert (u.uid, u.gid, u.groups, u.home) == (uid, gid, groups, home)


def test_unknown_user_and_group():
    with pytest.raises(InvalidArgument, match="unable to find user ghost"):
        S.resolve_user("ghost", PASSWD, GROUP)
    with pytest.raises(InvalidArgument, match="unable to find group ghosts"):
        S.resolve_user("app:ghosts", PASSWD, GROUP)
    with pytest.raises(InvalidArgument):  # out of range ids are names, and unknown
        S.resolve_user("99999999999", PASSWD, GROUP)


def test_binds_and_tmpfs():
    assert S.parse_bind("/h:/c:ro") == ("/h", "/c", ("ro",))
    assert S.parse_bind("/h:/c") == ("/h", "/c", ())
    for bad in ("/", "h", "/h:c", "/h:/", "/h:/c:bogus", "/h:/c:ro,rw", "../v:/c", "a/b:/c"):
        with pytest.raises(InvalidArgument):
            S.parse_bind(bad)
    # volumes: a checked name (nocopy kept for the volume), or "" for an anonymous one
    assert S.parse_bind("vol:/c:ro,nocopy") == ("vol", "/c", ("ro", "nocopy"))
    assert S.parse_bind("/anon") == ("", "/anon", ())
    assert S.parse_tmpfs("/t") == ("/t", ("noexec", "nosuid", "nodev"))
    assert S.parse_tmpfs("/t:exec,size=1m") == ("/t", ("nosuid", "nodev", "exec", "size=1m"))


def test_signals_restart_ulimits_security_opts():
    assert S.parse_signal("SIGTERM") == S.parse_signal("term") == S.parse_signal("15") == 15
    assert S.parse_signal("KILL") == 9
    for bad in ("SIGNOPE", "0", "99", "", "../x"):
        with pytest.raises(InvalidArgument):
            S.parse_signal(bad)
    assert S.parse_restart("on-failure:3") == ("on-failure", 3)
    assert S.parse_restart("") == ("no", 0)
    with pytest.raises(InvalidArgument):
        S.parse_restart("always:3")
    with pytest.raises(InvalidArgument):
        S.parse_restart("sometimes")
    assert S.parse_ulimit("nofile=1024:2048") == (7, 1024, 2048)
    with pytest.raises(InvalidArgument, match="soft limit"):
        S.parse_ulimit("nofile=10:5")
    assert S.parse_security_opts(["seccomp=unconfined"]) == ("unconfined", True)
    assert S.parse_security_opts(["no-new-privileges=false"]) == ("default", False)
    with pytest.raises(InvalidArgument):
        S.parse_security_opts(["bogus=1"])


def test_build_spec_round_trips_and_applies_defaults():
    user = S.ExecUser(0, 0, (0,), "/root")
    opts = S.RunOptions(image="busybox", cmd=("sh",), memory="64m", cpus="1.5", pids_limit=0,
                        cap_drop=("NET_RAW",), labels=(("a", "b"),), stop_signal="SIGINT")  # fmt: skip
    spec = CS.build(opts, img(stop_signal="SIGQUIT", labels=(("x", "y"),)), user, "ab" * 32, 2)
    assert spec.hostname == "abababababab" and spec.memory == 64 << 20
    assert spec.memory_swap == 128 << 20 and (spec.cpu_quota, spec.cpu_period) == (150000, 100000)
    assert spec.pids_limit == -1 and spec.stop_signal == 2 and 13 not in spec.caps
    assert dict(spec.labels) == {"a": "b", "x": "y"}
    assert CS.from_json(CS.to_json(spec)) == spec
    with pytest.raises(InvalidArgument, match="--restart and --rm"):
        CS.build(S.RunOptions(image="i", cmd=("x",), auto_remove=True, restart="always"),
                 img(), user, "ab" * 32)  # fmt: skip
    with pytest.raises(InvalidArgument, match="Duplicate mount point"):
        CS.build(S.RunOptions(image="i", cmd=("x",), binds=("/a:/c",), tmpfs=("/c",)),
                 img(), user, "ab" * 32)  # fmt: skip


def test_state_machine_messages():
    cid = "c" * 64
    ST.check("start", ST.EXITED, cid)
    with pytest.raises(Conflict, match="try unpause"):
        ST.check("start", ST.PAUSED, cid)
    with pytest.raises(
        Conflict, match=f"Cannot kill container: {cid}: Container {cid} is not running"
    ):
        ST.check("kill", ST.EXITED, cid)
    with pytest.raises(Conflict, match="You cannot remove a running container"):
        ST.check("remove", ST.RUNNING, cid)
    with pytest.raises(Conflict, match="is not paused"):
        ST.check("unpause", ST.RUNNING, cid)
    with pytest.raises(Conflict, match="removal is already in progress"):
        ST.check("start", ST.REMOVING, cid)


def test_status_text_and_human_duration():
    s = 1_000_000_000
    assert ST.status_text(ST.RUNNING, 0, 0, 0, 3 * s) == "Up 3 seconds"
    assert ST.status_text(ST.PAUSED, 0, 0, 0, 60 * s) == "Up About a minute (Paused)"
    assert ST.status_text(ST.EXITED, 3, 1, s, 121 * s) == "Exited (3) 2 minutes ago"
    assert ST.status_text(ST.CREATED, 0, 0, 0, s) == "Created"
    assert ST.human_duration(0.5) == "Less than a second"
    assert ST.human_duration(3600) == "About an hour"
    assert ST.human_duration(3 * 86400) == "3 days"


def test_names():
    assert names.validate("/web.1_a-b") == "web.1_a-b"
    for bad in ("a", "-x", "a b", "a/b", "é1", "x" * 256):
        with pytest.raises(InvalidArgument, match="Invalid container name"):
            names.validate(bad)
    for _ in range(50):
        n = names.generate()
        assert names.validate(n) == n and n != "boring_wozniak"
    assert len(names.new_id()) == 64


def test_json_log_lines_match_docker():
    line = jsonlog.encode(b"<a>&\xff\n", "stdout", 1_700_000_000_120_000_000)
    doc = json.loads(line)
    assert doc == {"log": "<a>&\ufffd\n", "stream": "stdout", "time": "2023-11-14T22:13:20.12Z"}
    assert b"\\u003ca\\u003e\\u0026" in line
    assert jsonlog.parse_rfc3339("2023-11-14T22:13:20.12Z") == 1_700_000_000_120_000_000
    assert jsonlog.rfc3339nano(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"


def test_json_log_writer_splits_lines(tmp_path):
    import os

    path = tmp_path / "log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    w = jsonlog.Writer(fd, "stderr")
    w.feed(b"a\nb")
    w.feed(b"c\n" + b"x" * (jsonlog.MAX_LINE + 5))
    w.close()
    os.close(fd)
    entries, _ = jsonlog.read(str(path))
    assert [e.data for e in entries] == [b"a\n", b"bc\n", b"x" * jsonlog.MAX_LINE, b"xxxxx"]
    assert {e.stream for e in entries} == {"stderr"}
