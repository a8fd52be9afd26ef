"""The container init on the real kernel: a busybox rootfs, Docker's default capabilities,
seccomp profile, masks and devices. Every container is a cloned child in its own mount,
pid, uts and ipc namespaces, so the host is never touched."""

import ctypes
import os
import shutil
import subprocess
import tempfile

import pytest

from dockyard.errors import NotFound
from dockyard.linux import caps, init, mounts
from dockyard.linux import syscalls as S
from dockyard.linux.seccomp import cache, default, profile


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="dy-linux-")
    yield d
    with open("/proc/self/mountinfo") as f:
        leftovers = [line for line in f if d in line]
    # never rmtree through a leaked mount: it could reach host files
    assert leftovers == [], "mounts leaked onto the host"
    shutil.rmtree(d)


@pytest.fixture
def rootfs(workdir, busybox_tar):
    r = os.path.join(workdir, "rootfs")
    os.mkdir(r)
    subprocess.run(["tar", "-x", "-f", str(busybox_tar), "-C", r], check=True)
    return r


@pytest.fixture(scope="module")
def default_bpf(tmp_path_factory):
    d = tmp_path_factory.mktemp("seccomp-cache")
    r = profile.resolve(default.default_profile(), caps.names(caps.resolve()))
    _, bpf = cache.get_or_compile(str(d), r)
    yield bpf
    shutil.rmtree(d)


def run(script: str, rootfs: str | None = None, spec=None, **kw) -> tuple[int, str]:
    """Run `sh -c script` as a container; return (exit code, stdout+stderr)."""
    r, w = os.pipe()
    cfg = init.InitConfig(
        argv=("/bin/sh", "-c", script),
        rootfs=spec or mounts.RootfsSpec(rootfs=rootfs),
        stdio=(0, w, w),
        **kw,
    )
    try:
        h = init.spawn(cfg)
    finally:
        os.close(w)
    with os.fdopen(r, "rb") as f:
        h.wait_exec()
        out = f.read().decode()
    _, st = os.waitpid(h.pid, 0)
    return os.waitstatus_to_exitcode(st), out


def status(out: str) -> dict[str, str]:
    return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)


def test_default_container_has_dockers_caps_nnp_and_seccomp(rootfs, default_bpf):
    code, out = run("cat /proc/self/status", rootfs, caps=caps.resolve(), seccomp_bpf=default_bpf)
    st = status(out)
    assert code == 0
    assert st["CapEff"] == st["CapPrm"] == st["CapBnd"] == "00000000a80425fb"
    assert st["CapInh"] == st["CapAmb"] == "0000000000000000"
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"


def test_pid_one_and_hostname(rootfs):
    code, out = run("echo $$; hostname; ps -o pid | wc -l", rootfs, hostname="box-7")
    pid, host, nprocs = out.split()
    assert (code, pid, host) == (0, "1", "box-7")
    assert int(nprocs) <= 4  # header, sh, ps, wc: the host's processes are invisible
    assert os.uname().nodename != "box-7"


def test_default_profile_denies_namespaces_and_mounts_but_not_work(rootfs, default_bpf):
    script = (
        "unshare -U true; echo unshare=$?; unshare -m true; echo unshare_m=$?;"
        "mount -t tmpfs none /tmp; echo mount=$?;"
        "echo hello > /tmp/f && cat /tmp/f && ls /bin/busybox"
    )
    code, out = run(script, rootfs, caps=caps.resolve(), seccomp_bpf=default_bpf)
    assert "unshare=1" in out and "unshare_m=1" in out and "mount=1" in out
    assert "Operation not permitted" in out
    assert "hello\n/bin/busybox" in out and code == 0


def test_same_container_without_seccomp_can_unshare_a_user_ns(rootfs):
    # the control for the test above: it is the filter, not a missing tool, that says no
    _code, out = run("unshare -U true; echo unshare=$?", rootfs, caps=caps.resolve())
    assert "unshare=0" in out


def test_masked_paths_read_empty_and_readonly_paths_refuse_writes(rootfs):
    script = (
        "for p in /proc/keys /proc/timer_list /proc/interrupts; do"
        " [ -e $p ] && echo $p=$(cat $p | wc -c); done;"
        "echo firmware=$(ls /sys/firmware | wc -l);"
        "echo x > /sys/firmware/x; echo fw_write=$?;"
        "echo box > /proc/sys/kernel/hostname; echo sys_write=$?;"
        "echo 1 > /proc/irq/default_smp_affinity; echo irq_write=$?"
    )
    _code, out = run(script, rootfs, caps=caps.resolve())
    assert "/proc/keys=0" in out and "/proc/timer_list=0" in out and "/proc/interrupts=0" in out
    assert "firmware=0" in out and "fw_write=1" in out
    assert "sys_write=1" in out and "irq_write=1" in out
    assert "Read-only file system" in out


def test_dev_holds_only_the_allowed_nodes(rootfs):
    _code, out = run(
        "ls /dev; echo; head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo null-ok;"
        "readlink /dev/ptmx; readlink /dev/fd; ls /dev/pts",
        rootfs,
        caps=caps.resolve(),
    )
    listing = out.split("\n\n")[0].split()
    assert listing == sorted(
        [
            "fd",
            "full",
            "mqueue",
            "null",
            "ptmx",
            "pts",
            "random",
            "shm",
            "stderr",
            "stdin",
            "stdout",
            "tty",
            "urandom",
            "zero",
        ]
    )
    assert "4\nnull-ok\npts/ptmx\n/proc/self/fd" in out
    assert "ptmx" in out.split("/proc/self/fd")[1]  # a private devpts instance


def test_user_switch_bounds_caps_like_docker(rootfs, default_bpf):
    # the init keeps its capabilities across setuid; exec as a non-root user then leaves the
    # process only the bounding set, as in Docker (no ambient capabilities)
    _code, out = run(
        "id -u; id -g; grep -E 'CapEff|CapBnd' /proc/self/status",
        rootfs,
        caps=caps.resolve(),
        uid=65534,
        gid=65534,
        groups=(),
        seccomp_bpf=default_bpf,
    )
    assert out.split()[:2] == ["65534", "65534"]
    st = status(out)
    assert st["CapBnd"] == "00000000a80425fb" and st["CapEff"] == "0000000000000000"


def test_no_host_descriptor_reaches_the_container(rootfs):
    leak = os.open(__file__, os.O_RDONLY)  # inheritable on purpose
    os.set_inheritable(leak, True)
    try:
        _code, out = run("ls /proc/self/fd", rootfs)
    finally:
        os.close(leak)
    assert sorted(out.split()) == ["0", "1", "2", "3"]  # 3 is ls's own directory


def test_symlink_in_the_image_cannot_aim_a_mount_at_the_host(rootfs, workdir):
    host_dir = os.path.join(workdir, "host-target")
    os.mkdir(host_dir)
    os.symlink("/../../../../../.." + host_dir, os.path.join(rootfs, "evil"))
    spec = mounts.RootfsSpec(
        rootfs=rootfs,
        mounts=(mounts.Mount("/evil/sub", "tmpfs", options=("size=1m",)),),
    )
    code, out = run("echo secret > /evil/sub/f && cat /evil/sub/f", spec=spec)
    assert code == 0 and "secret" in out
    assert os.listdir(host_dir) == []
    inside = rootfs + host_dir + "/sub"
    assert os.path.isdir(inside) and os.listdir(inside) == []  # tmpfs gone with the container


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_a_dangling_symlink_as_mount_target_is_made_inside_the_root(rootfs, workdir, kind):
    # the target is missing: made where the kernel resolves it in the root, not on the host
    host_path = os.path.join(workdir, "host-made")
    os.symlink("/../../../../../.." + host_path, os.path.join(rootfs, "etc", "target"))
    src = os.path.join(workdir, "src")
    if kind == "dir":
        os.mkdir(src)
        with open(os.path.join(src, "f"), "w") as f:
            f.write("bound\n")
    else:
        with open(src, "w") as f:
            f.write("bound\n")
    spec = mounts.RootfsSpec(rootfs=rootfs, mounts=(mounts.Mount("/etc/target", "bind", src),))
    code, out = run("cat /etc/target" + ("/f" if kind == "dir" else ""), spec=spec)
    assert code == 0 and out == "bound\n"
    assert not os.path.lexists(host_path)
    assert os.path.lexists(rootfs + host_path)


def test_a_missing_mount_target_is_made_with_its_kind(rootfs, workdir):
    src = os.path.join(workdir, "one")
    with open(src, "w") as f:
        f.write("1\n")
    spec = mounts.RootfsSpec(
        rootfs=rootfs,
        mounts=(
            mounts.Mount("/etc/new-file", "bind", src),
            mounts.Mount("/new-dir", "bind", workdir),
        ),
    )
    code, out = run("cat /etc/new-file; ls /new-dir", spec=spec)
    assert code == 0 and out.split() == ["1", "one", "rootfs"]
    assert os.path.isfile(os.path.join(rootfs, "etc", "new-file"))
    assert os.path.isdir(os.path.join(rootfs, "new-dir"))


def test_bind_mounts_read_only_and_tmpfs(rootfs, workdir):
    data = os.path.join(workdir, "data")
    os.mkdir(data)
    with open(os.path.join(data, "in.txt"), "w") as f:
        f.write("from host\n")
    spec = mounts.RootfsSpec(
        rootfs=rootfs,
        mounts=(
            mounts.Mount("/data", "bind", data, ("ro",)),
            mounts.Mount("/scratch", "tmpfs", options=("size=1m", "mode=1777", "noexec")),
        ),
    )
    _code, out = run(
        "cat /data/in.txt; echo x > /data/new; echo w=$?;"
        "echo y > /scratch/f && cat /scratch/f; grep -E ' /(data|scratch) ' /proc/mounts",
        spec=spec,
    )
    assert "from host" in out and "w=1" in out and "y\n" in out
    assert " /data " in out and "ro," in out.split(" /data ")[1].split("\n")[0]
    assert "noexec" in out.split(" /scratch ")[1].split("\n")[0]
    assert os.listdir(data) == ["in.txt"]


def test_missing_bind_source_and_missing_binary_are_reported(rootfs):
    spec = mounts.RootfsSpec(rootfs=rootfs, mounts=(mounts.Mount("/x", "bind", "/no/such/dir"),))
    with pytest.raises(NotFound, match="bind source path does not exist"):
        run("true", spec=spec)
    r, w = os.pipe()
    os.close(r)
    with pytest.raises(NotFound, match="No such file"):
        h = init.spawn(init.InitConfig(argv=("/bin/nope",), rootfs=mounts.RootfsSpec(rootfs)))
        h.wait_exec()
    os.close(w)


def test_overlay_volatile_rootfs_writes_to_upper_only(rootfs, workdir):
    upper, work, mnt = (os.path.join(workdir, n) for n in ("upper", "work", "mnt"))
    for d in (upper, work, mnt):
        os.mkdir(d)
    empty = os.path.join(workdir, "empty-layer")
    os.mkdir(empty)
    spec = mounts.RootfsSpec(
        rootfs=mnt, lowerdirs=(empty, rootfs), upperdir=upper, workdir=work, volatile=True
    )
    code, out = run("echo new > /created; rm /bin/vi; grep ' / ' /proc/mounts", spec=spec)
    assert code == 0 and "overlay" in out and "volatile" in out
    assert os.path.exists(os.path.join(upper, "created"))
    assert not os.path.exists(os.path.join(rootfs, "created"))
    assert os.path.lexists(os.path.join(rootfs, "bin", "vi"))  # lower untouched


def test_readonly_rootfs(rootfs):
    _code, out = run(
        "touch /x; echo root=$?; touch /dev/shm/y; echo shm=$?",
        spec=mounts.RootfsSpec(rootfs=rootfs, readonly=True),
    )
    assert "root=1" in out and "shm=0" in out


def test_barrier_holds_the_init_until_released(rootfs):
    br, bw = os.pipe()
    r, w = os.pipe()
    cfg = init.InitConfig(
        argv=("/bin/sh", "-c", "echo started"),
        rootfs=mounts.RootfsSpec(rootfs),
        stdio=(0, w, w),
        barrier_fd=br,
    )
    h = init.spawn(cfg)
    os.close(w)
    os.close(br)
    with open(f"/proc/{h.pid}/cmdline", "rb") as f:
        assert b"/bin/sh" not in f.read()  # set up, waiting, not yet exec'd
    init.release(bw)
    os.close(bw)
    h.wait_exec()
    with os.fdopen(r, "rb") as f:
        assert f.read() == b"started\n"
    os.waitpid(h.pid, 0)


def _in_child(fn) -> str:
    """Run fn in a forked child (so its seccomp filter dies with it); return what it returns."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            msg = fn()
        except BaseException as e:
            msg = f"error: {e!r}"
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    os.waitpid(pid, 0)
    return out


def test_default_filter_at_the_syscall_level(default_bpf):
    def probe() -> str:
        import socket

        sc = S.Syscalls()
        sc.set_no_new_privs()
        from dockyard.linux import seccomp

        seccomp.load(default_bpf, sc)
        libc = ctypes.CDLL(None, use_errno=True)
        results = []
        for name, nr, args in (
            ("keyctl", 250, (0, 0, 0)),
            ("bpf", 321, (0, 0, 0)),
            ("add_key", 248, (0, 0, 0, 0, 0)),
            ("unshare", 272, (S.CLONE_NEWNS,)),
            ("mount", 165, (0, 0, 0)),
            ("clone3", 435, (0, 0)),
            ("getpid", 39, ()),
        ):
            ctypes.set_errno(0)
            rc = libc.syscall(nr, *args)
            results.append(f"{name}={rc if rc >= 0 else -ctypes.get_errno()}")
        for fam in (socket.AF_VSOCK, socket.AF_ALG):
            try:
                socket.socket(fam, socket.SOCK_STREAM if fam == socket.AF_VSOCK else 5)
                results.append(f"family{fam}=ok")
            except OSError as e:
                results.append(f"family{fam}={-e.errno}")
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
        child = os.fork()  # clone without namespace flags is fine
        if child == 0:
            os._exit(5)
        _, st = os.waitpid(child, 0)
        results.append(f"fork={os.waitstatus_to_exitcode(st)}")
        with open(__file__) as f:
            results.append(f"read={bool(f.read())}")
        return " ".join(results)

    out = _in_child(probe)
    assert "keyctl=-1 " in out and "unshare=-1 " in out and "mount=-1 " in out  # EPERM
    assert "bpf=-1 " in out and "add_key=-1 " in out
    assert "clone3=-38 " in out  # ENOSYS, so libcs fall back to clone
    assert "getpid=-" not in out
    assert "family40=-1" in out and "family38=-1" in out
    assert "fork=5" in out and "read=True" in out


def test_clone_refuses_non_namespace_flags_and_threads():
    from dockyard.errors import FailedPrecondition, InvalidArgument

    sc = S.Syscalls()
    with pytest.raises(InvalidArgument):
        sc.clone(0x100)  # CLONE_VM

    def threaded() -> str:
        import threading

        ev = threading.Event()
        t = threading.Thread(target=ev.wait)
        t.start()
        try:
            sc.clone(S.CLONE_NEWPID)
            return "cloned"
        except FailedPrecondition as e:
            return f"refused: {e}"
        finally:
            ev.set()
            t.join()

    assert _in_child(threaded).startswith("refused")


def test_setns_joins_a_running_containers_namespaces(rootfs):
    r, w = os.pipe()
    stdin, stdin_w = os.pipe()
    h = init.spawn(
        init.InitConfig(
            argv=("/bin/sh", "-c", "echo UP; read x"),
            rootfs=mounts.RootfsSpec(rootfs),
            hostname="inside",
            stdio=(stdin, w, w),
        )
    )
    os.close(w)
    os.close(stdin)
    h.wait_exec()
    with os.fdopen(r, "rb") as out:
        assert out.readline() == b"UP\n"

        def enter() -> str:
            sc = S.Syscalls()
            for ns, flag in (("uts", S.CLONE_NEWUTS), ("mnt", S.CLONE_NEWNS)):
                fd = os.open(f"/proc/{h.pid}/ns/{ns}", os.O_RDONLY)
                sc.setns(fd, flag)
                os.close(fd)
            return f"{os.uname().nodename} {os.path.exists('/bin/busybox')} {os.listdir('/etc')}"

        got = _in_child(enter)
        os.close(stdin_w)
    os.waitpid(h.pid, 0)
    host, busybox, etc = got.split(" ", 2)
    assert (host, busybox) == ("inside", "True")
    assert sorted(eval(etc)) == ["group", "hosts", "passwd"]  # the image's /etc, not the host's


def test_unshare_and_fork_gives_pid_one_too():
    def probe() -> str:
        pid = S.Syscalls().fork_into(S.CLONE_NEWPID | S.CLONE_NEWUTS)
        if pid == 0:
            os._exit(os.getpid())
        _, st = os.waitpid(pid, 0)
        return str(os.waitstatus_to_exitcode(st))

    assert _in_child(probe) == "1"


def test_setup_rootfs_refuses_the_host_mount_namespace(rootfs):
    from dockyard.errors import FailedPrecondition

    here = os.readlink("/proc/self/ns/mnt")
    with pytest.raises(FailedPrecondition, match="new mount namespace"):
        mounts.setup_rootfs(mounts.RootfsSpec(rootfs), outer_mnt_ns=here)


def test_container_network_namespace_is_empty(rootfs):
    code, out = run("ls /sys/class/net", rootfs)
    assert code == 0 and out.split() == ["lo"]


@pytest.mark.parametrize(("name", "target"), [("proc", "/"), ("sys", "/tmp"), ("dev", "/etc")])
def test_image_symlink_in_place_of_a_kernel_fs_is_refused(rootfs, name, target):
    from dockyard.errors import InvalidArgument

    os.rmdir(os.path.join(rootfs, name))
    os.symlink(target, os.path.join(rootfs, name))
    with pytest.raises(InvalidArgument, match=f"/{name} is not a directory"):
        run("true", rootfs)


def test_stdio_can_be_swapped(rootfs):
    # stdout and stderr exchanged: echo >&2 must land on the fd given as stdout
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    h = init.spawn(
        init.InitConfig(
            argv=("/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2"),
            rootfs=mounts.RootfsSpec(rootfs),
            stdio=(0, w_err, w_out),
        )
    )
    os.close(w_out)
    os.close(w_err)
    h.wait_exec()
    with os.fdopen(r_out, "rb") as fo, os.fdopen(r_err, "rb") as fe:
        assert (fo.read(), fe.read()) == (b"to-stderr\n", b"to-stdout\n")
    os.waitpid(h.pid, 0)


FRESH = """
import os, sys
from dockyard.linux import init, mounts
r, w = os.pipe()
cfg = init.InitConfig(
    argv=("/bin/sh", "-c", "grep CapEff /proc/self/status"),
    rootfs=mounts.RootfsSpec(sys.argv[1]),
    caps=frozenset({0, 1}),
    uid=65534, gid=65534, groups=(),
    seccomp_bpf=open(sys.argv[2], "rb").read(),
    cwd=sys.argv[3],
    stdio=(0, w, w),
)
try:
    h = init.spawn(cfg)
except Exception as e:
    print("ERR", type(e).__name__, e)
    sys.exit(0)
os.close(w)
h.wait_exec()
print(os.read(r, 1000).decode())
os.waitpid(h.pid, 0)
"""


@pytest.mark.parametrize(("cwd", "want"), [("/", "CapEff"), ("/no/such/dir", "ERR NotFound")])
def test_init_needs_no_import_after_pivot_root(rootfs, workdir, default_bpf, cwd, want):
    # a fresh interpreter has not imported what the test process already has
    import sys

    bpf_file = os.path.join(workdir, "filter.bpf")
    with open(bpf_file, "wb") as f:
        f.write(default_bpf)
    p = subprocess.run(
        [sys.executable, "-c", FRESH, rootfs, bpf_file, cwd],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert want in p.stdout, p.stdout + p.stderr
