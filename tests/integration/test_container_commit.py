"""`commit`: a proper image from a container's changes (inspect, history, run, save)."""

import json
import re
import tarfile

import pytest
from containerfs_support import error_line, with_busybox

IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}\n")


@pytest.fixture
def d(dy, busybox_tar):
    yield from with_busybox(dy, busybox_tar)


def _inspect(d, ref: str) -> dict:
    return json.loads(d.out("image", "inspect", ref))[0]


def test_commit_makes_an_image_that_runs_with_the_changes(d):
    d("run", "--name", "c1", "-e", "MODE=test", "-w", "/srv", "busybox", "sh", "-c",
      "echo hi > /x; rm -rf /home; mkdir -p /tmp/a")  # fmt: skip
    out = d.out("commit", "-a", "Jane <j@x>", "-m", "my message", "c1", "mine:v1")
    assert IMAGE_ID.fullmatch(out)
    info = _inspect(d, "mine:v1")
    assert info["Id"] == out.strip()
    assert info["RepoTags"] == ["mine:v1"]
    assert info["Author"] == "Jane <j@x>"
    cfg = info["Config"]
    assert cfg["Cmd"] == ["sh", "-c", "echo hi > /x; rm -rf /home; mkdir -p /tmp/a"]
    assert cfg["Env"] == ["MODE=test"]  # HOSTNAME, HOME and the default PATH are runtime's
    assert cfg["WorkingDir"] == "/srv"
    base = _inspect(d, "busybox")
    assert len(info["RootFS"]["Layers"]) == len(base["RootFS"]["Layers"]) + 1
    history = d.out("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}", "mine:v1")
    assert history.splitlines()[0] == "sh -c echo hi > /x; rm -rf /home; mkdir -p /tmp/a|my message"
    run = d.out("run", "--rm", "mine:v1", "sh", "-c", "cat /x; ls -d /home 2>&1; pwd; echo $MODE")
    assert run == "hi\nls: /home: No such file or directory\n/srv\ntest\n"


def test_commit_changes_and_the_default_name(d):
    d("run", "--name", "c1", "busybox", "touch", "/f")
    out = d.out("commit", "-c", "ENV FOO=bar", "-c", 'CMD ["cat", "/etc/hostname"]',
                "-c", "EXPOSE 80", "-c", "LABEL a=b", "c1", "mine")  # fmt: skip
    info = _inspect(d, "mine:latest")
    assert info["Id"] == out.strip()
    assert info["Config"]["Env"] == ["FOO=bar"]
    assert info["Config"]["Cmd"] == ["cat", "/etc/hostname"]
    assert info["Config"]["ExposedPorts"] == {"80/tcp": {}}
    assert info["Config"]["Labels"] == {"a": "b"}
    assert d.out("run", "--rm", "mine", "sh", "-c", "echo $FOO; ls /f") == "bar\n/f\n"
    # no repository: an untagged image, listed by id
    bare = d.out("commit", "c1").strip()
    assert IMAGE_ID.fullmatch(bare + "\n")
    assert _inspect(d, bare)["RepoTags"] == []


def test_commit_leaves_out_engine_mount_points_and_bind_destinations(d, tmp_path):
    (tmp_path / "vol").mkdir()
    d("run", "--name", "c1", "-v", f"{tmp_path / 'vol'}:/data", "busybox", "touch", "/kept")
    d("commit", "c1", "mine:1")
    d("save", "-o", str(tmp_path / "mine.tar"), "mine:1")
    with tarfile.open(tmp_path / "mine.tar") as t:
        manifest = json.load(t.extractfile("manifest.json"))
        top = manifest[0]["Layers"][-1]
        with tarfile.open(fileobj=t.extractfile(top)) as layer:
            names = layer.getnames()
    assert names == ["kept"]


def test_commit_without_changes_adds_an_empty_history_entry(d):
    d("create", "--name", "c1", "busybox", "true")
    d("commit", "-m", "nothing", "c1", "same:1")
    info, base = _inspect(d, "same:1"), _inspect(d, "busybox")
    assert info["RootFS"]["Layers"] == base["RootFS"]["Layers"]
    rows = d.out("history", "--format", "{{.Size}} {{.Comment}}", "same:1").splitlines()
    assert rows[0] == "0B nothing"


def test_commit_of_a_running_container_pauses_and_resumes_it(d):
    d("run", "-d", "--name", "r1", "busybox", "sh", "-c", "echo up > /up; sleep 60")
    for _ in range(200):
        if d.out("diff", "r1"):
            break
    d("commit", "r1", "live:1")
    assert d.out("ps", "--format", "{{.State}}") == "running\n"
    d("commit", "--pause=false", "r1", "live:2")
    d("pause", "r1")
    d("commit", "r1", "live:3")  # already paused: stays paused
    assert d.out("ps", "--format", "{{.State}}") == "paused\n"
    d("unpause", "r1")
    for tag in ("live:1", "live:2", "live:3"):
        assert d.out("run", "--rm", tag, "cat", "/up") == "up\n"


def test_commit_bad_input_makes_no_image(d):
    d("run", "--name", "c1", "busybox", "touch", "/f")
    before = d.out("images", "-q", "-a")
    p = d("commit", "-c", "FROM busybox", "c1", "bad:1", check=False)
    assert error_line(p) == "Error: from is not a valid change command"
    p = d("commit", "nosuch", "bad:1", check=False)
    assert error_line(p) == "Error: No such container: nosuch"
    p = d("commit", "c1", "Bad:Name!", check=False)
    assert p.returncode == 1 and "Traceback" not in p.stderr.decode()
    assert d.out("images", "-q", "-a") == before


def test_entrypoint_and_cmd_stay_apart_in_inspect_and_commit(d):
    """Config keeps Entrypoint and Cmd apart, as Docker does: an image's ENTRYPOINT with run
    arguments, and a one-word --entrypoint followed by several arguments."""
    d("run", "--name", "base", "busybox", "true")
    d("commit", "-c", 'ENTRYPOINT ["echo", "from-entry"]', "base", "ent:1")
    d("run", "--name", "c1", "ent:1", "a", "b")
    cfg = json.loads(d.out("inspect", "c1"))[0]
    assert cfg["Config"]["Entrypoint"] == ["echo", "from-entry"]
    assert cfg["Config"]["Cmd"] == ["a", "b"]
    assert (cfg["Path"], cfg["Args"]) == ("echo", ["from-entry", "a", "b"])
    d("run", "--name", "c2", "--entrypoint", "printf", "ent:1", "%s-%s\\n", "x", "y")
    cfg = json.loads(d.out("inspect", "c2"))[0]["Config"]
    assert (cfg["Entrypoint"], cfg["Cmd"]) == (["printf"], ["%s-%s\\n", "x", "y"])
    d("commit", "c2", "ent:2")
    img = _inspect(d, "ent:2")["Config"]
    assert (img["Entrypoint"], img["Cmd"]) == (["printf"], ["%s-%s\\n", "x", "y"])
    assert d.out("run", "--rm", "ent:2") == "x-y\n"
    assert d.out("run", "--rm", "ent:2", "%s!\\n", "z") == "z!\n"


def _wait_for(what, deadline_s: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + deadline_s
    while not what():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)


def test_a_commit_killed_mid_way_leaves_the_container_running_not_frozen(d):
    import os
    import signal
    import subprocess

    from dockyard.linux.cgroups import detect
    from dockyard.runtime.launch import cgroup_name

    # a big upper dir: the commit takes a while, with the container frozen
    cid = d.out("run", "-d", "--name", "big", "busybox", "sh", "-c",
                "head -c 200000000 /dev/urandom > /big && touch /done; sleep 600").strip()  # fmt: skip
    _wait_for(lambda: d("exec", "big", "test", "-e", "/done", check=False).returncode == 0)
    driver, cgroup = detect(), cgroup_name(cid)
    client = subprocess.Popen(d.argv("commit", "big", "half:1"), env=d.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_for(lambda: driver.frozen(cgroup) or client.poll() is not None)
        assert client.poll() is None, "the commit ended before it could be killed"
        os.kill(client.pid, signal.SIGKILL)
    finally:
        client.kill()
        client.wait()
    _wait_for(lambda: not driver.frozen(cgroup))  # its guard thaws it at once
    v1 = f"/sys/fs/cgroup/freezer/{cgroup}/freezer.state"
    if os.path.exists(v1):
        with open(v1) as f:
            assert f.read().strip() == "THAWED"
    assert d.out("ps", "--format", "{{.Names}} {{.State}}") == "big running\n"
    assert json.loads(d.out("inspect", "big"))[0]["State"]["Paused"] is False
    # it runs: a command inside answers
    assert d.out("exec", "big", "echo", "alive") == "alive\n"
    assert d("image", "inspect", "half:1", check=False).returncode != 0


def test_start_waits_for_a_cp_into_the_stopped_container(d):
    import io
    import subprocess
    import time

    d("create", "--name", "c1", "busybox", "cat", "/tmp/f")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("f")
        info.size = 3
        t.addfile(info, io.BytesIO(b"in\n"))
    data = buf.getvalue()
    cp = subprocess.Popen(d.argv("cp", "-", "c1:/tmp"), env=d.env, stdin=subprocess.PIPE)
    start = None
    try:
        cp.stdin.write(data[:512])  # the header: the copy is under way, its overlay mounted
        cp.stdin.flush()
        lock = d.root / "containers" / d.out("inspect", "-f", "{{.Id}}", "c1").strip() / "lock"
        _wait_for(lambda: lock.exists() and _locked(lock))
        start = subprocess.Popen(d.argv("start", "-a", "c1"), env=d.env, stdout=subprocess.PIPE)
        time.sleep(1)
        # held off while the copy has the container's upper dir mounted read-write
        assert start.poll() is None
        assert d.out("ps", "-a", "--format", "{{.State}}") == "created\n"
        cp.stdin.write(data[512:])
        cp.stdin.close()
        assert cp.wait(timeout=60) == 0
        out, _ = start.communicate(timeout=60)
        assert start.returncode == 0 and out == b"in\n"
    finally:
        for p in (cp, start):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


def _locked(path) -> bool:
    import os

    fd = os.open(path, os.O_RDWR)
    try:
        os.lockf(fd, os.F_TEST, 0)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)
