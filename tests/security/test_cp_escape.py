"""`cp` cannot be steered outside the container by what the container holds: symlinks to `/`
or up through `..`, in the source, in the destination, or in a hostile tar on copy-in.

The host side of every attack is a sentinel directory under the test's tmp dir; the copies
that could write run in the `confined` child (read-only host but for the tmp dir), so a
regression can damage nothing but the sentinel, which the test then finds changed.
"""

import io
import os
import subprocess
import tarfile

import pytest
from hostile_support import snapshot

SECRET = "host secret\n"


@pytest.fixture
def d(dy, busybox_tar):
    dy("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    yield dy
    ids = dy.out("ps", "-aq").split()
    if ids:
        dy("rm", "-f", *ids, check=False)
    with open("/proc/self/mountinfo") as f:
        assert [ln for ln in f if str(dy.root) in ln] == [], "mounts leaked onto the host"


@pytest.fixture
def sentinel(tmp_path):
    s = tmp_path / "sentinel"
    s.mkdir()
    (s / "secret.txt").write_text(SECRET)
    return s


def _container(d, state: str, script: str) -> str:
    """A container named c1 that ran `script` (state "stopped") or runs it, then sleeps."""
    if state == "stopped":
        d("run", "--name", "c1", "busybox", "sh", "-c", script)
    else:
        d("run", "-d", "--name", "c1", "busybox", "sh", "-c", f"{script}; touch /ready; sleep 60")
        for _ in range(400):
            if d("cp", "c1:/ready", "-", check=False).returncode == 0:
                break
    return "c1"


def _names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.getnames()


def _content(data: bytes, name: str) -> str:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.extractfile(name).read().decode()


@pytest.mark.parametrize("state", ["stopped", "running"])
def test_cp_out_through_symlinks_reads_the_containers_files(d, sentinel, state):
    s = str(sentinel)
    _container(d, state, f"mkdir -p {s} && echo decoy > {s}/secret.txt && "
               f"ln -s / /esc && ln -s ../../../../../../../.. /up && "
               f"ln -s {s}/secret.txt /abs && ln -s ../../../../../..{s}/secret.txt /rel && "
               f"ln -s /loop /loop")  # fmt: skip
    for src in (f"/esc{s}/secret.txt", f"/up{s}/secret.txt", f"/esc/../../..{s}/secret.txt"):
        data = d("cp", f"c1:{src}", "-").stdout
        assert _content(data, "secret.txt") == "decoy\n", src
    for link in ("/abs", "/rel"):
        # -L to stdout: the archive of the link's target, under the target's name (Docker's)
        data = d("cp", "-L", f"c1:{link}", "-").stdout
        assert _content(data, "secret.txt") == "decoy\n", link
    p = d("cp", "c1:/loop/x", "-", check=False)
    assert p.returncode == 1 and b"Traceback" not in p.stderr
    assert (sentinel / "secret.txt").read_text() == SECRET


@pytest.mark.parametrize("state", ["stopped", "running"])
def test_cp_out_cannot_read_a_host_only_path(d, sentinel, state):
    s = str(sentinel)
    _container(d, state, f"ln -s {s} /hostonly && ln -s ../../../../../../..{s} /uponly")
    for src in ("/hostonly/secret.txt", "/uponly/secret.txt", f"/esc{s}/secret.txt"):
        p = d("cp", f"c1:{src}", "-", check=False)
        assert p.returncode == 1, src
        assert SECRET.encode() not in p.stdout
    p = d("cp", "c1:/hostonly/.", "-", check=False)
    assert p.returncode == 1 and SECRET.encode() not in p.stdout


@pytest.mark.parametrize("state", ["stopped", "running"])
def test_cp_in_through_symlinks_writes_inside_the_container(d, tmp_path, sentinel, confined, state):
    s = str(sentinel)
    _container(d, state, f"ln -s {s} /target && ln -s ../../../../../../..{s} /rel && "
               f"mkdir -p /inside{s} && ln -s /inside{s} /ok")  # fmt: skip
    payload = tmp_path / "payload.txt"
    payload.write_text("payload\n")
    before = snapshot(sentinel)

    def attack():
        codes = []
        for dest in ("/target/", "/rel/", "/target", "/rel", f"/target/../../..{s}/",
                     "/ok/"):  # fmt: skip
            p = subprocess.run(d.argv("cp", str(payload), f"c1:{dest}"), capture_output=True,
                               env=d.env, timeout=60)  # fmt: skip
            codes.append(p.returncode)
        return codes

    confined(str(tmp_path), attack)
    assert snapshot(sentinel) == before
    assert (sentinel / "secret.txt").read_text() == SECRET
    # the copies landed inside the container: through /ok, and through /target and /rel
    # resolved inside it (where they name a path that does not exist, the copy fails)
    assert _content(d("cp", f"c1:/inside{s}/payload.txt", "-").stdout, "payload.txt") == (
        "payload\n"
    )


def _hostile_tar(target: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:

        def add(name, kind="file", data=b"pwned\n", link=""):
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
                return
            info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[kind]
            info.linkname = link
            t.addfile(info)

        add("../../../../../../../.." + target + "/dotdot.txt")
        add(target + "/absolute.txt")
        add("lnk", "symlink", link=target)
        add("lnk/through-symlink.txt")
        add("up", "symlink", link="../../../../../../../.." + target)
        add("up/through-up.txt")
        add("hard", "hardlink", link=target + "/secret.txt")
        add("hard2", "hardlink", link="../../../../../../../.." + target + "/secret.txt")
        add(".wh.secret.txt", data=b"")
    return buf.getvalue()


@pytest.mark.parametrize("state", ["stopped", "running"])
def test_cp_in_a_hostile_tar_stays_inside(d, tmp_path, sentinel, confined, state):
    _container(d, state, "mkdir -p /drop")
    tar = _hostile_tar(str(sentinel))
    before = snapshot(sentinel)

    def attack():
        p = subprocess.run(d.argv("cp", "-", "c1:/drop"), input=tar, capture_output=True,
                           env=d.env, timeout=60)  # fmt: skip
        return p.returncode, p.stderr.decode()

    code, err = confined(str(tmp_path), attack)
    assert "Traceback" not in err
    assert code in (0, 1), err
    assert snapshot(sentinel) == before
    assert (sentinel / "secret.txt").read_text() == SECRET


def test_cp_in_makes_a_volumes_mount_point_inside_the_container(d, tmp_path, sentinel, confined):
    import json

    s = str(sentinel)
    # an image whose /vlink names the host's sentinel: a volume below it, never mounted yet
    d("run", "--name", "base", "busybox", "ln", "-s", s, "/vlink")
    d("commit", "base", "evil:1")
    d("create", "--name", "c1", "-v", "named:/vlink/sub", "evil:1", "true")
    payload = tmp_path / "payload.txt"
    payload.write_text("payload\n")
    before = snapshot(sentinel)

    def attack():
        p = subprocess.run(d.argv("cp", str(payload), "c1:/vlink/sub/"), capture_output=True,
                           env=d.env, timeout=60)  # fmt: skip
        return p.returncode

    assert confined(str(tmp_path), attack) == 0
    assert snapshot(sentinel) == before
    # the mount point was made inside the container, and the copy went into the volume
    named = json.loads(d.out("volume", "inspect", "named"))[0]["Mountpoint"]
    assert os.listdir(named) == ["payload.txt"]
    d("rm", "-f", "c1", "base")
    d("volume", "rm", "named")
