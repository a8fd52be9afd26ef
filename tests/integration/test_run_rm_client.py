"""`run --rm` attached: the CLI removes the record itself once its supervisor reports the
exit code, and the supervisor tidies the rest. If the CLI cannot (killed, detached), the
supervisor removes it all when the container exits. Either way nothing is left."""

import os
import signal
import subprocess
import time

import pytest
from cgroup_cli_support import cli_with_busybox, dockyard_cgroups


@pytest.fixture
def d(dy, busybox_tar):
    yield from cli_with_busybox(dy, busybox_tar)


def _gone(d, cid: str, timeout: float = 10.0) -> bool:
    """No record, no directory, no cgroup left of `cid`."""
    path = os.path.join(d.root, "containers", cid)
    deadline = time.time() + timeout
    while time.time() < deadline:
        listed = cid in d.out("ps", "-aq", "--no-trunc").split()
        if not listed and not os.path.exists(path) and cid not in dockyard_cgroups():
            return True
        time.sleep(0.05)
    return False


def test_the_record_is_gone_when_run_returns_and_the_rest_follows(d):
    d("volume", "create", "kept")
    p = d("run", "--rm", "-v", "/anon", "-v", "kept:/named", "busybox", "sh", "-c",
          "echo out; echo err >&2; exit 3", check=False)  # fmt: skip
    assert (p.returncode, p.stdout, p.stderr) == (3, b"out\n", b"err\n")
    assert d.out("ps", "-aq") == ""  # at once: Docker's run --rm returns after the removal
    assert d.out("volume", "ls", "-q").split() == ["kept"]  # the anonymous one went along
    cids = set(os.listdir(os.path.join(d.root, "containers")))
    assert all(_gone(d, cid) for cid in cids)


def test_a_killed_client_leaves_the_removal_to_the_supervisor(d):
    cli = subprocess.Popen(
        d.argv("run", "--rm", "busybox", "sh", "-c", "sleep 1; exit 4"),
        env=d.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 20
    cid = ""
    while not cid and time.time() < deadline:
        cid = d.out("ps", "-q", "--no-trunc").strip()
        time.sleep(0.02)
    assert cid, "the container never ran"
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    assert _gone(d, cid)  # once the container exits, its supervisor removes all of it


def _running_with(marker: str) -> list[int]:
    """Processes whose command line holds `marker`: a forked supervisor keeps the CLI's."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(name))
        except OSError:
            pass
    return found


@pytest.mark.parametrize(
    "args",
    [
        ("--no-such-flag", "busybox", "true"),  # the flags fail after the early fork
        ("--help",),
        ("-a", "stdin", "-d", "busybox", "true"),  # conflicting options
        ("no-such-image-here", "true"),
    ],
)
def test_a_run_that_never_starts_leaves_no_supervisor(d, args):
    """The supervisor is forked as soon as the command is `run`, before its flags are read:
    every way out before the start ends it."""
    p = d("run", *args, check=False)
    assert p.returncode in (0, 1, 125), p.stderr
    marker = str(d.root)
    deadline = time.time() + 5
    while _running_with(marker) and time.time() < deadline:
        time.sleep(0.02)
    assert _running_with(marker) == []


def test_run_with_a_cidfile_and_detached_streams(d, tmp_path):
    """The early supervisor keeps the client's 0-2 until the plan says which it attaches:
    -d and -a stderr get only what they asked for, --cidfile forks its own."""
    cidfile = tmp_path / "cid"
    p = d("run", "--cidfile", str(cidfile), "--rm", "busybox", "sh", "-c", "echo out; exit 4",
          check=False)  # fmt: skip
    assert (p.returncode, p.stdout) == (4, b"out\n"), p.stderr
    assert len(cidfile.read_text()) == 64
    p = d("run", "--rm", "-a", "stderr", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert (p.stdout, p.stderr) == (b"", b"err\n")
    cid = d.out("run", "-d", "busybox", "sh", "-c", "echo hi").strip()
    assert d.out("wait", cid).strip() == "0"
    assert d.out("logs", cid) == "hi\n"
