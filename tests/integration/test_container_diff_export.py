"""`diff` (Docker's C/A/D lines) and `export` (a flat tar of the merged root)."""

import os
import pty
import subprocess

import pytest
from containerfs_support import error_line, tar_members, tar_names, with_busybox


@pytest.fixture
def d(dy, busybox_tar):
    yield from with_busybox(dy, busybox_tar)


def test_diff_lists_changes_in_dockers_order(d):
    d("run", "--name", "c1", "busybox", "sh", "-c",
      "echo hi > /x; rm -rf /home; mkdir /tmp/a; echo more >> /etc/passwd")  # fmt: skip
    # /etc/hostname and /etc/resolv.conf are mount points the engine made: not changes
    assert d.out("diff", "c1") == ("C /etc\nC /etc/passwd\nD /home\nC /tmp\nA /tmp/a\nA /x\n")


def test_diff_of_an_untouched_container_is_empty(d):
    d("run", "--name", "c1", "busybox", "true")
    assert d.out("diff", "c1") == ""
    d("create", "--name", "c2", "busybox", "true")
    assert d.out("diff", "c2") == ""


def test_diff_deleted_then_recreated_directory_is_opaque(d):
    d("run", "--name", "c1", "busybox", "sh", "-c", "rm -rf /usr && mkdir /usr && touch /usr/new")
    assert d.out("diff", "c1") == "D /usr\nA /usr/new\n"


def test_diff_leaves_out_mount_destinations(d, tmp_path):
    host = tmp_path / "vol"
    host.mkdir()
    d("run", "--name", "c1", "-v", f"{host}:/data", "--tmpfs", "/scratch",
      "-v", f"{host}:/new/nested", "busybox",
      "sh", "-c", "touch /data/f /scratch/g /kept")  # fmt: skip
    # /new holds only a mount point: made for it, not a change of the container's
    assert d.out("diff", "c1") == "A /kept\n"
    assert (host / "f").exists()


def test_diff_of_a_running_container_and_errors(d):
    d("run", "-d", "--name", "r1", "busybox", "sh", "-c", "touch /alive; sleep 60")
    for _ in range(200):
        if d.out("diff", "r1"):
            break
    assert d.out("diff", "r1") == "A /alive\n"
    p = d("diff", "nosuch", check=False)
    assert error_line(p) == "Error: No such container: nosuch"
    p = d("diff", check=False)
    assert p.returncode == 1 and b"requires exactly 1 argument" in p.stderr


def test_export_is_a_flat_tar_of_the_merged_root(d, tmp_path):
    d("run", "--name", "c1", "busybox", "sh", "-c",
      "echo hi > /x; rm -rf /home; mkdir -p /tmp/a; rm -rf /usr && mkdir /usr")  # fmt: skip
    data = d("export", "c1").stdout
    members = tar_members(data)
    names = set(members)
    assert "x" in names and "tmp/a" in names and "bin/busybox" in names
    assert "home" not in names
    assert [n for n in names if n.startswith("usr/")] == []  # the opaque dir hides the image's
    assert not any(os.path.basename(n).startswith(".wh.") for n in names)
    assert members["x"].size == 3
    assert tar_names(data)[0] == "bin"  # no entry for the root itself, sorted
    d("export", "-o", str(tmp_path / "c1.tar"), "c1")
    assert (tmp_path / "c1.tar").read_bytes() == data
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dockyard")] == []


def test_export_of_a_running_container_and_the_image_it_makes(d, tmp_path):
    d("run", "-d", "--name", "r1", "busybox", "sh", "-c", "echo live > /live; sleep 60")
    for _ in range(200):
        if "live" in tar_names(d("export", "r1").stdout):
            break
    data = d("export", "r1").stdout
    names = tar_names(data)
    assert "live" in names
    # its own mounts (/proc, /dev's tmpfs) are not part of it
    assert not any(n.startswith("proc/") for n in names)
    # export | import gives an image with the same files
    d("import", "-", "flat:1", input=data)
    assert d.out("run", "--rm", "flat:1", "cat", "/live") == "live\n"


def test_export_refuses_a_terminal_and_a_bad_target(d, tmp_path):
    d("create", "--name", "c1", "busybox", "true")
    primary, secondary = pty.openpty()
    try:
        p = subprocess.run(d.argv("export", "c1"), stdout=secondary, stderr=subprocess.PIPE,
                           env=d.env, timeout=60)  # fmt: skip
    finally:
        os.close(secondary)
        os.close(primary)
    assert p.returncode == 1
    assert p.stderr.decode() == (
        "cowardly refusing to save to a terminal. Use the -o flag or redirect\n"
    )
    p = d("export", "-o", str(tmp_path / "no" / "dir.tar"), "c1", check=False)
    assert error_line(p).startswith("failed to export container: open ")
    p = d("export", "-o", str(tmp_path / "x.tar"), "nosuch", check=False)
    assert error_line(p) == "Error: No such container: nosuch"
    assert os.listdir(tmp_path) == ["root", "state"] or "x.tar" not in os.listdir(tmp_path)
