"""Volumes end to end: the real CLI in a subprocess on a private data root, real containers
and real mounts. Data persists across containers, an empty volume is filled from the image,
read-only refuses writes, a used volume cannot be removed, `rm -v`/`--rm`/prune remove what
Docker removes. Every test leaves no container or mount behind."""

import json
import os
import re
import stat
import textwrap

import pytest
from cgroup_cli_support import cli_with_busybox

FULL_NAME = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def d(dy, busybox_tar):
    yield from cli_with_busybox(dy, busybox_tar)


def one_line_error(p, status) -> str:
    err = p.stderr.decode()
    assert p.returncode == status, (p.returncode, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


def names(d) -> list[str]:
    return d.out("volume", "ls", "-q").split()


def data(d, name: str):
    return d.root / "volumes" / name / "_data"


def test_named_volume_keeps_data_across_containers(d):
    d("run", "--rm", "-v", "store:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert d.out("run", "--rm", "-v", "store:/data", "busybox", "cat", "/data/f") == "kept\n"
    assert names(d) == ["store"]
    assert (data(d, "store") / "f").read_text() == "kept\n"
    assert stat.S_IMODE(os.stat(d.root / "volumes").st_mode) == 0o700
    # the same volume through --mount
    out = d.out("run", "--rm", "--mount", "type=volume,source=store,target=/m", "busybox",
                "cat", "/m/f")  # fmt: skip
    assert out == "kept\n"


def test_readonly_volume_refuses_writes(d):
    d("volume", "create", "ro")
    for flags in (["-v", "ro:/data:ro"], ["--mount", "type=volume,src=ro,dst=/data,readonly"]):
        p = d("run", "--rm", *flags, "busybox", "touch", "/data/x", check=False)
        assert p.returncode == 1 and b"Read-only file system" in p.stderr
    assert list(data(d, "ro").iterdir()) == []


def test_copy_up_fills_an_empty_volume_from_the_image(d, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        textwrap.dedent(
            """\
            FROM busybox
            RUN mkdir -p /srv/app/sub && echo one > /srv/app/f && echo old > /srv/app/gone \\
                && chown 1000:1001 /srv/app/f && chmod 640 /srv/app/f && chmod 750 /srv/app/sub \\
                && ln -s f /srv/app/link && ln -s /etc/passwd /srv/app/abs \\
                && chown 7:8 /srv/app && chmod 711 /srv/app
            RUN rm /srv/app/gone && echo two > /srv/app/sub/g
            VOLUME /srv/app
            """
        )
    )
    d("build", "-q", "-t", "app", str(ctx))
    d("volume", "create", "filled")
    out = d.out("run", "--rm", "-v", "filled:/srv/app", "app", "sh", "-c",
                "cat /srv/app/f /srv/app/link /srv/app/sub/g; ls -A /srv/app")  # fmt: skip
    assert out == "one\none\ntwo\nabs\nf\nlink\nsub\n"  # the whiteout hid "gone"
    top = data(d, "filled")
    st = os.lstat(top / "f")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1001, 0o640)
    assert stat.S_IMODE(os.lstat(top / "sub").st_mode) == 0o750
    assert os.readlink(top / "abs") == "/etc/passwd"  # copied as a link, not followed
    assert os.readlink(top / "link") == "f"
    st = os.lstat(top)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (7, 8, 0o711)
    # a volume with content is not filled again, and nocopy leaves an empty one empty
    (top / "f").write_text("changed\n")
    assert d.out("run", "--rm", "-v", "filled:/srv/app", "app", "cat", "/srv/app/f") == "changed\n"
    out = d.out("run", "--rm", "-v", "bare:/srv/app:nocopy", "app", "ls", "-A", "/srv/app")
    assert out == ""
    out = d.out("run", "--rm", "--mount", "type=volume,src=bare2,dst=/srv/app,volume-nocopy",
                "app", "ls", "-A", "/srv/app")  # fmt: skip
    assert out == ""
    # the image's VOLUME becomes an anonymous volume, filled, removed with --rm
    assert d.out("run", "--rm", "app", "cat", "/srv/app/sub/g") == "two\n"
    assert sorted(names(d)) == ["bare", "bare2", "filled"]


def test_image_volume_is_anonymous_and_inspect_shows_mounts(d, busybox_tar):
    d("import", "-c", "VOLUME /etc", str(busybox_tar), "withvol")
    cid = d.out("create", "--name", "c1", "-v", "named:/data:ro", "-v", "/scratch",
                "-v", f"{d.root.parent}:/host", "withvol", "true").strip()  # fmt: skip
    info = json.loads(d.out("inspect", cid))[0]
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert set(mounts) == {"/data", "/scratch", "/etc", "/host"}
    named = mounts["/data"]
    assert named == {
        "Type": "volume", "Name": "named", "Source": str(data(d, "named")),
        "Destination": "/data", "Driver": "local", "Mode": "ro", "RW": False, "Propagation": "",
    }  # fmt: skip
    for dest in ("/scratch", "/etc"):
        assert mounts[dest]["Type"] == "volume" and FULL_NAME.fullmatch(mounts[dest]["Name"])
        assert mounts[dest]["RW"] is True
    assert mounts["/host"]["Type"] == "bind"
    assert sorted(info["HostConfig"]["Binds"]) == sorted([f"{d.root.parent}:/host",
                                                          "named:/data:ro"])  # fmt: skip
    # the image's /etc was copied into its anonymous volume at create
    assert (data(d, mounts["/etc"]["Name"]) / "passwd").is_file()
    labels = json.loads(d.out("volume", "inspect", mounts["/etc"]["Name"]))[0]["Labels"]
    assert labels == {"com.docker.volume.anonymous": ""}
    assert d.out("ps", "-a", "--filter", "volume=named", "--format", "{{.Names}}") == "c1\n"
    assert d.out("ps", "-a", "--filter", "volume=/scratch", "--format", "{{.Names}}") == "c1\n"
    assert d.out("ps", "-a", "--filter", "volume=other", "--format", "{{.Names}}") == ""


def test_a_volume_in_use_cannot_be_removed(d):
    cid = d.out("create", "-v", "busy:/data", "busybox", "true").strip()
    for flags in ([], ["-f"]):
        err = one_line_error(d("volume", "rm", *flags, "busy", check=False), 1)
        assert err == f"Error: remove busy: volume is in use - [{cid}]"
    d("rm", cid)
    assert d.out("volume", "rm", "busy") == "busy\n"
    assert names(d) == [] and not (d.root / "volumes" / "busy").exists()
    err = one_line_error(d("volume", "rm", "busy", check=False), 1)
    assert err == "Error: get busy: no such volume"
    assert d("volume", "rm", "-f", "busy").returncode == 0


def test_rm_v_and_run_rm_remove_only_anonymous_volumes(d):
    d("run", "--name", "keep", "-v", "named:/a", "-v", "/b", "busybox", "true")
    assert len(names(d)) == 2
    d("rm", "keep")  # without -v both stay
    assert len(names(d)) == 2
    anon = [n for n in names(d) if n != "named"]
    d("run", "--name", "gone", "-v", f"{anon[0]}:/x", "-v", "/c", "busybox", "true")
    d("rm", "-v", "gone")
    # the anonymous volume the container made is gone; the one it merely reused stays
    assert sorted(names(d)) == sorted(["named", anon[0]])
    d("run", "--rm", "-v", "named:/a", "-v", "/d", "busybox", "true")
    assert sorted(names(d)) == sorted(["named", anon[0]])


def test_prune_removes_unused_anonymous_volumes_unless_all(d):
    d("run", "--name", "user", "-v", "used:/a", "-v", "/anon-used", "busybox", "true")
    d("run", "--name", "gone", "-v", "/anon-free", "busybox", "true")
    d("rm", "gone")
    d("volume", "create", "--label", "keep=yes", "free")
    before = set(names(d))
    assert len(before) == 4
    out = d.out("volume", "prune", "-f")
    removed = before - set(names(d))
    assert len(removed) == 1 and FULL_NAME.fullmatch(next(iter(removed)))
    assert out.startswith("Deleted Volumes:\n" + next(iter(removed)) + "\n\nTotal reclaimed space:")
    assert d.out("volume", "prune", "-a", "-f", "--filter", "label=keep=no").endswith(
        "Total reclaimed space: 0B\n"
    )
    out = d.out("volume", "prune", "-a", "-f")
    assert out.startswith("Deleted Volumes:\nfree\n\n")
    assert len(names(d)) == 2  # both in use by "user"
    # no confirmation, nothing removed
    p = d("volume", "prune", input=b"n\n")
    assert p.returncode == 0 and len(names(d)) == 2


def test_create_ls_inspect_like_docker(d):
    assert d.out("volume", "create", "--label", "a=1", "--label", "b", "v1") == "v1\n"
    assert d.out("volume", "create", "v1") == "v1\n"  # an existing name: no error
    generated = d.out("volume", "create").strip()
    assert FULL_NAME.fullmatch(generated)
    d("run", "--rm", "-d", "--name", "holder", "-v", "v1:/v", "busybox", "sleep", "30")
    assert d.out("volume", "ls") == (
        f"DRIVER    VOLUME NAME\nlocal     {generated}\nlocal     v1\n"
    )
    assert d.out("volume", "ls", "-q", "--filter", "dangling=true") == generated + "\n"
    assert d.out("volume", "ls", "-q", "--filter", "dangling=false") == "v1\n"
    assert d.out("volume", "ls", "-q", "--filter", "label=a=1") == "v1\n"
    assert d.out("volume", "ls", "-q", "--filter", "label=b") == "v1\n"
    assert d.out("volume", "ls", "-q", "--filter", "name=v") == "v1\n"
    assert d.out("volume", "ls", "-q", "--filter", "driver=other") == ""
    assert d.out("volume", "ls", "--format", "{{.Name}} {{.Labels}}", "-f", "name=v1") == (
        "v1 a=1,b=\n"
    )
    info = json.loads(d.out("volume", "inspect", "v1"))
    assert list(info[0]) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options",
                             "Scope"]  # fmt: skip
    assert info[0]["Labels"] == {"a": "1", "b": ""} and info[0]["Options"] is None
    assert info[0]["Mountpoint"] == str(data(d, "v1")) and info[0]["Scope"] == "local"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info[0]["CreatedAt"])
    assert d.out("volume", "inspect", "-f", "{{.Driver}} {{.Name}}", "v1") == "local v1\n"
    p = d("volume", "inspect", "v1", "nope", check=False)
    assert p.returncode == 1 and p.stderr == b"Error: get nope: no such volume\n"
    d("rm", "-f", "holder")


@pytest.mark.parametrize(
    "args,needle",
    [
        (["volume", "create", "a/b"], '"a/b" includes invalid characters for a local volume name'),
        (["volume", "create", ".."], '".." includes invalid characters'),
        (["volume", "create", "x"], '"x" includes invalid characters'),
        (["volume", "create", "-d", "nfs", "v"], 'plugin "nfs" not found'),
        (["volume", "create", "-o", "colour=red", "v"], 'invalid option: "colour"'),
        (["volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=/no/such", "v"],
         "no such file or directory"),
    ],
)  # fmt: skip
def test_bad_volume_create_is_one_line_and_leaves_nothing(d, args, needle):
    err = one_line_error(d(*args, check=False), 1)
    assert needle in err
    assert names(d) == []


@pytest.mark.parametrize(
    "flags,needle",
    [
        (["-v", "../x:/data"], "includes invalid characters for a local volume name"),
        (["-v", "a/b:/data"], "includes invalid characters for a local volume name"),
        (["--mount", "type=volume,src=../x,dst=/d"], "includes invalid characters"),
        (["-v", "vv:/d", "-v", "ww:/d"], "Duplicate mount point: /d"),
        (["--mount", "type=volume,dst=/d,volume-driver=nfs"], 'volume driver "nfs"'),
        (["-v", "vv:/proc/x"], "cannot be mounted because it is inside /proc"),
    ],
)
def test_bad_volume_flags_in_run_are_125_and_create_nothing(d, flags, needle):
    err = one_line_error(d("run", "--rm", *flags, "busybox", "true", check=False), 125)
    assert needle in err
    assert names(d) == [] and d.out("ps", "-aq") == ""


def test_tmpfs_and_bind_volumes(d, tmp_path):
    d("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", "tv")
    out = d.out("run", "--rm", "-v", "tv:/t", "busybox", "sh", "-c",
                "grep ' /t ' /proc/mounts; echo x > /t/f")  # fmt: skip
    assert out.startswith("tmpfs /t tmpfs rw") and "size=1024k" in out
    assert list(data(d, "tv").iterdir()) == []  # nothing reached the disk
    host = tmp_path / "device"
    host.mkdir()
    (host / "hello").write_text("from host\n")
    d("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", f"device={host}", "bv")
    out = d.out(
        "run", "--rm", "-v", "bv:/b", "busybox", "sh", "-c", "cat /b/hello; echo w > /b/new"
    )
    assert out == "from host\n" and (host / "new").read_text() == "w\n"
    opts = json.loads(d.out("volume", "inspect", "bv"))[0]["Options"]
    assert opts == {"device": str(host), "o": "bind", "type": "none"}


def test_system_df_and_system_prune_volumes(d):
    d("run", "--name", "user", "-v", "big:/data", "busybox", "sh", "-c",
      "head -c 100000 /dev/zero > /data/z")  # fmt: skip
    d("run", "--name", "anon", "-v", "/x", "busybox", "true")
    d("rm", "anon")
    d("volume", "create", "spare")
    line = [ln for ln in d.out("system", "df").splitlines() if ln.startswith("Local Volumes")]
    assert line[0].split()[2:5] == ["3", "1", "100kB"]
    verbose = d.out("system", "df", "-v")
    assert re.search(r"^big\s+1\s+100kB$", verbose, re.M)
    assert re.search(r"^spare\s+0\s+0B$", verbose, re.M)
    cid = d.out("inspect", "--format", "{{.Id}}", "user").strip()
    out = d.out("system", "prune", "-f", "--volumes")
    assert out.startswith(f"Deleted Containers:\n{cid}\n\nDeleted Volumes:\n")
    assert sorted(names(d)) == ["big", "spare"]  # only the unused anonymous one went


def test_generic_inspect_finds_volumes(d):
    d("volume", "create", "--label", "k=v", "seen")
    assert d.out("inspect", "--format", "{{.Name}} {{.Labels.k}}", "seen") == "seen v\n"
    info = json.loads(d.out("inspect", "--type", "volume", "seen"))
    assert info[0]["Mountpoint"] == str(data(d, "seen"))
    p = d("inspect", "--type", "volume", "busybox", check=False)
    assert one_line_error(p, 1) == "Error: No such volume: busybox"


def test_rm_container_whose_supervisor_died_takes_its_anonymous_volume(d):
    import signal
    import time

    from dockyard.runtime.store import ContainerStore

    cid = d.out("run", "-d", "--rm", "-v", "/scratch", "-v", "kept:/k", "busybox", "sleep", "60")
    cid = cid.strip()
    assert len(names(d)) == 2
    st = ContainerStore(str(d.root / "metadata.db"))
    rec = st.get(cid)
    st.close()
    os.kill(rec.sup_pid, signal.SIGKILL)
    deadline = time.time() + 5
    while os.path.exists(f"/proc/{rec.pid}") and time.time() < deadline:
        time.sleep(0.02)
    assert d.out("ps", "-aq") == ""  # the next command records the death and removes it
    assert names(d) == ["kept"]
