"""apply_layer as root on the real kernel: owners, setuid, devices, capabilities, overlayfs
whiteouts, and overlay mounts of applied layers; write_tree of a real overlay upper dir."""

import io
import os
import stat
import struct
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from dockyard.archive.apply import apply_layer
from dockyard.archive.tarwriter import TarWriter, write_tree

# struct vfs_cap_data, revision 2: CAP_NET_BIND_SERVICE (10) permitted + effective
CAP_NET_BIND_SERVICE = struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0)


def layer(build) -> io.BytesIO:
    buf = io.BytesIO()
    w = TarWriter(buf)
    build(w)
    w.close()
    buf.seek(0)
    return buf


@pytest.fixture
def target(tmp_path) -> str:
    t = tmp_path / "target"
    t.mkdir()
    return str(t)


def test_owners_and_setuid_bits_survive_chown(target):
    def build(w):
        w.add_dir("srv", mode=0o2750, uid=1, gid=2)
        w.add_file("srv/su", b"#!", mode=0o4755, uid=1234, gid=5678)
        w.add_file("srv/sg", b"#!", mode=0o2711, uid=0, gid=42)
        w.add_symlink("srv/link", "su", uid=7, gid=8)
        w.add_dir("tmp", mode=0o1777)

    apply_layer(layer(build), target)
    st = os.stat(target + "/srv/su")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o4755)
    assert stat.S_IMODE(os.stat(target + "/srv/sg").st_mode) == 0o2711
    st = os.stat(target + "/srv")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1, 2, 0o2750)
    st = os.lstat(target + "/srv/link")
    assert (st.st_uid, st.st_gid) == (7, 8)
    assert stat.S_IMODE(os.stat(target + "/tmp").st_mode) == 0o1777


def test_same_owner_false_keeps_the_caller_as_owner(target):
    apply_layer(
        layer(lambda w: w.add_file("f", b"x", mode=0o4755, uid=1234, gid=5678)),
        target,
        same_owner=False,
    )
    st = os.stat(target + "/f")
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())


def test_devices_and_fifos(target):
    def build(w):
        w.add_device("dev/null", "char", 1, 3, mode=0o666, uid=0, gid=0)
        w.add_device("dev/loop9", "block", 7, 9, mode=0o660, gid=6)
        w.add_fifo("run/fifo", mode=0o620, uid=5)

    apply_layer(layer(build), target)
    st = os.lstat(target + "/dev/null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert stat.S_IMODE(st.st_mode) == 0o666
    with open(target + "/dev/null", "wb") as f:
        f.write(b"gone")  # a working device node
    st = os.lstat(target + "/dev/loop9")
    assert stat.S_ISBLK(st.st_mode) and st.st_rdev == os.makedev(7, 9) and st.st_gid == 6
    st = os.lstat(target + "/run/fifo")
    assert stat.S_ISFIFO(st.st_mode) and st.st_uid == 5


def test_capability_and_trusted_xattrs(target):
    def build(w):
        w.add_file(
            "bin/ping",
            b"\x7fELF",
            mode=0o755,
            xattrs={
                "security.capability": CAP_NET_BIND_SERVICE,
                "trusted.note": b"t",
                "user.note": b"u",
                "security.selinux": b"system_u:object_r:bin_t",
            },
        )

    apply_layer(layer(build), target)
    p = target + "/bin/ping"
    assert os.getxattr(p, "security.capability") == CAP_NET_BIND_SERVICE
    assert os.getxattr(p, "trusted.note") == b"t"
    assert os.getxattr(p, "user.note") == b"u"
    assert "security.selinux" not in os.listxattr(p)
    # and write_tree carries them on
    buf = io.BytesIO()
    write_tree(target, buf)
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as t:
        pax = t.getmember("bin/ping").pax_headers
    assert "SCHILY.xattr.security.capability" in pax and "SCHILY.xattr.trusted.note" in pax


def test_overlay_mode_makes_whiteout_devices_and_opaque_dirs(target):
    def build(w):
        w.add_file(".wh.gone", b"", uid=3, gid=4)
        w.add_dir("d")
        w.add_file("d/.wh..wh..opq", b"")
        w.add_file("d/new", b"n")
        w.add_file("deep/er/.wh.x", b"")

    r = apply_layer(layer(build), target, whiteouts="overlay")
    assert r.entries == 5
    st = os.lstat(target + "/gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0 and (st.st_uid, st.st_gid) == (3, 4)
    assert os.getxattr(target + "/d", "trusted.overlay.opaque") == b"y"
    assert os.listdir(target + "/d") == ["new"]
    assert stat.S_ISCHR(os.lstat(target + "/deep/er/x").st_mode)


def _mount_overlay(opts: str, mnt: str) -> None:
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, mnt], check=True)


def _umount(mnt: str) -> None:
    subprocess.run(["umount", mnt], check=True)


def test_overlay_mount_of_two_applied_layers(tmp_path):
    l1, l2, mnt = (str(tmp_path / n) for n in ("l1", "l2", "mnt"))
    for d in (l1, l2, mnt):
        os.mkdir(d)

    def base(w):
        w.add_dir("etc")
        w.add_file("etc/keep", b"k")
        w.add_file("etc/gone", b"g")
        w.add_dir("cache")
        w.add_file("cache/old", b"o")

    def top(w):
        w.add_file("etc/.wh.gone", b"")
        w.add_dir("cache")
        w.add_file("cache/.wh..wh..opq", b"")
        w.add_file("cache/new", b"n")

    apply_layer(layer(base), l1, whiteouts="overlay")
    apply_layer(layer(top), l2, whiteouts="overlay")
    _mount_overlay(f"lowerdir={l2}:{l1}", mnt)
    try:
        assert sorted(os.listdir(mnt + "/etc")) == ["keep"]
        assert sorted(os.listdir(mnt + "/cache")) == ["new"]
        assert Path(mnt + "/etc/keep").read_bytes() == b"k"
    finally:
        _umount(mnt)


def _view(top: str) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            data = Path(p).read_bytes() if stat.S_ISREG(st.st_mode) else None
            out[os.path.relpath(p, top)] = (stat.S_IFMT(st.st_mode), data)
    return out


def test_write_tree_of_a_real_overlay_upper_dir_replays_the_changes(tmp_path):
    lower, upper, work, mnt, flat = (
        str(tmp_path / n) for n in ("lower", "upper", "work", "mnt", "flat")
    )
    for d in (lower, upper, work, mnt, flat):
        os.mkdir(d)

    def base(w):
        w.add_dir("a")
        w.add_file("a/deleted", b"d")
        w.add_file("a/kept", b"k")
        w.add_dir("replaced")
        w.add_file("replaced/old", b"o")

    apply_layer(layer(base), lower)
    apply_layer(layer(base), flat)
    _mount_overlay(f"lowerdir={lower},upperdir={upper},workdir={work}", mnt)
    try:
        os.unlink(mnt + "/a/deleted")
        subprocess.run(["rm", "-rf", mnt + "/replaced"], check=True)
        os.mkdir(mnt + "/replaced")  # overlayfs makes this an opaque dir in upper
        Path(mnt + "/replaced/new").write_bytes(b"n")
        Path(mnt + "/a/added").write_bytes(b"a")
        merged = _view(mnt)
    finally:
        _umount(mnt)
    buf = io.BytesIO()
    write_tree(upper, buf, overlay_upper=True)
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as t:
        names = t.getnames()
    assert "a/.wh.deleted" in names and "replaced/.wh..wh..opq" in names
    buf.seek(0)
    apply_layer(buf, flat)  # "delete" mode replays the diff on a flat copy of lower
    assert _view(flat) == merged


def test_timing_100mb_layer_against_gnu_tar(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    blob = os.urandom(1 << 20)
    for i in range(60):  # 60 MiB in 1 MiB files
        (src / f"big{i}").write_bytes(blob)
    for d in range(40):  # 40 MiB in 10,000 small files of 4 KiB
        sub = src / f"d{d}"
        sub.mkdir()
        for i in range(250):
            (sub / f"f{i}").write_bytes(blob[i * 4096 : (i + 1) * 4096])
    tar_path = tmp_path / "layer.tar"
    t0 = time.perf_counter()
    with open(tar_path, "wb") as f:
        write_tree(str(src), f)
    t_write = time.perf_counter() - t0
    ours, gnu = tmp_path / "ours", tmp_path / "gnu"
    ours.mkdir()
    gnu.mkdir()
    subprocess.run(["sync"], check=True)
    t0 = time.perf_counter()
    with open(tar_path, "rb") as f:
        r = apply_layer(f, str(ours))
    t_apply = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run(["tar", "-xf", str(tar_path), "-C", str(gnu)], check=True)
    t_gnu = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run(["tar", "-cf", str(tmp_path / "gnu.tar"), "-C", str(src), "."], check=True)
    t_gnu_c = time.perf_counter() - t0
    assert r.size == (60 << 20) + 40 * 250 * 4096
    assert _view(str(ours)) == _view(str(gnu))
    with capsys.disabled():
        mb = os.path.getsize(tar_path) / 1e6
        print(
            f"\n[timing] {mb:.0f} MB tar, {r.entries} entries: apply_layer {t_apply:.2f}s vs "
            f"tar -x {t_gnu:.2f}s; write_tree {t_write:.2f}s vs tar -c {t_gnu_c:.2f}s"
        )
