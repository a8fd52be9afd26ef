"""Terminals and attaching, end to end: the real CLI under a pty of the test (pty.fork),
real containers. `run -t` gives the container its own /dev/pts/0 with our window size and
follows resizes; -i pipes stdin (EOF reaches the container) and keeps stdout and stderr
apart; the detach keys leave a container running and `attach` sees its new output;
`exec -it` gets a terminal too; `--sysctl` sets namespaced sysctls only."""

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import termios
import time

import pytest
from cgroup_cli_support import cli_with_busybox


@pytest.fixture
def d(dy, busybox_tar):
    yield from cli_with_busybox(dy, busybox_tar)


class Term:
    """The CLI on the slave side of a pty of ours, as a user's terminal."""

    def __init__(self, d, *args: str, rows: int = 30, cols: int = 100):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(d.argv()[0], d.argv(*args), d.env)
        self.resize(rows, cols, signal_child=False)
        self.out = b""
        self.status = None

    def resize(self, rows: int, cols: int, signal_child: bool = True) -> None:
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if signal_child:
            os.kill(self.pid, 28)  # SIGWINCH, as the terminal's driver sends it

    def expect(self, text: bytes, timeout: float = 15) -> bytes:
        deadline = time.time() + timeout
        while text not in self.out:
            assert time.time() < deadline, f"{text!r} never came: {self.out!r}"
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    break
                self.out += data
        assert text in self.out, self.out
        return self.out

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 15) -> int:
        deadline = time.time() + timeout
        while time.time() < deadline:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    self.out += os.read(self.fd, 4096)
                except OSError:
                    pass
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(st)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        raise AssertionError(f"the CLI did not exit: {self.out!r}")


def _ids(d) -> list[str]:
    return d.out("ps", "-q").split()


def test_run_tty_is_own_pts_with_our_size_and_resize(d):
    t = Term(d, "run", "--rm", "-it", "busybox", "sh")
    t.expect(b"# ")
    t.send(b"tty; stty size\r")
    t.expect(b"30 100\r\n")
    assert b"/dev/pts/0\r\n" in t.out
    t.resize(40, 120)
    time.sleep(0.3)  # the resize travels CLI -> supervisor -> pty before the next command
    t.send(b"stty size; exit 3\r")
    t.expect(b"40 120\r\n")
    assert t.wait() == 3
    # our terminal is back in cooked mode
    assert d.out("ps", "-aq") == ""


def test_run_tty_output_is_logged_as_stdout(d):
    t = Term(d, "run", "--name", "tl", "-t", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert t.wait() == 0
    # one stream, the pty's line discipline (onlcr) in it; our terminal is not raw without -i
    assert t.out.replace(b"\r", b"") == b"out\nerr\n"
    log = os.path.join(str(d.root), "containers", d.out("inspect", "-f", "{{.Id}}", "tl").strip())
    entries = []
    for name in os.listdir(log):
        if name.endswith("-json.log"):
            with open(os.path.join(log, name)) as f:
                entries = [json.loads(ln) for ln in f]
    assert {e["stream"] for e in entries} == {"stdout"}
    assert "".join(e["log"] for e in entries) == "out\r\nerr\r\n"


def test_interactive_pipe_eof_and_streams_apart(d):
    p = d("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done; echo oops >&2",
          input=b"line one\nline two\n")  # fmt: skip
    assert p.stdout == b"line one\nline two\ndone\n"
    assert p.stderr == b"oops\n"


def test_tty_needs_a_terminal_on_stdin(d):
    p = d("run", "--rm", "-it", "busybox", "true", input=b"", check=False)
    assert p.returncode == 1
    assert p.stderr.decode().strip().endswith("the input device is not a TTY")


def test_detach_keys_leave_it_running_then_attach_sees_new_output(d):
    t = Term(d, "run", "-it", "--name", "dk", "busybox", "sh")
    t.expect(b"# ")
    t.send(b"echo first\r")
    t.expect(b"first\r\n")
    t.send(b"\x10\x11")  # ctrl-p ctrl-q
    assert t.wait() == 0
    assert d.out("inspect", "-f", "{{.State.Running}}", "dk").strip() == "true"
    a = Term(d, "attach", "--detach-keys", "ctrl-a,x", "dk")
    time.sleep(0.3)
    a.send(b"echo again-$((40+2))\r")
    a.expect(b"again-42\r\n")
    a.send(b"\x01x")
    assert a.wait() == 0
    assert a.out.endswith(b"read escape sequence\r\n")  # Docker's note, terminal restored
    assert d.out("inspect", "-f", "{{.State.Running}}", "dk").strip() == "true"
    # attached when it exits: the exit code is the container's
    a = Term(d, "attach", "dk")
    time.sleep(0.3)
    a.send(b"exit 7\r")
    assert a.wait() == 7
    assert d.out("inspect", "-f", "{{.State.ExitCode}}", "dk").strip() == "7"


def test_attach_to_detached_container_and_its_errors(d):
    cid = d.out("run", "-d", "busybox", "sh", "-c", "sleep 0.5; echo later; sleep 0.5; exit 4")
    p = d("attach", cid.strip(), check=False)
    assert p.returncode == 4
    assert p.stdout == b"later\n"
    p = d("attach", cid.strip(), check=False)
    assert p.returncode == 1
    assert "You cannot attach to a stopped container, start it first" in p.stderr.decode()
    p = d("attach", "--detach-keys", "ctrl-", cid.strip(), check=False)
    assert "Invalid detach keys (ctrl-) provided" in p.stderr.decode()


def test_attach_stdin_to_detached_interactive_container(d):
    cid = d.out("run", "-di", "busybox", "sh", "-c", "read x; echo got-$x").strip()
    p = d("attach", cid, input=b"hello\n", check=False)
    assert p.returncode == 0
    assert p.stdout == b"got-hello\n"


def test_attach_feeds_the_stdin_of_a_run_i_whose_own_client_sends_nothing(d):
    run = subprocess.Popen(
        d.argv("run", "-i", "--name", "fed", "busybox", "sh", "-c", "read x; echo got-$x"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=d.env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = d("inspect", "-f", "{{.State.Running}}", "fed", check=False)
            if state.stdout.strip() == b"true":
                break
            time.sleep(0.05)
        p = d("attach", "fed", input=b"hello\n", check=False)
        assert p.returncode == 0
        assert p.stdout == b"got-hello\n"  # the second client's line reached the container
        out, _err = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0
    assert out == b"got-hello\n"


def test_a_detached_interactive_container_keeps_stderr_apart_in_attach_and_logs(d):
    cid = d.out("run", "-di", "busybox", "sh", "-c",
                "read x; echo out-$x; head -c 100000 /dev/zero | tr '\\0' e >&2; "
                "echo err-$x >&2").strip()  # fmt: skip
    p = d("attach", cid, input=b"hi\n", check=False)
    assert p.returncode == 0
    assert p.stdout == b"out-hi\n"
    assert p.stderr == b"e" * 100000 + b"err-hi\n"  # more than a pipe holds: read
    logs = d("logs", cid)
    assert logs.stdout == b"out-hi\n" and logs.stderr.endswith(b"eeeerr-hi\n")


def test_create_then_start_attach_interactive(d):
    cid = d.out("create", "-i", "busybox", "sh", "-c", "cat; exit 2").strip()
    p = d("start", "-a", "-i", cid, input=b"abc\n", check=False)
    assert p.returncode == 2 and p.stdout == b"abc\n"


def test_exec_tty_and_detach(d):
    d("run", "-d", "--name", "ex", "busybox", "sleep", "1000")
    t = Term(d, "exec", "-it", "ex", "sh")
    t.expect(b"# ")
    t.send(b"tty; echo $TERM; stty size; exit 5\r")
    t.expect(b"30 100\r\n")
    assert b"/dev/pts/" in t.out and b"xterm\r\n" in t.out
    assert t.wait() == 5
    t = Term(d, "exec", "-it", "ex", "sh", "-c", "echo ready; exec sleep 500")
    t.expect(b"ready")
    t.send(b"\x10\x11")
    assert t.wait() == 0
    assert "sleep 500" in d.out("exec", "ex", "ps")


def test_sysctl_namespaced_set_inside_host_unchanged(d):
    with open("/proc/sys/kernel/shmmax") as f:
        host = f.read()
    p = d("run", "--rm", "--sysctl", "kernel.shmmax=123456789", "--sysctl",
          "net.ipv4.ip_unprivileged_port_start=80", "busybox", "sh", "-c",
          "cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_unprivileged_port_start; "
          "echo 1 > /proc/sys/kernel/shmmax", check=False)  # fmt: skip
    assert p.stdout == b"123456789\n80\n"
    assert p.returncode != 0  # /proc/sys stays read-only afterwards
    assert b"Read-only file system" in p.stderr
    with open("/proc/sys/kernel/shmmax") as f:
        assert f.read() == host


@pytest.mark.parametrize(
    "args, message",
    [
        (("--sysctl", "kernel.domainname=x"),
         'invalid argument "kernel.domainname=x" for "--sysctl" flag: '
         "sysctl 'kernel.domainname=x' is not allowed"),
        (("--sysctl", "vm.swappiness=1"), "sysctl 'vm.swappiness=1' is not allowed"),
        (("--sysctl", "kernel.shmmax"), "sysctl 'kernel.shmmax' is not allowed"),
        (("--network", "host", "--sysctl", "net.ipv4.ip_forward=1"),
         'sysctl "net.ipv4.ip_forward" not allowed in host network namespace'),
    ],
)  # fmt: skip
def test_sysctl_refused(d, args, message):
    with open("/proc/sys/vm/swappiness") as f:
        host = f.read()
    p = d("run", "--rm", *args, "busybox", "true", check=False)
    assert p.returncode == 125
    assert message in p.stderr.decode()
    assert d.out("ps", "-aq") == ""
    with open("/proc/sys/vm/swappiness") as f:
        assert f.read() == host


def test_tty_client_restores_terminal(d):
    """Raw mode is ours only while attached: after the CLI exits, the terminal echoes."""
    pid, fd = pty.fork()
    if pid == 0:
        cmd = " ".join(d.argv("run", "--rm", "-it", "busybox", "true"))
        os.execve("/bin/sh", ["sh", "-c", f"{cmd}; stty -a"], d.env)
    out = b""
    while True:
        r, _, _ = select.select([fd], [], [], 15)
        if not r:
            break
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    os.waitpid(pid, 0)
    os.close(fd)
    text = out.decode(errors="replace")
    assert " icanon" in text and " echo" in text and " -icanon" not in text, text


def test_attach_proxies_signals_without_tty(d):
    import signal
    import subprocess

    script = 'trap "echo got-int; exit 3" INT; while true; do echo tick; sleep 0.1; done'
    cid = d.out("run", "-d", "busybox", "sh", "-c", script).strip()
    p = subprocess.Popen(d.argv("attach", cid), stdout=subprocess.PIPE, env=d.env)
    try:
        assert p.stdout.readline() == b"tick\n"  # attached
        p.send_signal(signal.SIGINT)
        rest = p.stdout.read()
        assert p.wait(timeout=15) == 3
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert rest.endswith(b"got-int\n")
