"""Containers on the real kernel through ContainerService: the busybox image imported
into a private data root, real namespaces, overlayfs, cgroups v1/v2 and seccomp."""

import os
import signal
import time

import pytest
from cgroup_cli_support import dockyard_cgroups

from dockyard.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from dockyard.services.containers import ContainerService, RunOptions


@pytest.fixture(scope="module")
def data_root(tmp_path_factory, busybox_root):
    return busybox_root(tmp_path_factory.mktemp("dy-runtime"))


@pytest.fixture
def svc(data_root):
    before = dockyard_cgroups()
    s = ContainerService(data_root)
    yield s
    for rec in s.list(all=True):
        s.remove(rec["Id"], force=True)
    deadline = time.time() + 10
    while dockyard_cgroups() - before and time.time() < deadline:  # finishers tear down after exit
        time.sleep(0.05)
    s.close()
    with open("/proc/self/mountinfo") as f:
        assert [ln for ln in f if data_root.root in ln] == [], "mounts leaked onto the host"
    assert dockyard_cgroups() - before == set(), "cgroups leaked"


def run(svc, *cmd, **kw):
    """(exit code, stdout, stderr, id) of a foreground run."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        cid, code = svc.run(RunOptions(image="busybox", cmd=cmd or None, **kw), (-1, out_w, err_w))
    finally:
        os.close(out_w)
        os.close(err_w)
    with os.fdopen(out_r, "rb") as o, os.fdopen(err_r, "rb") as e:
        return code, o.read().decode(), e.read().decode(), cid


def status(out: str) -> dict:
    return dict(ln.split(":\t", 1) for ln in out.splitlines() if ":\t" in ln)


def test_security_defaults_seen_from_inside(svc):
    code, out, _, _ = run(svc, "cat", "/proc/self/status")
    st = status(out)
    assert code == 0
    assert st["CapEff"] == "00000000a80425fb"
    assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1"


def test_pid_one_env_workdir_user_hostname(svc):
    code, out, _, _ = run(
        svc, "sh", "-c", "echo $$; echo $FOO; pwd; id -u; id -g; hostname; echo $HOME",
        env=("FOO=bar",), workdir="/work/dir", user="nobody", hostname="box-1",
    )  # fmt: skip
    assert code == 0
    assert out.split() == ["1", "bar", "/work/dir", "65534", "65534", "box-1", "/nonexistent"]


def test_numeric_user_and_group(svc):
    _, out, _, _ = run(svc, "id", user="1234:55")
    assert "uid=1234" in out and "gid=55" in out


def test_stdout_and_stderr_kept_apart_and_logged(svc):
    code, out, err, cid = run(svc, "sh", "-c", "echo out; echo err >&2; printf tail")
    assert (code, out, err) == (0, "out\ntail", "err\n")
    logs = list(svc.logs(cid))
    assert (("stdout", b"out\n") in logs) and (("stderr", b"err\n") in logs)
    assert ("stdout", b"tail") in logs
    assert list(svc.logs(cid, tail=1)) == [("stdout", b"tail")]
    stamped = list(svc.logs(cid, timestamps=True))
    assert stamped[0][1].split(b" ", 1)[0].endswith(b"Z")
    log_path = svc.inspect(cid)["LogPath"]
    assert log_path.endswith(f"{cid}-json.log")
    with open(log_path) as f:
        first = f.readline()
    assert first.startswith('{"log":') and '"stream":"' in first and '"time":"' in first


@pytest.mark.parametrize("cmd,expected", [(("true",), 0), (("sh", "-c", "exit 3"), 3)])
def test_exit_codes(svc, cmd, expected):
    code, _, _, cid = run(svc, *cmd)
    assert code == expected
    info = svc.inspect(cid)
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == expected
    assert info["State"]["FinishedAt"] != "0001-01-01T00:00:00Z"


def test_command_not_found_is_127_and_not_executable_is_126(svc):
    with pytest.raises(NotFound) as e:
        run(svc, "no-such-command")
    assert e.value.exit_code == 127 and "executable file not found in $PATH" in str(e.value)
    with pytest.raises(PermissionDenied) as e:
        run(svc, "/etc")
    assert e.value.exit_code == 126
    states = {c["State"] for c in svc.list(all=True)}
    assert states == {"created"}


def test_rm_removes_after_exit(svc):
    code, out, _, cid = run(svc, "echo", "hi", auto_remove=True)
    assert (code, out) == (0, "hi\n")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            svc.inspect(cid)
        except NotFound:
            break
        time.sleep(0.02)
    with pytest.raises(NotFound):
        svc.inspect(cid)


def test_detached_stop_of_a_shell_trapping_term(svc):
    cid, code = svc.run(RunOptions(
        image="busybox", name="trapper",
        cmd=("sh", "-c", "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.1; done"),
    ))  # fmt: skip
    assert code is None
    assert svc.list()[0]["Names"] == ["/trapper"]
    assert svc.list()[0]["Status"].startswith("Up ")
    _wait_log(svc, cid, b"ready")
    with pytest.raises(Conflict):
        svc.remove("trapper")
    svc.stop("trapper", timeout=10)
    info = svc.inspect("trapper")
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 7
    assert ("stdout", b"got-term\n") in list(svc.logs(cid))
    assert svc.list() == []
    assert svc.list(all=True)[0]["Status"].startswith("Exited (7) ")


def test_stop_kills_after_timeout_and_kill_signal(svc):
    cid, _ = svc.run(RunOptions(image="busybox", cmd=("sleep", "60")))
    svc.stop(cid, timeout=0)  # pid 1 ignores TERM: SIGKILL follows
    assert svc.inspect(cid)["State"]["ExitCode"] == 137
    with pytest.raises(Conflict, match="is not running"):
        svc.kill(cid)
    svc.start(cid)
    assert svc.inspect(cid)["State"]["Running"] is True
    svc.kill(cid, "SIGKILL")
    assert svc.wait(cid) == 137


def test_pause_unpause_and_state_errors(svc):
    cid, _ = svc.run(RunOptions(image="busybox", cmd=("sleep", "60")))
    svc.pause(cid[:12])
    info = svc.inspect(cid)["State"]
    assert info["Paused"] and info["Status"] == "paused"
    with pytest.raises(Conflict, match="already paused"):
        svc.pause(cid)
    with pytest.raises(Conflict, match="try unpause"):
        svc.start(cid)
    assert svc.list()[0]["Status"].endswith("(Paused)")
    svc.unpause(cid)
    with pytest.raises(Conflict, match="is not paused"):
        svc.unpause(cid)
    top = svc.top(cid)
    assert "PID" in top["Titles"] and any("sleep" in " ".join(p) for p in top["Processes"])
    svc.remove(cid, force=True)
    with pytest.raises(NotFound):
        svc.inspect(cid)


def test_names_rename_and_prefixes(svc):
    a = svc.create(RunOptions(image="busybox", name="alpha", cmd=("true",)))
    with pytest.raises(Conflict, match='The container name "/alpha" is already in use'):
        svc.create(RunOptions(image="busybox", name="alpha", cmd=("true",)))
    with pytest.raises(InvalidArgument, match="Invalid container name"):
        svc.create(RunOptions(image="busybox", name="-bad", cmd=("true",)))
    b = svc.create(RunOptions(image="busybox", cmd=("true",)))
    assert "_" in svc.inspect(b)["Name"]
    svc.rename("alpha", "beta")
    assert svc.inspect(a[:10])["Name"] == "/beta"
    assert svc.inspect(a)["State"]["Status"] == "created"
    assert svc.list(filters={"name": ["beta"]}) == []  # not running: needs --all
    assert svc.list(all=True, filters={"name": ["beta"]})[0]["Id"] == a
    assert [c["Id"] for c in svc.list(all=True, filters={"before": [b]})] == [a]
    assert [c["Id"] for c in svc.list(all=True, filters={"since": ["beta"]})] == [b]
    assert len(svc.list(filters={"status": ["created"]})) == 2  # status implies --all
    assert [c["Id"] for c in svc.list(limit=1)] == [b]
    assert svc.list() == [] and len(svc.list(all=True)) == 2


def test_supervisor_killed_then_truth_and_cleanup(svc):
    cid, _ = svc.run(RunOptions(image="busybox", cmd=("sleep", "60")))
    from dockyard.runtime.store import ContainerStore

    st = ContainerStore(svc.config.metadata_path)
    rec = st.get(cid)
    st.close()
    os.kill(rec.sup_pid, signal.SIGKILL)
    deadline = time.time() + 5
    while os.path.exists(f"/proc/{rec.pid}") and time.time() < deadline:
        time.sleep(0.02)
    rows = svc.list(all=True)
    assert rows[0]["State"] == "exited" and rows[0]["Status"].startswith("Exited (137)")
    state = svc.inspect(cid)["State"]
    assert state["Error"] and not state["Running"]
    assert cid not in dockyard_cgroups()


def test_pids_limit_stops_a_fork_bomb(svc):
    loop = "for i in " + " ".join(map(str, range(40))) + "; do sleep 2 & done; wait; echo done"
    _, out, err, _ = run(svc, "sh", "-c", loop, pids_limit=12)
    assert "can't fork" in err or "Resource temporarily unavailable" in err
    assert out == ""  # the shell gave up when it could not fork
    _code, out, err, _ = run(svc, "sh", "-c", loop)  # the control: no limit, no failure
    assert err == "" and out == "done\n"


def test_memory_limit_oom_killed(svc):
    code, _, _, cid = run(svc, "sh", "-c", "x=a; while :; do x=$x$x; done", memory="8m",
                          memory_swap="8m")  # fmt: skip
    state = svc.inspect(cid)["State"]
    assert code == 137 and state["OOMKilled"] is True


def test_read_only_rootfs_bind_and_tmpfs(svc, tmp_path):
    (tmp_path / "f").write_text("host-data\n")
    code, out, _, _ = run(
        svc, "sh", "-c", "cat /data/f; touch /x 2>/dev/null || echo ro; echo t > /scratch/t && echo tmpfs-ok",
        read_only=True, binds=(f"{tmp_path}:/data:ro",), tmpfs=("/scratch",),
    )  # fmt: skip
    assert code == 0 and out.split() == ["host-data", "ro", "tmpfs-ok"]


def _wait_log(svc, cid, needle: bytes) -> None:
    deadline = time.time() + 10
    while time.time() < deadline:
        if any(needle in d for _, d in svc.logs(cid)):
            return
        time.sleep(0.02)
    raise AssertionError(f"{needle!r} never logged")


def test_stdin_is_passed_with_i(svc):
    in_r, in_w = os.pipe()
    os.write(in_w, b"from-stdin\n")
    os.close(in_w)
    out_r, out_w = os.pipe()
    try:
        _, code = svc.run(RunOptions(image="busybox", cmd=("cat",), stdin=True), (in_r, out_w, 2))
    finally:
        os.close(in_r)
        os.close(out_w)
    with os.fdopen(out_r, "rb") as f:
        assert (code, f.read()) == (0, b"from-stdin\n")
    # without -i the container reads /dev/null, whatever the client's stdin is
    in_r, in_w = os.pipe()
    os.write(in_w, b"ignored\n")
    os.close(in_w)
    code, out, _, _ = run(svc, "sh", "-c", "cat; echo end")
    os.close(in_r)
    assert out == "end\n"


def test_logs_follow_since_and_until(svc):
    cid, _ = svc.run(
        RunOptions(
            image="busybox",
            cmd=("sh", "-c", "echo one; sleep 0.3; echo two; sleep 0.3; echo three"),
        )
    )
    followed = [d for _, d in svc.logs(cid, follow=True)]
    assert followed == [b"one\n", b"two\n", b"three\n"]
    from dockyard.runtime.jsonlog import parse_rfc3339

    stamps = [d.split(b" ", 1)[0].decode() for _, d in svc.logs(cid, timestamps=True)]
    second = parse_rfc3339(stamps[1]) / 1e9
    # (float seconds: a microsecond either side of the second line)
    assert [d for _, d in svc.logs(cid, since=second - 1e-6)] == [b"two\n", b"three\n"]
    assert [d for _, d in svc.logs(cid, until=second + 1e-6)] == [b"one\n", b"two\n"]


def test_stop_signal_option_and_wait(svc):
    cid, _ = svc.run(RunOptions(
        image="busybox", stop_signal="SIGUSR1",
        cmd=("sh", "-c", "trap 'exit 12' USR1; echo up; while :; do sleep 0.1; done"),
    ))  # fmt: skip
    _wait_log(svc, cid, b"up")
    assert svc.inspect(cid)["Config"]["StopSignal"] == "SIGUSR1"
    svc.stop(cid)
    assert svc.wait(cid) == 12


def test_inspect_shape(svc):
    cid = svc.create(RunOptions(image="busybox", cmd=("echo", "x"), labels=(("k", "v"),),
                                hostname="hh", env=("A=1",)))  # fmt: skip
    info = svc.inspect(cid)
    assert info["Id"] == cid and info["Path"] == "echo" and info["Args"] == ["x"]
    assert info["State"] == {
        "Status": "created", "Running": False, "Paused": False, "Restarting": False,
        "OOMKilled": False, "Dead": False, "Pid": 0, "ExitCode": 0, "Error": "",
        "StartedAt": "0001-01-01T00:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z",
    }  # fmt: skip
    assert info["Config"]["Labels"] == {"k": "v"} and info["Config"]["Hostname"] == "hh"
    assert "A=1" in info["Config"]["Env"] and info["Image"].startswith("sha256:")
    assert info["HostConfig"]["NetworkMode"] == "none"
    assert svc.list(all=True, filters={"label": ["k=v"]})[0]["Id"] == cid
    assert svc.list(all=True, filters={"label": ["k=w"]}) == []
    assert svc.list(all=True, filters={"status": ["created"]})[0]["Status"] == "Created"
    with pytest.raises(InvalidArgument):
        svc.list(filters={"bogus": ["1"]})


def test_supervisor_killed_with_rm_is_removed_by_next_command(svc):
    cid, _ = svc.run(RunOptions(image="busybox", cmd=("sleep", "60"), auto_remove=True))
    from dockyard.runtime.store import ContainerStore

    st = ContainerStore(svc.config.metadata_path)
    rec = st.get(cid)
    st.close()
    os.kill(rec.sup_pid, signal.SIGKILL)
    deadline = time.time() + 5
    while os.path.exists(f"/proc/{rec.pid}") and time.time() < deadline:
        time.sleep(0.02)
    assert svc.list(all=True) == []
    assert not os.path.exists(os.path.join(svc.config.containers_dir, cid))
    assert cid not in dockyard_cgroups()


def test_hostile_image_passwd_symlink_does_not_reach_the_host(svc, busybox_tar, tmp_path):
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(busybox_tar) as src, tarfile.open(fileobj=buf, mode="w") as dst:
        for m in src.getmembers():
            if m.name.lstrip("./") not in ("etc/passwd",):
                dst.addfile(m, src.extractfile(m) if m.isfile() else None)
        link = tarfile.TarInfo("etc/passwd")
        link.type = tarfile.SYMTYPE
        # a host file with a "nobody" entry, if the link were followed outside the image
        link.linkname = "../../../../../../usr/share/base-passwd/passwd.master"
        dst.addfile(link)
    svc.images.import_rootfs(io.BytesIO(buf.getvalue()), "hostile", ['CMD ["/bin/sh"]'], "")
    assert os.path.exists("/usr/share/base-passwd/passwd.master")
    with pytest.raises(InvalidArgument, match="unable to find user nobody"):
        svc.create(RunOptions(image="hostile", user="nobody", cmd=("id",)))
    code, out, _, _ = run(svc, "id", "-u")
    assert (code, out) == (0, "0\n")


def test_restart_policy_on_failure_counts_and_stops(svc):
    cid, _ = svc.run(
        RunOptions(image="busybox", restart="on-failure:2", cmd=("sh", "-c", "echo run; exit 5"))
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        info = svc.inspect(cid)
        if info["RestartCount"] == 2 and info["State"]["Status"] == "exited":
            break
        time.sleep(0.05)
    assert info["RestartCount"] == 2 and info["State"]["ExitCode"] == 5
    time.sleep(0.5)  # no third run
    assert [d for _, d in svc.logs(cid)] == [b"run\n"] * 3


def test_restart_always_until_the_user_stops_it(svc):
    cid, _ = svc.run(RunOptions(image="busybox", restart="always", cmd=("sh", "-c", "exit 0")))
    deadline = time.time() + 20
    while svc.inspect(cid)["RestartCount"] < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert svc.inspect(cid)["RestartCount"] >= 2
    svc.stop(cid)
    n = svc.inspect(cid)["RestartCount"]
    time.sleep(1.0)
    info = svc.inspect(cid)
    assert info["RestartCount"] == n and info["State"]["Status"] == "exited"
    with pytest.raises(InvalidArgument, match="--restart and --rm"):
        svc.create(RunOptions(image="busybox", restart="always", auto_remove=True, cmd=("true",)))


def test_network_none_has_only_loopback_up_and_host_shares(svc):
    code, out, _, _ = run(
        svc,
        "sh",
        "-c",
        "ip -o link | cut -d: -f2; ping -c1 -W1 127.0.0.1 >/dev/null && echo ping-ok",
    )
    assert code == 0 and out.split() == ["lo", "ping-ok"]
    host_links = os.listdir("/sys/class/net")
    code, out, _, _ = run(svc, "ls", "/sys/class/net", network="host")
    assert code == 0 and sorted(out.split()) == sorted(host_links)


def test_seccomp_options_and_capabilities(svc, tmp_path):
    prof = tmp_path / "deny-mkdir.json"
    prof.write_text(
        '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": '
        '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
    )
    script = "grep -E '^(Seccomp|CapEff):' /proc/self/status; mkdir /tmp/d && echo made"
    _, out, err, _ = run(svc, "sh", "-c", script, security_opt=(f"seccomp={prof}",))
    assert "Seccomp:\t2" in out and "made" not in out and "Operation not permitted" in err
    _, out, _, _ = run(svc, "sh", "-c", script, security_opt=("seccomp=unconfined",))
    assert "Seccomp:\t0" in out and "made" in out
    _, out, _, _ = run(svc, "sh", "-c", script, cap_drop=("ALL",))
    assert "CapEff:\t0000000000000000" in out
    _, out, _, _ = run(svc, "sh", "-c", script, cap_add=("SYS_ADMIN",), cap_drop=("NET_RAW",))
    assert "CapEff:\t00000000a82405fb" in out
    with pytest.raises(InvalidArgument, match="unknown capability"):
        svc.create(RunOptions(image="busybox", cmd=("true",), cap_add=("NOPE",)))


def test_container_and_snapshot_dirs_spread_over_the_disk(svc, data_root):
    """The parents of containers', snapshots' and ingests' dirs carry ext4's top-dir flag, so
    a new container's (or blob's) files land in a block group without the inodes just freed
    by the last removal (creating files there scans past each of them for 30 s)."""
    import fcntl
    import sys

    code, _, _, _ = run(svc, "true", auto_remove=True)
    assert code == 0
    parent = os.path.dirname(data_root.root)
    with open("/proc/self/mounts") as f:
        mounts = [ln.split()[1:3] for ln in f]
    fs = max((m for m in mounts if (parent + "/").startswith(m[0].rstrip("/") + "/")),
             key=lambda m: len(m[0]))[1]  # fmt: skip
    for d in (data_root.containers_dir, data_root.snapshots_dir,
              os.path.join(data_root.content_dir, "ingest")):  # fmt: skip
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        try:
            flags = int.from_bytes(fcntl.ioctl(fd, 0x80086601, b"\0" * 8)[:4], sys.byteorder)
        finally:
            os.close(fd)
        assert bool(flags & 0x00020000) == fs.startswith("ext"), (d, fs)
