"""Pure parts of the container commands: `run`/`create` flags into RunOptions, --mount,
env and label files, --since/--until values, the `ps` row formatting."""

import pytest

from dockyard.cli.commands import attach, containerfmt, runflags, timeargs
from dockyard.cli.commands.logs import tail_count
from dockyard.cli.flags import FlagError, parse
from dockyard.errors import InvalidArgument, Unsupported


def opts_for(*argv: str, environ=None):
    values, args = parse(runflags.RUN_FLAGS, list(argv), interspersed=False)
    return runflags.options(values, args, environ or {})


def test_image_command_and_flags_after_the_image_belong_to_the_command():
    o = opts_for("--name", "web", "busybox", "sh", "-c", "echo -e x", "--rm")
    assert (o.image, o.cmd, o.name, o.auto_remove) == (
        "busybox", ("sh", "-c", "echo -e x", "--rm"), "web", False,
    )  # fmt: skip
    assert opts_for("busybox").cmd is None


def test_defaults_match_run_options_defaults():
    o = opts_for("busybox")
    assert o.entrypoint is None and o.env == () and o.network == "default"
    assert o.restart == "no" and o.stop_timeout is None and o.pids_limit is None
    assert o.memory is None and o.cpus is None and o.cpu_shares is None


def test_env_bare_names_take_the_callers_value_or_are_dropped():
    o = opts_for("-e", "A=1", "-e", "HOME", "-e", "UNSET", "-e", "B=", "busybox",
                 environ={"HOME": "/home/me"})  # fmt: skip
    assert o.env == ("A=1", "HOME=/home/me", "B=")
    with pytest.raises(InvalidArgument):
        opts_for("-e", "=x", "busybox")


def test_env_file_rules_and_order(tmp_path):
    f = tmp_path / "env"
    f.write_text("# comment\n\n  INDENTED=yes\nSPACES=a b \nFROM_CALLER\nMISSING\nX=file\n")
    o = opts_for("--env-file", str(f), "-e", "X=flag", "busybox", environ={"FROM_CALLER": "c"})
    assert o.env == ("INDENTED=yes", "SPACES=a b ", "FROM_CALLER=c", "X=file", "X=flag")
    bad = tmp_path / "bad"
    bad.write_text("MY VAR=1\n")
    with pytest.raises(InvalidArgument, match="contains whitespaces"):
        opts_for("--env-file", str(bad), "busybox")
    with pytest.raises(InvalidArgument, match="no such file"):
        opts_for("--env-file", str(tmp_path / "absent"), "busybox")


def test_labels_from_flags_and_files(tmp_path):
    f = tmp_path / "labels"
    f.write_text("# c\na=1\nb\n")
    o = opts_for("--label-file", str(f), "-l", "a=2", "--label", "c=x=y", "busybox")
    assert o.labels == (("a", "2"), ("b", ""), ("c", "x=y"))


def test_entrypoint_empty_resets_it():
    assert opts_for("--entrypoint", "", "busybox").entrypoint == ("",)
    assert opts_for("--entrypoint", "/bin/echo", "busybox", "hi").entrypoint == ("/bin/echo",)


def test_resources_and_policies_pass_through():
    o = opts_for(
        "-m", "64m", "--memory-swap", "-1", "--cpus", "1.5", "-c", "512", "--cpuset-cpus", "0",
        "--pids-limit", "-1", "--ulimit", "nofile=10:20", "--shm-size", "1m", "--restart",
        "on-failure:3", "--stop-signal", "USR1", "--stop-timeout", "0", "--cap-add", "NET_ADMIN",
        "--cap-drop", "ALL", "--privileged", "--security-opt", "no-new-privileges=false",
        "--read-only", "--init", "--sysctl", "net.core.somaxconn=1", "-i", "-t", "busybox",
    )  # fmt: skip
    assert (o.memory, o.memory_swap, o.cpus, o.cpu_shares, o.cpuset) == (
        "64m",
        "-1",
        "1.5",
        512,
        "0",
    )
    assert (o.pids_limit, o.ulimits, o.shm_size) == (-1, ("nofile=10:20",), "1m")
    assert (o.restart, o.stop_signal, o.stop_timeout) == ("on-failure:3", "USR1", 0)
    assert (o.cap_add, o.cap_drop, o.privileged) == (("NET_ADMIN",), ("ALL",), True)
    assert o.security_opt == ("no-new-privileges=false",) and o.read_only and o.init
    assert o.sysctl == (("net.core.somaxconn", "1"),) and o.stdin and o.tty


def test_bad_flag_values_are_flag_errors():
    with pytest.raises(FlagError, match='invalid argument "x" for "-c, --cpu-shares" flag'):
        opts_for("--cpu-shares", "x", "busybox")


@pytest.mark.parametrize(
    "value,expected",
    [
        ("type=bind,source=/a,target=/b", ("bind", "/a:/b:rw")),
        ("type=bind,src=/a,dst=/b,readonly", ("bind", "/a:/b:ro")),
        ("type=bind,src=/a,destination=/b,ro=true,bind-propagation=rslave", ("bind", "/a:/b:ro,rslave")),
        ("type=bind,src=/a,target=/b,readonly=false", ("bind", "/a:/b:rw")),
        ("type=tmpfs,target=/t", ("tmpfs", "/t")),
        ("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777", ("tmpfs", "/t:size=1m,mode=1777")),
        ('"type=bind","source=/a,b","target=/c"', ("bind", "/a,b:/c:rw")),
    ],
)  # fmt: skip
def test_parse_mount(value, expected):
    assert runflags.parse_mount(value) == expected


@pytest.mark.parametrize(
    "value,error,match",
    [
        ("type=bind,target=/b", InvalidArgument, "source is required"),
        ("type=bind,source=/a", InvalidArgument, "target is required"),
        ("type=tmpfs,source=/a,target=/b", InvalidArgument, "source is not supported"),
        ("type=bind,src=/a,target=/b,colour=red", InvalidArgument, "unexpected key 'colour'"),
        ("type=bind,src=/a,target=/b,readonly=maybe", InvalidArgument, "invalid value"),
        ("type=nfs,target=/b", InvalidArgument, "invalid mount type"),
        ("target=/b,volume-driver=nfs", Unsupported, 'volume driver "nfs"'),
        ("target=/b,volume-opt=o=1", Unsupported, "volume-opt"),
        ("type=volume,target=/b,size=1", InvalidArgument, "unexpected key 'size'"),
        ("type=bind,junk,target=/b", InvalidArgument, "must be a key=value pair"),
    ],
)
def test_parse_mount_errors(value, error, match):
    with pytest.raises(error, match=match):
        runflags.parse_mount(value)


def test_mounts_join_binds_and_tmpfs():
    o = opts_for("-v", "/h:/c", "--mount", "type=bind,src=/x,dst=/y", "--tmpfs", "/run",
                 "--mount", "type=tmpfs,dst=/t", "busybox")  # fmt: skip
    assert o.binds == ("/h:/c", "/x:/y:rw") and o.tmpfs == ("/run", "/t")


@pytest.mark.parametrize("net", ["none", "host"])
def test_networks_available(net):
    assert opts_for("--network", net, "busybox").network == net
    assert opts_for("--net", net, "busybox").network == net


@pytest.mark.parametrize("net", ["bridge", "default", "", "mynet", "container:abc"])
def test_other_networks_say_bridge_is_not_available(net):
    with pytest.raises(Unsupported, match="bridge networking is not available yet"):
        opts_for("--network", net, "busybox")


@pytest.mark.parametrize(
    "argv,match",
    [
        (["-p", "80:80"], "bridge networking"),
    ],
)
def test_unsupported_flags(argv, match):
    with pytest.raises(Unsupported, match=match):
        opts_for(*argv, "busybox")


def test_attach_and_pull_values_are_checked():
    with pytest.raises(InvalidArgument, match="STDIN, STDOUT and STDERR"):
        opts_for("-a", "stdnothing", "busybox")
    with pytest.raises(InvalidArgument, match="invalid pull option"):
        opts_for("--pull", "sometimes", "busybox")


def test_attach_streams():
    assert attach.streams(False, []) == (-1, 1, 2)
    assert attach.streams(True, []) == (0, 1, 2)
    assert attach.streams(False, ["STDOUT"]) == (-1, 1, -1)
    assert attach.streams(False, ["stdin", "stderr"]) == (0, -1, 2)


def test_cidfile_is_refused_when_present(tmp_path):
    path = tmp_path / "cid"
    runflags.check_cidfile(str(path))
    runflags.write_cidfile(str(path), "abc")
    assert path.read_text() == "abc"
    with pytest.raises(InvalidArgument, match="container ID file found"):
        runflags.check_cidfile(str(path))


# -- --since / --until ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,seconds",
    [("10m", 600), ("1h30m", 5400), ("1.5s", 1.5), ("300ms", 0.3), ("2h45m10s", 9910),
     ("-1m", -60), ("0", 0), ("1µs", 1e-6)],
)  # fmt: skip
def test_go_durations(text, seconds):
    assert timeargs.go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "m", "1x", "1..2s", "2024-01-01"])
def test_not_durations(text):
    assert timeargs.go_duration(text) is None


@pytest.mark.parametrize(
    "text,unix",
    [
        ("2013-01-02T13:23:37Z", 1357133017),
        ("2013-01-02T13:23:37.5Z", 1357133017.5),
        ("2013-01-02T13:23:37.123456789Z", 1357133017.123456),
        ("2013-01-02T13:23:37+01:00", 1357129417),
        ("1357133017", 1357133017),
        ("1357133017.25", 1357133017.25),
    ],
)
def test_timestamps(text, unix):
    assert timeargs.timestamp(text, now=2e9) == pytest.approx(unix, abs=1e-5)


def test_timestamps_relative_and_local():
    assert timeargs.timestamp("10m", now=1000.0) == 400.0
    import time

    local = time.mktime((2013, 1, 2, 0, 0, 0, 0, 0, -1))
    assert timeargs.timestamp("2013-01-02", now=0) == local


@pytest.mark.parametrize("text", ["yesterday", "2013-13-45", "12:30", "1.2.3"])
def test_bad_timestamps(text):
    with pytest.raises(InvalidArgument, match="failed to parse value as time or duration"):
        timeargs.timestamp(text, now=0)


@pytest.mark.parametrize("text,n", [("all", None), ("5", 5), ("0", 0), ("-1", None), ("x", None)])
def test_tail_count(text, n):
    assert tail_count(text) == n


# -- ps rows -------------------------------------------------------------------------------

SUMMARY = {
    "Id": "a" * 64,
    "Names": ["/web"],
    "Image": "busybox",
    "ImageID": "sha256:" + "b" * 64,
    "Command": 'sh -c echo "hello world" && sleep 1',
    "Created": 1000,
    "Labels": {"tier": "web"},
    "State": "running",
    "Status": "Up 2 seconds",
    "HostConfig": {"NetworkMode": "none"},
    "NetworkSettings": {"Networks": {}},
    "Mounts": [{"Type": "bind", "Source": "/srv/data/very/long/path", "Destination": "/d"}],
}


def test_container_row_fields():
    r = containerfmt.ContainerRow(SUMMARY, True, 1065.0)
    assert r.ID() == "a" * 12 and r.Names() == "web" and r.Image() == "busybox"
    assert r.Command() == '"sh -c echo \\"hello w…"'
    assert r.RunningFor() == "About a minute ago"
    assert r.Labels() == "tier=web" and r.Networks() == "none" and r.Ports() == ""
    assert r.Mounts() == "/srv/data/very…" and r.LocalVolumes() == "0" and r.Size() == "0B"
    full = containerfmt.ContainerRow(SUMMARY, False, 1065.0)
    assert full.ID() == "a" * 64 and full.Command() == '"sh -c echo \\"hello world\\" && sleep 1"'
    sized = containerfmt.ContainerRow(dict(SUMMARY, SizeRw=1234), True, 0)
    assert sized.Size() == "1.23kB"


def test_go_quote_escapes_like_strconv_quote():
    assert containerfmt.go_quote('a"b\\c\n\t\x01') == '"a\\"b\\\\c\\n\\t\\x01"'


def test_image_by_id_is_shortened():
    s = dict(SUMMARY, Image="sha256:" + "b" * 64)
    assert containerfmt.ContainerRow(s, True, 0).Image() == "b" * 12
    s = dict(SUMMARY, Image="busybox@sha256:" + "c" * 64)
    assert containerfmt.ContainerRow(s, True, 0).Image() == "busybox"


@pytest.mark.parametrize("quiet,size", [(False, False), (False, True), (True, False)])
def test_fast_default_formats_render_like_the_template_engine(quiet, size):
    from dockyard.cli.formatter import render

    fmt = containerfmt.ps_format("", quiet, size)
    assert containerfmt.is_fast(fmt)
    rows = [
        containerfmt.ContainerRow(dict(SUMMARY, SizeRw=0), True, 1065.0),
        containerfmt.ContainerRow(dict(SUMMARY, Id="f" * 64, Names=["/a-much-longer-name"]), True, 5000.0),
    ]  # fmt: skip
    assert containerfmt.render_fast(fmt, rows) == render(fmt, rows, containerfmt.PS_HEADER)


def test_empty_ps_header_is_dockers():
    assert containerfmt.render_fast(containerfmt.PS_TABLE, []) == (
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
    )
