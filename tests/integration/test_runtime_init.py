"""`run --init`: our dockyard-init as pid 1 (bind-mounted read-only at /sbin/docker-init),
reaping orphans, passing signals and the exit status through; and `--add-host` entries in
the container's /etc/hosts. The real CLI, real containers."""

import pytest
from runopts_support import busybox_cli, inspect, one_line_error, wait_until


@pytest.fixture
def d(dy, busybox_tar):
    yield from busybox_cli(dy, busybox_tar)


def test_pid_one_is_the_init_and_the_command_its_child(d):
    script = "tr '\\0' ' ' </proc/1/cmdline; echo; echo ppid=$PPID; echo me=$$"
    first, ppid, me = d.out("run", "--rm", "--init", "busybox", "sh", "-c", script).splitlines()
    assert first == f"/sbin/docker-init -- sh -c {script} "
    assert ppid == "ppid=1" and me != "me=1"
    # bind-mounted read-only (checked on the mount table: a write test would aim at the
    # real binary), and a plain run has no init
    mounts = d.out("run", "--rm", "--init", "busybox", "cat", "/proc/self/mountinfo")
    line = next(ln for ln in mounts.splitlines() if ln.split()[4] == "/sbin/docker-init")
    assert "ro" in line.split()[5].split(",")
    assert "docker-init" not in d.out("run", "--rm", "busybox", "cat", "/proc/self/mountinfo")
    assert d.out("run", "--rm", "busybox", "cat", "/proc/1/cmdline") == "cat\0/proc/1/cmdline\0"


def test_orphans_are_reaped(d):
    # the subshell exits at once: its sleep is orphaned to pid 1, ends, and must be reaped
    script = ("(sleep 0.2 &); sleep 1.5; "
              "for f in /proc/[0-9]*/stat; do read -r pid comm state rest <$f; "
              "echo $pid $comm $state; done")  # fmt: skip
    out = d.out("run", "--rm", "--init", "busybox", "sh", "-c", script)
    states = [ln.split() for ln in out.splitlines()]
    assert states and all(s[2] != "Z" for s in states), out
    assert ["1", "(docker-init)", "S"] in states


@pytest.mark.parametrize("cmd,code", [("exit 42", 42), ("kill -9 $$", 137), ("true", 0)])
def test_the_exit_status_passes_through(d, cmd, code):
    assert d("run", "--rm", "--init", "busybox", "sh", "-c", cmd, check=False).returncode == code


def test_stop_reaches_the_command_through_the_init(d):
    d("run", "-d", "--init", "--name", "trapper", "busybox", "sh", "-c",
      'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done')  # fmt: skip
    wait_until(lambda: "ready" in d.out("logs", "trapper"))
    d("stop", "-t", "30", "trapper")
    c = inspect(d, "trapper")
    assert c["State"]["ExitCode"] == 7  # the shell's own trap, not a SIGKILL (137)
    assert "got-term" in d.out("logs", "trapper")
    # inspect shows the user's command and the init flag
    assert c["Path"] == "sh" and c["HostConfig"]["Init"] is True
    assert c["Config"]["Cmd"][0] == "sh"


def test_other_signals_are_forwarded(d):
    d("run", "-d", "--init", "--name", "usr", "busybox", "sh", "-c",
      'trap "echo got-usr1" USR1; trap "exit 0" TERM; echo ready; '
      "while true; do sleep 0.1; done")  # fmt: skip
    wait_until(lambda: "ready" in d.out("logs", "usr"))
    d("kill", "-s", "USR1", "usr")
    wait_until(lambda: "got-usr1" in d.out("logs", "usr"))
    d("stop", "usr")
    assert inspect(d, "usr")["State"]["ExitCode"] == 0


def test_a_missing_command_is_127(d):
    p = d("run", "--rm", "--init", "busybox", "no-such-command", check=False)
    assert p.returncode == 127 and b"no-such-command" in p.stderr


# -- --add-host -----------------------------------------------------------------------------


def test_add_host_entries_in_etc_hosts_and_inspect(d):
    out = d.out("run", "--name", "hosts", "--add-host", "db:10.1.2.3", "--add-host",
                "v6=[2001:db8::7]", "busybox", "cat", "/etc/hosts")  # fmt: skip
    lines = out.splitlines()
    assert "10.1.2.3\tdb" in lines and "2001:db8::7\tv6" in lines
    assert lines.index("10.1.2.3\tdb") < lines.index("2001:db8::7\tv6")
    assert inspect(d, "hosts")["HostConfig"]["ExtraHosts"] == ["db:10.1.2.3", "v6:2001:db8::7"]
    d("rm", "hosts")
    d("run", "--name", "plain", "busybox", "true")
    assert inspect(d, "plain")["HostConfig"]["ExtraHosts"] is None


@pytest.mark.parametrize(
    "value,message",
    [("db", 'bad format for add-host: "db"'),
     ("db:10.1.2", 'invalid IP address in add-host: "10.1.2"'),
     ("gw:host-gateway", "unable to derive the IP value for host-gateway")],
)  # fmt: skip
def test_bad_add_host(d, value, message):
    p = d("run", "--rm", "--add-host", value, "busybox", "true", check=False)
    assert message in one_line_error(p, 125)
    assert d.out("ps", "-aq") == ""
