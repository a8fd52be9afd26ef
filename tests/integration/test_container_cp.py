"""`cp` both ways, on stopped and running containers, with Docker's path rules and errors."""

import os

import pytest
from containerfs_support import error_line, make_tar, tar_members, tar_names, with_busybox


@pytest.fixture
def d(dy, busybox_tar):
    yield from with_busybox(dy, busybox_tar)


@pytest.fixture
def made(d):
    """A stopped container `c` with /data/x, /data/sub/y, a symlink /lnk -> /data/x."""
    d("run", "--name", "c1", "busybox", "sh", "-c",
      "mkdir -p /data/sub && echo one > /data/x && echo two > /data/sub/y && "
      "ln -s /data/x /lnk && chown 7:8 /data/x")  # fmt: skip
    return d


def test_cp_file_out_into_a_directory_and_to_a_new_name(made, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    made("cp", "c1:/data/x", str(out))
    assert (out / "x").read_text() == "one\n"
    # the caller owns what lands on the host (Docker's NoLchown)
    assert os.stat(out / "x").st_uid == 0
    made("cp", "c1:/data/x", str(out / "renamed"))
    assert (out / "renamed").read_text() == "one\n"
    # an existing file is replaced and keeps its name
    (out / "old").write_text("old")
    made("cp", "c1:/data/sub/y", str(out / "old"))
    assert (out / "old").read_text() == "two\n"


def test_cp_directory_out_nests_renames_or_copies_contents(made, tmp_path):
    made("cp", "c1:/data", str(tmp_path / "new"))  # missing: takes the new name
    assert (tmp_path / "new" / "sub" / "y").read_text() == "two\n"
    (tmp_path / "have").mkdir()
    made("cp", "c1:/data", str(tmp_path / "have"))  # existing dir: nested under its name
    assert (tmp_path / "have" / "data" / "x").read_text() == "one\n"
    (tmp_path / "flat").mkdir()
    made("cp", "c1:/data/.", str(tmp_path / "flat"))  # "/." copies the contents
    assert sorted(os.listdir(tmp_path / "flat")) == ["sub", "x"]


def test_cp_out_errors_have_dockers_words(made, tmp_path):
    p = made("cp", "c1:/nope", str(tmp_path), check=False)
    assert error_line(p) == "Error: No such container:path: c1:/nope"
    p = made("cp", "c1:/data/x", str(tmp_path / "missing") + "/", check=False)
    assert error_line(p) == "no such directory"
    (tmp_path / "file").write_text("f")
    p = made("cp", "c1:/data/x", str(tmp_path / "file" / "x"), check=False)
    assert error_line(p) == f"lstat {tmp_path / 'file' / 'x'}: not a directory"
    os.symlink("file/x", tmp_path / "ln")  # a parent that is a file, reached by a symlink
    p = made("cp", "c1:/data/x", str(tmp_path / "ln"), check=False)
    assert error_line(p) in ("not a directory", f"lstat {tmp_path / 'file' / 'x'}: not a directory")
    p = made("cp", "c1:/data", str(tmp_path / "file"), check=False)
    assert error_line(p) == "cannot copy directory"
    p = made("cp", "c1:/data/x", str(tmp_path / "a" / "b"), check=False)
    assert error_line(p) == f"stat {tmp_path / 'a'}: no such file or directory"
    p = made("cp", str(tmp_path / "file"), str(tmp_path / "g"), check=False)
    assert error_line(p) == "must specify at least one container source"
    p = made("cp", "c1:/data/x", "c1:/tmp", check=False)
    assert error_line(p) == "copying between containers is not supported"
    (tmp_path / "x" / "keep").mkdir(parents=True)  # never replaced by a file (Docker's rule)
    p = made("cp", "c1:/data/x", str(tmp_path), check=False)
    assert error_line(p) == 'cannot overwrite directory "x" with non-directory'
    assert (tmp_path / "x" / "keep").is_dir()
    p = made("cp", "nosuch:/x", str(tmp_path), check=False)
    assert error_line(p) == "Error: No such container: nosuch"


def test_cp_out_to_stdout_is_a_tar_stream(made):
    data = made("cp", "c1:/data", "-").stdout
    members = tar_members(data)
    assert sorted(members) == ["data", "data/sub", "data/sub/y", "data/x"]
    assert (members["data/x"].uid, members["data/x"].gid) == (7, 8)
    assert tar_names(made("cp", "c1:/data/.", "-").stdout)[:2] == [".", "./sub"]


def test_cp_follow_link(made, tmp_path):
    made("cp", "c1:/lnk", str(tmp_path))
    assert os.readlink(tmp_path / "lnk") == "/data/x"
    os.unlink(tmp_path / "lnk")
    made("cp", "-L", "c1:/lnk", str(tmp_path))
    assert not os.path.islink(tmp_path / "lnk")
    assert (tmp_path / "lnk").read_text() == "one\n"


def test_cp_in_owned_by_root_unless_archive_mode(d, tmp_path):
    src = tmp_path / "h.txt"
    src.write_text("hello\n")
    os.chown(src, 1234, 4321)
    d("create", "--name", "c1", "busybox", "sh", "-c", "ls -ln /in.txt /a.txt | awk '{print $3, $4, $9}'; cat /in.txt")  # fmt: skip
    d("cp", str(src), "c1:/in.txt")
    d("cp", "-a", str(src), "c1:/a.txt")
    out = d.out("start", "-a", "c1")
    assert out == "1234 4321 /a.txt\n0 0 /in.txt\nhello\n"


def test_cp_directory_in_with_docker_rules(d, tmp_path):
    tree = tmp_path / "tree"
    (tree / "deep").mkdir(parents=True)
    (tree / "deep" / "f").write_text("f\n")
    d("create", "--name", "c1", "busybox", "true")
    d("cp", str(tree), "c1:/newdir")  # missing: the copy takes the new name
    d("cp", str(tree), "c1:/tmp")  # existing dir: nested
    d("cp", str(tree) + "/.", "c1:/etc")  # contents into /etc
    names = tar_names(d("cp", "c1:/newdir", "-").stdout)
    assert names == ["newdir", "newdir/deep", "newdir/deep/f"]
    assert "tree/deep/f" in tar_names(d("cp", "c1:/tmp/tree", "-").stdout)
    assert "etc/deep/f" in tar_names(d("cp", "c1:/etc", "-").stdout)
    p = d("cp", str(tree / "deep" / "f"), "c1:/nodir/", check=False)
    assert error_line(p) == "no such directory"
    p = d("cp", str(tree), "c1:/etc/passwd", check=False)
    assert error_line(p) == "cannot copy directory"
    p = d("cp", str(tree / "deep" / "f"), "c1:/etc/passwd/f", check=False)
    assert error_line(p) == "Error: extraction point is not a directory"
    (tmp_path / "etc").write_text("a file named like a directory\n")
    p = d("cp", str(tmp_path / "etc"), "c1:/", check=False)
    assert error_line(p) == 'Error: cannot overwrite directory "etc" with non-directory'
    assert "etc/passwd" in tar_names(d("cp", "c1:/etc", "-").stdout)
    p = d("cp", str(tree / "deep" / "f"), "c1:/no/such/f", check=False)
    assert error_line(p) == "Error: No such container:path: c1:/no/such"
    p = d("cp", str(tmp_path / "missing"), "c1:/tmp", check=False)
    assert error_line(p) == f"lstat {tmp_path / 'missing'}: no such file or directory"


def test_cp_in_over_an_image_file_is_a_copy_up(d, tmp_path):
    (tmp_path / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    d("create", "--name", "c1", "busybox", "cat", "/etc/passwd")
    d("cp", str(tmp_path / "passwd"), "c1:/etc/passwd")
    assert d.out("diff", "c1") == "C /etc\nC /etc/passwd\n"
    assert d.out("start", "-a", "c1") == "root:x:0:0::/root:/bin/sh\n"


def test_cp_in_a_tar_from_stdin(d):
    d("create", "--name", "c1", "busybox", "true")
    tar = make_tar([("t", "dir", None), ("t/f", "file", b"x\n", 5), ("t/.wh.f2", "file", b"")])
    d("cp", "-", "c1:/tmp", input=tar)
    members = tar_members(d("cp", "c1:/tmp/t", "-").stdout)
    # whiteout names are plain files to cp; owner root without -a
    assert sorted(members) == ["t", "t/.wh.f2", "t/f"]
    assert members["t/f"].uid == 0
    d("cp", "-a", "-", "c1:/tmp", input=tar)
    assert tar_members(d("cp", "c1:/tmp/t/f", "-").stdout)["f"].uid == 5
    p = d("cp", "-", "c1:/tmp/t/f", input=tar, check=False)
    assert error_line(p) == 'destination "c1:/tmp/t/f" must be a directory'


def test_cp_both_ways_on_a_running_container(d, tmp_path):
    (tmp_path / "h.txt").write_text("hello\n")
    d("run", "-d", "--name", "r1", "busybox", "sleep", "60")
    d("cp", str(tmp_path / "h.txt"), "r1:/tmp/")
    # the container's own namespace: what its processes wrote is there too
    assert tar_members(d("cp", "r1:/tmp/h.txt", "-").stdout)["h.txt"].size == 6
    assert d.out("diff", "r1") == "C /tmp\nA /tmp/h.txt\n"
    d("cp", "r1:/tmp/h.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "hello\n"
    d("pause", "r1")
    d("cp", "r1:/etc/passwd", str(tmp_path / "pw"))  # a paused container still copies
    d("unpause", "r1")
    assert (tmp_path / "pw").read_text().startswith("root:")


def test_cp_follows_a_destination_symlink_inside_the_container(d, tmp_path):
    (tmp_path / "f").write_text("f\n")
    d("run", "--name", "c1", "busybox", "ln", "-s", "/tmp", "/ln")
    d("cp", str(tmp_path / "f"), "c1:/ln")
    assert d.out("diff", "c1") == "A /ln\nC /tmp\nA /tmp/f\n"


def test_cp_into_a_read_only_rootfs_is_refused(d, tmp_path):
    (tmp_path / "f").write_text("f\n")
    d("create", "--read-only", "--name", "c1", "busybox", "true")
    p = d("cp", str(tmp_path / "f"), "c1:/tmp", check=False)
    assert error_line(p) == "Error: container rootfs is marked read-only"


def test_cp_sees_a_stopped_containers_bind_mounts(d, tmp_path):
    vol, ro = tmp_path / "vol", tmp_path / "ro"
    vol.mkdir()
    ro.mkdir()
    (ro / "r.txt").write_text("read only\n")
    (tmp_path / "f").write_text("f\n")
    d("run", "--name", "c1", "-v", f"{vol}:/data", "-v", f"{ro}:/ro:ro", "busybox",
      "sh", "-c", "echo from-container > /data/c.txt")  # fmt: skip
    d("cp", str(tmp_path / "f"), "c1:/data/")
    assert (vol / "f").read_text() == "f\n"  # into the bind source, as Docker does
    assert _content(d("cp", "c1:/data/c.txt", "-").stdout, "c.txt") == "from-container\n"
    assert _content(d("cp", "c1:/ro/r.txt", "-").stdout, "r.txt") == "read only\n"
    p = d("cp", str(tmp_path / "f"), "c1:/ro/", check=False)
    assert error_line(p) == "Error: mounted volume is marked read-only"
    assert sorted(os.listdir(ro)) == ["r.txt"]
    # export is the container's own filesystem: no bind contents
    assert "data/f" not in tar_names(d("export", "c1").stdout)


def _content(data: bytes, name: str) -> str:
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.extractfile(name).read().decode()


def test_cp_into_and_out_of_a_stopped_containers_volumes(d, tmp_path):
    import json

    (tmp_path / "f").write_text("f\n")
    d("volume", "create", "named")
    # never started: its mount points are not in its filesystem yet
    cid = d.out("create", "--name", "c1", "-v", "named:/data", "-v", "/anon", "busybox",
                "cat", "/data/f", "/data/v.txt", "/anon/g").strip()  # fmt: skip
    d("cp", str(tmp_path / "f"), "c1:/data/")
    d("cp", str(tmp_path / "f"), "c1:/anon/g")
    named = json.loads(d.out("volume", "inspect", "named"))[0]["Mountpoint"]
    assert sorted(os.listdir(named)) == ["f"]  # into the volume, as Docker does
    mounts = json.loads(d.out("inspect", "c1"))[0]["Mounts"]
    anon = next(m["Source"] for m in mounts if m["Destination"] == "/anon")
    assert sorted(os.listdir(anon)) == ["g"]
    with open(os.path.join(named, "v.txt"), "w") as f:
        f.write("from-volume\n")
    assert _content(d("cp", "c1:/data/v.txt", "-").stdout, "v.txt") == "from-volume\n"
    assert _content(d("cp", "c1:/anon/g", "-").stdout, "g") == "f\n"
    # out of a container whose mount point was never made: read from the volume
    d("create", "--name", "c2", "-v", "named:/elsewhere", "busybox", "true")
    got = _content(d("cp", "c2:/elsewhere/v.txt", "-").stdout, "v.txt")
    assert got == "from-volume\n"
    d("rm", "c2")
    # nothing went into the container's own layer under the mount points
    upper = d.root / "containers" / cid / "diff"
    assert not (upper / "data" / "f").exists() and not (upper / "anon" / "g").exists()
    assert d.out("start", "-a", "c1") == "f\nfrom-volume\nf\n"
    d("rm", "-v", "c1")
    d("volume", "rm", "named")
