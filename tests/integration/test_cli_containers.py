"""The container commands end to end: the real CLI in a subprocess on a private data root,
real containers on the real kernel. Every test leaves no container, mount or cgroup behind."""

import json
import re
import signal
import subprocess
import time

import pytest
from cgroup_cli_support import dockyard_cgroups

FULL_ID = re.compile(r"[0-9a-f]{64}")
PS_HEADER = "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES"


@pytest.fixture
def d(dy, busybox_tar):
    """`dy` with busybox imported; removes every container afterwards and checks that no
    mount or cgroup was left behind."""
    before = dockyard_cgroups()
    dy("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    yield dy
    ids = dy.out("ps", "-aq").split()
    if ids:
        dy("rm", "-f", *ids, check=False)
    assert dy.out("ps", "-aq") == ""
    deadline = time.time() + 10
    while dockyard_cgroups() - before and time.time() < deadline:  # finishers tear down after exit
        time.sleep(0.05)
    with open("/proc/self/mountinfo") as f:
        assert [ln for ln in f if str(dy.root) in ln] == [], "mounts leaked onto the host"
    assert dockyard_cgroups() - before == set(), "cgroups leaked"


def one_line_error(p, status=1) -> str:
    err = p.stderr.decode()
    assert p.returncode == status, (p.returncode, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


def wait_for_log(d, name: str, text: str, timeout: float = 10) -> None:
    deadline = time.time() + timeout
    while text not in d.out("logs", name):
        assert time.time() < deadline, f"{text!r} never appeared in the logs of {name}"
        time.sleep(0.05)


# -- run ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd,status", [(["true"], 0), (["sh", "-c", "exit 3"], 3), (["false"], 1)])
def test_run_exits_with_the_containers_status(d, cmd, status):
    p = d("run", "busybox", *cmd, check=False)
    assert p.returncode == status and p.stderr == b""


def test_run_cannot_invoke_is_126_and_not_found_is_127(d):
    err = one_line_error(d("run", "--rm", "busybox", "no-such-command", check=False), 127)
    assert err.startswith("Error: ") and "executable file not found in $PATH" in err
    err = one_line_error(d("run", "busybox", "/etc", check=False), 126)
    assert "permission denied" in err
    # --rm removed the first; the second stays, created, like Docker's
    assert d.out("ps", "-a", "--format", "{{.Command}} {{.State}}") == '"/etc" created\n'


def test_run_keeps_stdout_and_stderr_apart(d):
    p = d("run", "busybox", "sh", "-c", "echo out; echo err >&2; echo more")
    assert p.stdout == b"out\nmore\n" and p.stderr == b"err\n"


def test_run_env_workdir_user_hostname(d, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# a comment\n\nFROM_FILE=file value\nFOO=from-file\n")
    d.env["CALLER_VAR"] = "from the caller"
    d.env.pop("NOT_SET_ANYWHERE", None)
    script = 'echo "$FOO|$FROM_FILE|$CALLER_VAR|${NOT_SET_ANYWHERE-unset}"; pwd; id -u; hostname'
    out = d.out(
        "run", "--rm", "--env-file", str(env_file), "-e", "FOO=bar", "-e", "CALLER_VAR",
        "-e", "NOT_SET_ANYWHERE", "-w", "/work/dir", "-u", "nobody", "-h", "box-1",
        "busybox", "sh", "-c", script,
    )  # fmt: skip
    assert out.splitlines() == [
        "bar|file value|from the caller|unset",
        "/work/dir",
        "65534",
        "box-1",
    ]


def test_run_rm_leaves_nothing(d):
    assert d.out("run", "--rm", "--name", "gone", "busybox", "echo", "hi") == "hi\n"
    assert d.out("ps", "-a") == PS_HEADER + "\n"
    assert one_line_error(d("inspect", "gone", check=False)) == "Error: No such object: gone"


def test_run_interactive_reads_stdin(d):
    assert (
        d.out("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z", input=b"shout\n")
        == "SHOUT\n"
    )


def test_run_forwards_sigterm_to_the_container(d):
    p = subprocess.Popen(
        d.argv("run", "--name", "trapper", "busybox", "sh", "-c",
               "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.1; done"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=d.env,
    )  # fmt: skip
    try:
        assert p.stdout.readline() == b"ready\n"
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert (p.returncode, out, err) == (7, b"got-term\n", b"")
    assert (
        d.out("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "trapper") == "exited 7\n"
    )


def test_run_detached_ps_logs_stop_rm(d, tmp_path):
    cidfile = tmp_path / "cid"
    cid = d.out(
        "run", "-d", "--name", "web", "--cidfile", str(cidfile), "busybox",
        "sh", "-c", "echo hello; echo oops >&2; trap 'exit 0' TERM; while :; do sleep 0.1; done",
    ).rstrip("\n")  # fmt: skip
    assert FULL_ID.fullmatch(cid) and cidfile.read_text() == cid
    ps = d.out("ps").splitlines()
    assert ps[0].split() == PS_HEADER.split() and len(ps) == 2
    assert ps[1].startswith(cid[:12] + "   busybox   ") and ps[1].endswith("   web")
    assert re.search(r"   Up (Less than a second|\d+ seconds?)   ", ps[1])
    wait_for_log(d, "web", "hello")
    p = d("logs", "web")
    assert (p.stdout, p.stderr) == (b"hello\n", b"oops\n")
    stamped = d.out("logs", "-t", "web")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z hello\n", stamped)
    assert d.out("logs", "--since", "1h", "web") == "hello\n"
    assert d.out("logs", "--until", "2000-01-01T00:00:00Z", "web") == ""
    assert d.out("stop", "web") == "web\n"
    assert d.out("ps") == PS_HEADER + "\n"
    assert re.search(r"   Exited \(0\) .* ago ", d.out("ps", "-a"))
    # a second run with the same cidfile is refused before anything is created
    p = d("run", "-d", "--cidfile", str(cidfile), "busybox", "true", check=False)
    assert "container ID file found" in one_line_error(p, 125)
    assert d.out("rm", "web") == "web\n"
    assert d.out("ps", "-a") == PS_HEADER + "\n"


def test_rm_refuses_a_running_container_unless_forced_and_continues_past_failures(d):
    d("create", "--name", "one", "busybox", "true")
    d("run", "-d", "--name", "busy", "busybox", "sleep", "60")
    p = d("rm", "one", "no-such", "busy", check=False)
    assert p.returncode == 1 and p.stdout == b"one\n"
    errs = p.stderr.decode().splitlines()
    assert errs[0] == "Error: No such container: no-such"
    assert errs[1].startswith("Error: You cannot remove a running container ")
    assert d.out("rm", "-f", "busy") == "busy\n"
    assert d.out("ps", "-aq") == ""


# -- ps -----------------------------------------------------------------------------------


def test_ps_formats_filters_and_truncation(d):
    a = d.out("create", "--name", "alpha", "-l", "tier=web", "busybox",
              "sh", "-c", "echo a long command line here").strip()  # fmt: skip
    b = d.out("create", "--name", "beta", "-l", "tier=db", "busybox", "true").strip()
    assert d.out("ps") == PS_HEADER + "\n"  # created containers need -a
    assert d.out("ps", "-aq") == f"{b[:12]}\n{a[:12]}\n"  # newest first
    assert d.out("ps", "-aq", "--no-trunc") == f"{b}\n{a}\n"
    assert d.out("ps", "-q", "-n", "1") == f"{b[:12]}\n"
    assert d.out("ps", "-q", "-l") == f"{b[:12]}\n"
    assert d.out("ps", "-aq", "-f", "name=alp") == f"{a[:12]}\n"
    assert d.out("ps", "-aq", "-f", "label=tier=db") == f"{b[:12]}\n"
    assert d.out("ps", "-q", "-f", "status=created") == f"{b[:12]}\n{a[:12]}\n"
    assert d.out("ps", "-aq", "-f", f"id={a[:5]}") == f"{a[:12]}\n"
    rows = d.out("ps", "-a", "--format", "{{.Names}}|{{.Command}}|{{.Status}}|{{.Labels}}")
    assert rows.splitlines() == [
        'beta|"true"|Created|tier=db',
        'alpha|"sh -c echo a long c…"|Created|tier=web',
    ]
    full = d.out("ps", "-a", "--no-trunc", "--format", "{{.Command}}", "-f", "name=alpha")
    assert full == '"sh -c echo a long command line here"\n'
    table = d.out("ps", "-a", "--format", "table {{.Names}}\t{{.State}}").splitlines()
    assert table == ["NAMES     STATE", "beta      created", "alpha     created"]
    objs = [json.loads(ln) for ln in d.out("ps", "-a", "--format", "json").splitlines()]
    assert [o["Names"] for o in objs] == ["beta", "alpha"]
    assert objs[0]["ID"] == b[:12] and objs[0]["State"] == "created"
    sized = d.out("ps", "-as").splitlines()
    assert sized[0].split("   ")[-1].strip() == "SIZE" and sized[1].endswith("B")


def test_ps_bad_filter_and_bad_template(d):
    err = one_line_error(d("ps", "-f", "colour=red", check=False))
    assert err == "Error: invalid filter 'colour'"
    err = one_line_error(d("ps", "--format", "{{.Nope", check=False))
    assert err.startswith("template parsing error:")


# -- lifecycle verbs ----------------------------------------------------------------------


def test_start_attach_and_wait(d):
    d("create", "--name", "job", "busybox", "sh", "-c", "echo working; exit 5")
    p = d("start", "-a", "job", check=False)
    assert (p.returncode, p.stdout) == (5, b"working\n")
    assert d.out("wait", "job") == "5\n"
    assert d.out("start", "job") == "job\n"
    assert d.out("wait", "job") == "5\n"
    assert d.out("logs", "job") == "working\nworking\n"


def test_kill_with_a_signal_and_inspect_templates(d):
    d("run", "-d", "--name", "killme", "busybox", "sh", "-c",
      "trap 'exit 12' USR1; echo ready; while :; do sleep 0.1; done")  # fmt: skip
    wait_for_log(d, "killme", "ready")
    fmt = "{{.State.Status}}|{{.State.Running}}|{{.HostConfig.NetworkMode}}|{{.Name}}"
    assert d.out("inspect", "-f", fmt, "killme") == "running|true|none|/killme\n"
    assert d.out("kill", "-s", "USR1", "killme") == "killme\n"
    assert d.out("wait", "killme") == "12\n"
    assert (
        d.out("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "killme") == "exited 12\n"
    )
    err = one_line_error(d("kill", "killme", check=False))
    assert err.startswith("Error: Cannot kill container: ") and "is not running" in err
    err = one_line_error(d("kill", "-s", "NOPE", "killme", check=False))
    assert err == "Error: Invalid signal: NOPE"


def test_inspect_is_a_json_array_and_finds_containers_before_images(d):
    cid = d.out("create", "--name", "busybox", "busybox", "true").strip()
    text = d.out("inspect", "busybox")
    assert text.startswith('[\n    {\n        "Id": ')
    objs = json.loads(text)
    assert [o["Id"] for o in objs] == [cid] and objs[0]["State"]["Status"] == "created"
    assert objs[0]["Config"]["Image"] == "busybox"
    image = json.loads(d.out("inspect", "--type", "image", "busybox"))
    assert image[0]["Id"].startswith("sha256:") and image[0]["Id"] == objs[0]["Image"]
    assert d.out("container", "inspect", "-f", "{{.Id}}", "busybox") == cid + "\n"
    d("rm", "busybox")
    err = one_line_error(d("inspect", "--type", "container", "busybox", check=False))
    assert err == "Error: No such container: busybox"
    assert json.loads(d.out("inspect", "busybox"))[0]["Id"] == image[0]["Id"]


def test_restart(d):
    d("run", "-d", "--name", "rr", "busybox", "sleep", "60")
    first = d.out("inspect", "-f", "{{.State.StartedAt}} {{.State.Pid}}", "rr")
    assert d.out("restart", "-t", "0", "rr") == "rr\n"
    again = d.out("inspect", "-f", "{{.State.StartedAt}} {{.State.Pid}}", "rr")
    assert again != first
    assert d.out("inspect", "-f", "{{.State.Status}}", "rr") == "running\n"


def test_pause_and_unpause_show_in_ps(d):
    d("run", "-d", "--name", "pp", "busybox", "sleep", "60")
    assert d.out("pause", "pp") == "pp\n"
    status = d.out("ps", "--format", "{{.Status}}")
    assert re.fullmatch(r"Up (Less than a second|\d+ seconds?) \(Paused\)\n", status)
    assert d.out("ps", "-q", "-f", "status=paused") != ""
    err = one_line_error(d("pause", "pp", check=False))
    assert err.endswith("is already paused")
    assert d.out("unpause", "pp") == "pp\n"
    assert "(Paused)" not in d.out("ps")
    err = one_line_error(d("unpause", "pp", check=False))
    assert err.endswith("is not paused")


def test_rename(d):
    cid = d.out("create", "--name", "old-name", "busybox", "true").strip()
    assert d.out("rename", "old-name", "new-name") == ""
    assert d.out("ps", "-a", "--format", "{{.Names}}") == "new-name\n"
    assert d.out("inspect", "-f", "{{.Name}}", cid[:12]) == "/new-name\n"
    d("create", "--name", "taken", "busybox", "true")
    err = one_line_error(d("rename", "new-name", "taken", check=False))
    assert '"/taken" is already in use' in err


def test_top_lists_the_containers_processes(d):
    d("run", "-d", "--name", "tt", "busybox", "sleep", "61")
    lines = d.out("top", "tt").splitlines()
    assert lines[0].split()[:3] == ["UID", "PID", "PPID"] and lines[0].split()[-1] == "CMD"
    assert len(lines) == 2 and lines[1].endswith("sleep 61")
    custom = d.out("top", "tt", "-o", "pid,comm").splitlines()
    assert custom[0].split() == ["PID", "COMMAND"] and custom[1].split()[1] == "sleep"
    d("stop", "-t", "0", "tt")
    err = one_line_error(d("top", "tt", check=False))
    assert err.endswith("is not running")


def test_container_prune_removes_only_stopped_containers(d):
    created = d.out("create", "busybox", "true").strip()
    exited = d.out("run", "-d", "busybox", "true").strip()
    d("wait", exited)
    keep = d.out("create", "-l", "keep=yes", "busybox", "true").strip()
    running = d.out("run", "-d", "busybox", "sleep", "60").strip()
    out = d.out("container", "prune", "-f", "--filter", "label!=keep")
    lines = out.splitlines()
    assert lines[0] == "Deleted Containers:" and sorted(lines[1:3]) == sorted([created, exited])
    assert lines[3:] == ["", "Total reclaimed space: 0B"]
    assert sorted(d.out("ps", "-aq", "--no-trunc").split()) == sorted([keep, running])
    assert d.out("container", "prune", "-f") == (
        f"Deleted Containers:\n{keep}\n\nTotal reclaimed space: 0B\n"
    )
    assert d.out("container", "prune", "-f") == "Total reclaimed space: 0B\n"
    assert d.out("container", "prune", input=b"n\n").endswith("Total reclaimed space: 0B\n")
    assert d.out("ps", "-aq", "--no-trunc").split() == [running]


def test_port_has_nothing_published(d):
    d("create", "--name", "noports", "busybox", "true")
    assert d.out("port", "noports") == ""
    err = one_line_error(d("port", "noports", "80", check=False))
    assert err == "Error: No public port '80/tcp' published for noports"


def test_rmi_conflicts_while_a_container_uses_the_image(d):
    cid = d.out("create", "busybox", "true").strip()
    err = one_line_error(d("rmi", "busybox", check=False))
    image = d.out("image", "inspect", "-f", "{{.Id}}", "busybox").strip()
    assert err == (
        'Error: conflict: unable to remove repository reference "busybox" (must force) - '
        f"container {cid[:12]} is using its referenced image {image[7:19]}"
    )
    err = one_line_error(d("rmi", image[7:19], check=False))
    assert err == (
        f"Error: conflict: unable to delete {image[7:19]} (must be forced) - "
        f"image is being used by container {cid[:12]}"
    )
    assert d.out("images", "-q") != ""
    d("rm", cid)
    assert d.out("rmi", "busybox").startswith("Untagged: busybox:latest\n")


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,message",
    [
        (["run", "--bogus", "busybox"], "unknown flag: --bogus\nSee 'dockyard run --help'."),
        (["run", "-Z", "busybox"], "unknown shorthand flag: 'Z' in -Z\nSee 'dockyard run --help'."),
        (["run", "--cpu-shares", "x", "busybox"], None),
        (["ps", "--bogus"], "unknown flag: --bogus\nSee 'dockyard ps --help'."),
        (["run", "-d", "-a", "stdout", "busybox"], "Conflicting options: -a and -d"),
    ],
)
def test_bad_flags_are_125_with_dockers_message(d, args, message):
    p = d(*args, check=False)
    assert p.returncode == 125 and b"Traceback" not in p.stderr
    if message is not None:
        assert p.stderr.decode().rstrip("\n") == message
    assert d.out("ps", "-aq") == ""


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--network", "bridge"], "bridge networking is not available yet"),
        (["--network", "my-net"], "bridge networking is not available yet"),
        (["-p", "8080:80"], "bridge networking"),
        (["--mount", "type=volume,target=/data,volume-driver=x"], 'volume driver "x"'),
        (["--mount", "type=bind,target=/data"], "source is required"),
        (["--env-file", "/no/such/file"], "/no/such/file"),
        (["--restart", "sometimes"], "invalid restart policy"),
        (["--name", "../escape"], "Invalid container name"),
        (["-v", "rel/ative:/data"], "invalid characters for a local volume name"),
    ],
)
def test_engine_errors_in_run_are_one_line_and_125(d, args, needle):
    err = one_line_error(d("run", *args, "busybox", "true", check=False), 125)
    assert err.startswith("Error: ") and needle in err
    assert d.out("ps", "-aq") == ""


def test_run_of_a_missing_image_is_125(d):
    err = one_line_error(d("run", "--pull", "never", "no-such-image", check=False), 125)
    assert err == "Error: No such image: no-such-image:latest"
    p = d("run", "127.0.0.1:1/nothing", "true", check=False)
    lines = p.stderr.decode().splitlines()
    assert p.returncode == 125 and len(lines) == 2, lines
    assert lines[0] == "Unable to find image '127.0.0.1:1/nothing:latest' locally"
    assert lines[1].startswith("Error: ")
    assert d.out("ps", "-aq") == ""


def test_run_pulls_a_missing_image(d, tmp_path, busybox_tar):
    from test_remote_support import InProcessRegistry

    reg = InProcessRegistry(tmp_path / "reg").start()
    try:
        ref = f"{reg.host}/tools/busybox:1.0"
        d.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
        d("import", "-c", 'CMD ["sh"]', str(busybox_tar), ref)
        d("push", ref)
        d("rmi", ref)
        p = d("run", "--rm", ref, "echo", "pulled and ran")
        assert p.stdout == b"pulled and ran\n"
        err = p.stderr.decode().splitlines()
        assert err[0] == f"Unable to find image '{ref}' locally"
        assert f"Status: Downloaded newer image for {ref}" in err
        # present now: no second pull; --pull always asks the registry again
        p = d("run", "--rm", ref, "true")
        assert p.stderr == b""
        p = d("create", "-q", "--pull", "always", ref)
        assert FULL_ID.fullmatch(p.stdout.decode().strip()) and p.stderr == b""
    finally:
        reg.stop()


@pytest.mark.parametrize(
    "verb",
    [["start"], ["stop"], ["kill"], ["restart"], ["rm"], ["wait"], ["logs"], ["pause"],
     ["unpause"], ["top"], ["port"], ["rename", "x", "yy"], ["container", "inspect"]],
)  # fmt: skip
def test_unknown_container(d, verb):
    args = verb if verb[0] == "rename" else [*verb, "x"]
    err = one_line_error(d(*args, check=False))
    assert err == "Error: No such container: x"


def test_bind_and_tmpfs_mounts_and_read_only(d, tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "in.txt").write_text("from the host\n")
    out = d.out(
        "run", "--rm", "--read-only", "-v", f"{tmp_path / 'shared'}:/data:ro",
        "--mount", "type=tmpfs,target=/scratch", "busybox", "sh", "-c",
        "cat /data/in.txt; echo x > /scratch/ok && echo tmpfs-ok; "
        "echo y > /data/no 2>/dev/null || echo data-ro; echo z > /root/no 2>/dev/null || echo root-ro",
    )  # fmt: skip
    assert out.splitlines() == ["from the host", "tmpfs-ok", "data-ro", "root-ro"]
    assert not (tmp_path / "shared" / "no").exists()


def test_ps_right_after_a_foreground_run_shows_it_exited(d):
    for code in (0, 4):
        d("run", "--name", f"quick-{code}", "busybox", "sh", "-c", f"exit {code}", check=False)
        status = d.out("ps", "-a", "--format", "{{.Status}}", "-f", f"name=quick-{code}")
        assert status.startswith(f"Exited ({code}) ")


def test_attach_only_stdout(d):
    p = d("run", "--rm", "-a", "stdout", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert (p.stdout, p.stderr) == (b"out\n", b"")


def test_logs_follow_ends_when_the_container_stops(d):
    d("run", "-d", "--name", "follow", "busybox", "sh", "-c",
      "for i in 1 2 3; do echo line $i; sleep 0.2; done")  # fmt: skip
    p = d("logs", "-f", "follow", timeout=30)
    assert p.stdout == b"line 1\nline 2\nline 3\n"
    assert d.out("logs", "--tail", "1", "follow") == "line 3\n"
    assert d.out("logs", "-n", "0", "follow") == ""
    assert d.out("logs", "--details", "--tail", "1", "follow") == " line 3\n"


def test_stop_with_a_signal(d):
    d("run", "-d", "--name", "stopsig", "busybox", "sh", "-c",
      "trap 'exit 9' USR2; echo ready; while :; do sleep 0.1; done")  # fmt: skip
    wait_for_log(d, "stopsig", "ready")
    assert d.out("stop", "-s", "USR2", "stopsig") == "stopsig\n"
    assert d.out("inspect", "-f", "{{.State.ExitCode}}", "stopsig") == "9\n"
