"""Exec into running containers on the real kernel: `runtime.execute.run_in` (what health
checks use) and the `dockyard exec` CLI — namespaces, cgroup, hardening, users, exit codes."""

import os
import time

import pytest

from dockyard.errors import Conflict, NotFound
from dockyard.runtime.execute import run_in
from dockyard.services.containers import ContainerService, RunOptions


@pytest.fixture(scope="module")
def data_root(tmp_path_factory, busybox_root):
    return busybox_root(tmp_path_factory.mktemp("dy-exec"))


@pytest.fixture
def svc(data_root):
    s = ContainerService(data_root)
    yield s
    for rec in s.list(all=True):
        s.remove(rec["Id"], force=True)
    s.close()


def _status(out: bytes) -> dict:
    return dict(ln.split(":\t", 1) for ln in out.decode().splitlines() if ":\t" in ln)


def _sleeper(svc, **kw) -> str:
    opts = RunOptions(image="busybox", cmd=("sleep", "1000"), env=("FROM_RUN=1",), **kw)
    cid, _ = svc.run(opts)
    return cid


def test_run_in_hardening_namespaces_and_cgroup(svc, data_root):
    cid = _sleeper(svc)
    code, out = run_in(data_root, cid, ["cat", "/proc/self/status"])
    st = _status(out)
    assert code == 0
    assert st["CapEff"] == "00000000a80425fb"
    assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2"
    # in the container's pid namespace: its init is pid 1 there, and it sees only its own
    code, out = run_in(data_root, cid, ["sh", "-c", "cat /proc/1/cmdline; echo; echo $$"])
    first, pid = out.decode().split("\n")[:2]
    assert first.startswith("sleep") and int(pid) < 100
    with open("/proc/self/cgroup") as f:
        host_cg = f.read()
    code, out = run_in(data_root, cid, ["cat", "/proc/self/cgroup"])
    info = svc.inspect(cid)
    with open(f"/proc/{info['State']['Pid']}/cgroup") as f:
        assert out.decode() == f.read()
    assert out.decode() != host_cg
    code, out = run_in(data_root, cid, ["hostname"])
    assert out.decode().strip() == cid[:12]


def test_run_in_env_user_workdir(svc, data_root):
    cid = _sleeper(svc)
    code, out = run_in(
        data_root, cid, ["sh", "-c", "echo $FROM_RUN $EXTRA; id -u; id -g; pwd"],
        env=("EXTRA=x",), user="nobody", workdir="/tmp",
    )  # fmt: skip
    assert code == 0
    assert out.decode().split("\n")[:4] == ["1 x", "65534", "65534", "/tmp"]
    code, out = run_in(data_root, cid, ["id", "-u"], user="1234:55")
    assert out.decode().strip() == "1234"
    # HOME follows the exec's user (from the container's passwd), -e HOME wins
    _, passwd = run_in(data_root, cid, ["grep", "^nobody:", "/etc/passwd"])
    _, out = run_in(data_root, cid, ["sh", "-c", "echo $HOME"], user="nobody")
    assert out.decode().strip() == passwd.decode().split(":")[5]
    _, out = run_in(data_root, cid, ["sh", "-c", "echo $HOME"], env=("HOME=/x",), user="nobody")
    assert out == b"/x\n"
    _, out = run_in(data_root, cid, ["sh", "-c", "echo $HOME; id -G"])
    assert out.decode().split("\n")[0] == "/root"


def test_run_in_exit_codes_and_messages(svc, data_root):
    cid = _sleeper(svc)
    assert run_in(data_root, cid, ["true"]) == (0, b"")
    assert run_in(data_root, cid, ["sh", "-c", "echo out; echo err >&2; exit 3"]) == (
        3, b"out\nerr\n"
    )  # fmt: skip
    code, out = run_in(data_root, cid, ["no-such-cmd"])
    assert code == 127 and b"executable file not found in $PATH" in out
    code, out = run_in(data_root, cid, ["/etc/passwd"])
    assert code == 126 and b"permission denied" in out
    code, out = run_in(data_root, cid, ["true"], workdir="/no/such/dir")
    assert code == 126 and b'chdir to cwd ("/no/such/dir")' in out
    code, out = run_in(data_root, cid, ["true"], user="nosuchuser")
    assert code == 126 and b"unable to find user nosuchuser" in out
    code, out = run_in(data_root, cid, ["sh", "-c", "kill -9 $$"])
    assert code == 137


def test_run_in_timeout_and_truncation(svc, data_root):
    cid = _sleeper(svc)
    code, out = run_in(data_root, cid, ["sh", "-c", "echo started; sleep 30"], timeout=0.5)
    assert code == -1 and out == b"started\n"
    # the killed command is gone from the container
    code, out = run_in(data_root, cid, ["ps"])
    assert b"sleep 30" not in out
    code, out = run_in(data_root, cid, ["sh", "-c", "yes | head -c 100000"])
    assert code == 0 and len(out) == 4096


def test_run_in_refuses_stopped_paused_unknown(svc, data_root):
    cid = _sleeper(svc)
    svc.pause(cid)
    with pytest.raises(Conflict, match="is paused, unpause the container before exec"):
        run_in(data_root, cid, ["true"])
    svc.unpause(cid)
    svc.kill(cid)
    svc.wait(cid)
    with pytest.raises(Conflict, match=f"container {cid} is not running"):
        run_in(data_root, cid, ["true"])
    with pytest.raises(NotFound):
        run_in(data_root, "no-such-container", ["true"])


def test_run_in_seccomp_and_no_host_fds(svc, data_root):
    cid = _sleeper(svc)
    code, out = run_in(data_root, cid, ["unshare", "-m", "true"])
    assert code != 0
    code, out = run_in(data_root, cid, ["mount", "-t", "tmpfs", "t", "/mnt"])
    assert code != 0
    code, out = run_in(data_root, cid, ["sh", "-c", "ls -l /proc/self/fd/"])
    # only 0-2 (and ls's own directory fd) reach the process
    fds = [ln.split()[-3] for ln in out.decode().splitlines() if "->" in ln]
    assert set(fds) <= {"0", "1", "2", "3"}
    assert data_root.root.encode() not in out


def test_run_in_privileged_gets_all_caps(svc, data_root):
    from dockyard.runtime import execute

    cid = _sleeper(svc)
    out_r, out_w = os.pipe()
    _rec, cfg = execute.prepare(data_root, cid, ["grep", "CapEff", "/proc/self/status"],
                                privileged=True, stdio=(0, out_w, out_w))  # fmt: skip
    proc = execute.start(cfg)
    os.close(out_w)
    assert execute.wait(proc) == 0
    with os.fdopen(out_r, "rb") as f:
        assert f.read().split()[1] != b"00000000a80425fb"


def test_exec_detached_keeps_running(svc, data_root):
    from dockyard.runtime import execute

    cid = _sleeper(svc)
    null = os.open("/dev/null", os.O_RDWR)
    try:
        _rec, cfg = execute.prepare(data_root, cid, ["sh", "-c", "echo hi > /tmp/mark; sleep 60"],
                                    stdio=(null, null, null), detach=True)  # fmt: skip
        proc = execute.start(cfg)
        assert execute.wait(proc) == 0
    finally:
        os.close(null)
    deadline = time.time() + 10
    while time.time() < deadline:
        _, out = run_in(data_root, cid, ["cat", "/tmp/mark"])
        if out == b"hi\n":
            break
        time.sleep(0.05)
    assert out == b"hi\n"
    _, out = run_in(data_root, cid, ["ps"])
    assert b"sleep 60" in out


# -- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def d(dy, busybox_tar):
    dy("import", "-c", 'CMD ["sh"]', "-c", "ENV FROM_IMAGE=img", str(busybox_tar), "busybox")
    yield dy
    ids = dy.out("ps", "-aq").split()
    if ids:
        dy("rm", "-f", *ids, check=False)


def test_cli_exec_env_user_workdir_and_status(d, tmp_path):
    d("run", "-d", "--name", "cx", "-e", "FROM_RUN=run", "busybox", "sleep", "1000")
    envf = tmp_path / "env"
    envf.write_text("# comment\nFROM_FILE=file\nFROM_RUN=overridden\n")
    p = d("exec", "-e", "EXTRA=1", "--env-file", str(envf), "-u", "nobody:nogroup", "-w",
          "/tmp", "cx", "sh", "-c",
          "echo $FROM_IMAGE $FROM_RUN $FROM_FILE $EXTRA; id -u; id -g; pwd; exit 9",
          check=False)  # fmt: skip
    assert p.returncode == 9
    assert p.stdout.decode().split("\n")[:4] == ["img overridden file 1", "65534", "65534", "/tmp"]
    p = d("exec", "cx", "sh", "-c", "echo to-out; echo to-err >&2")
    assert (p.stdout, p.stderr) == (b"to-out\n", b"to-err\n")
    p = d("exec", "-i", "cx", "cat", input=b"piped\n")
    assert p.stdout == b"piped\n"


def test_cli_exec_exit_codes_and_messages(d):
    d("run", "-d", "--name", "cx", "busybox", "sleep", "1000")
    assert d("exec", "cx", "true").returncode == 0
    assert d("exec", "cx", "false", check=False).returncode == 1
    p = d("exec", "cx", "nosuchcmd", check=False)
    assert p.returncode == 127
    assert p.stderr.decode() == (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        'exec: "nosuchcmd": executable file not found in $PATH: unknown\n'
    )
    p = d("exec", "cx", "/etc", check=False)
    assert p.returncode == 126 and "permission denied" in p.stderr.decode()


def test_cli_exec_detached(d):
    d("run", "-d", "--name", "cx", "busybox", "sleep", "1000")
    p = d("exec", "-d", "cx", "sh", "-c", "sleep 0.2; echo done > /tmp/flag; sleep 100")
    assert p.stdout == b"" and p.returncode == 0
    deadline = time.time() + 10
    while d("exec", "cx", "cat", "/tmp/flag", check=False).stdout != b"done\n":
        assert time.time() < deadline
        time.sleep(0.05)
    assert "sleep 100" in d.out("exec", "cx", "ps")


def test_cli_exec_hardening(d):
    d("run", "-d", "--name", "cx", "busybox", "sleep", "1000")
    st = _status(d("exec", "cx", "cat", "/proc/self/status").stdout)
    assert st["CapEff"] == "00000000a80425fb"
    assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2"
    st = _status(d("exec", "--privileged", "cx", "cat", "/proc/self/status").stdout)
    assert st["CapEff"] != "00000000a80425fb"


def test_cli_exec_stopped_or_unknown_container(d):
    cid = d.out("create", "busybox", "true").strip()
    p = d("exec", cid, "true", check=False)
    assert p.returncode == 1
    assert p.stderr.decode() == f"Error: container {cid} is not running\n"
    p = d("exec", "nosuch", "true", check=False)
    assert p.returncode == 1
    assert "No such container: nosuch" in p.stderr.decode()
    p = d("exec", cid, check=False)
    assert p.returncode == 1 and "requires at least 2 arguments" in p.stderr.decode()


def test_cli_exec_dt_gives_the_detached_command_a_terminal(d):
    d("run", "-d", "--name", "cx", "busybox", "sleep", "1000")
    p = d(
        "exec", "-dt", "cx", "sh", "-c", "tty > /tmp/t; [ -t 1 ] && echo tty >> /tmp/t; sleep 100"
    )
    assert p.stdout == b"" and p.returncode == 0
    deadline = time.time() + 10
    while d("exec", "cx", "cat", "/tmp/t", check=False).stdout.count(b"\n") < 2:
        assert time.time() < deadline
        time.sleep(0.05)
    name, mark = d.out("exec", "cx", "cat", "/tmp/t").split()
    assert name.startswith("/dev/pts/") and mark == "tty"
    assert "sleep 100" in d.out("exec", "cx", "ps")  # its terminal is kept open


def test_cli_exec_ctrl_c_ends_the_client_not_the_command(d):
    import signal
    import subprocess

    d("run", "-d", "--name", "cx", "busybox", "sleep", "1000")
    client = subprocess.Popen(d.argv("exec", "cx", "sh", "-c", "echo started; exec sleep 300"),
                              env=d.env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)  # fmt: skip
    try:
        assert client.stdout.readline() == b"started\n"
        client.send_signal(signal.SIGINT)  # a terminal's Ctrl-C reaches the client only
        assert client.wait(timeout=30) != 0
    finally:
        client.kill()
        client.wait()
        client.stdout.close()
    # as Docker's client, which forwards no signal without a tty: the command runs on
    assert "sleep 300" in d.out("exec", "cx", "ps")
