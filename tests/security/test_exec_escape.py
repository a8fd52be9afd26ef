"""Hostile commands run with `exec` must not reach the host: no descriptor of the caller
reaches the exec'd process, `-w /proc/self/fd/N` cannot name a host directory, user
databases are read inside the container, and namespace/mount syscalls stay denied.

The exec'd commands aim only at a sentinel directory under the test's tmp dir, and run from
a confined child (`run_confined`) whose view of the host is read-only but for that dir."""

import os

import pytest

from dockyard.runtime.execute import run_in
from dockyard.services.containers import ContainerService, RunOptions


@pytest.fixture
def box(tmp_path, busybox_root):
    cfg = busybox_root(tmp_path)
    svc = ContainerService(cfg)
    cid, _ = svc.run(RunOptions(image="busybox", cmd=("sleep", "1000")))
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "secret").write_text("host-secret\n")
    yield cfg, cid, str(sentinel)
    svc.remove(cid, force=True)
    svc.close()


def _exec_with_leaked_dir(cfg, cid, sentinel, argv, workdir=None):
    """run_in from a caller holding an inheritable, non-close-on-exec fd of a host dir."""
    fd = os.open(sentinel, os.O_RDONLY | os.O_DIRECTORY)
    os.set_inheritable(fd, True)
    try:
        wd = workdir.replace("{fd}", str(fd)) if workdir else None
        code, out = run_in(cfg, cid, [a.replace("{fd}", str(fd)) for a in argv], workdir=wd)
    finally:
        os.close(fd)
    return fd, code, out


def test_no_host_descriptor_in_exec(box, confined, tmp_path):
    cfg, cid, sentinel = box
    fd, code, out = confined(
        str(tmp_path), _exec_with_leaked_dir, cfg, cid, sentinel,
        ["sh", "-c", "ls /proc/self/fd; cat /proc/self/fd/{fd}/secret; "
                     "echo pwned > /proc/self/fd/{fd}/pwned"],
    )  # fmt: skip
    listed = out.decode().split()
    assert str(fd) not in listed[: listed.index("0") + 5]
    assert b"host-secret" not in out
    assert code != 0
    assert sorted(os.listdir(sentinel)) == ["secret"]


def test_workdir_through_proc_fd_cannot_reach_host(box, confined, tmp_path):
    cfg, cid, sentinel = box
    for wd in ("/proc/self/fd/{fd}", "/proc/self/fd/{fd}/", "/proc/thread-self/fd/{fd}"):
        _fd, code, out = confined(
            str(tmp_path), _exec_with_leaked_dir, cfg, cid, sentinel,
            ["sh", "-c", "cat secret; echo pwned > pwned; pwd"], wd,
        )  # fmt: skip
        assert code == 126, out
        assert b"chdir to cwd" in out
        assert b"host-secret" not in out
    assert sorted(os.listdir(sentinel)) == ["secret"]


def test_workdir_symlink_to_host_path_stays_inside(box, confined, tmp_path):
    cfg, cid, sentinel = box
    # a symlink inside the container that names the sentinel's host path
    code, _ = run_in(cfg, cid, ["sh", "-c", f"mkdir -p /x && ln -s {sentinel} /x/link"])
    assert code == 0
    _fd, code, out = confined(
        str(tmp_path), _exec_with_leaked_dir, cfg, cid, sentinel,
        ["sh", "-c", "cat secret; echo pwned > pwned"], "/x/link",
    )  # fmt: skip
    assert b"host-secret" not in out
    assert sorted(os.listdir(sentinel)) == ["secret"]


def test_passwd_symlink_to_host_file_is_read_inside(box):
    cfg, cid, _sentinel = box
    # the container's /etc/passwd points at an absolute path: it resolves in the container
    code, _ = run_in(cfg, cid, ["sh", "-c",
                                "printf 'evil:x:4242:4242::/:/bin/sh\\n' > /tmp/pw && "
                                "rm /etc/passwd && ln -s /tmp/pw /etc/passwd"])  # fmt: skip
    assert code == 0
    code, out = run_in(cfg, cid, ["id", "-u"], user="evil")
    assert (code, out) == (0, b"4242\n")
    code, out = run_in(cfg, cid, ["id", "-u"], user="root")
    assert code == 126 and b"unable to find user root" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["unshare", "-m", "true"],
        ["unshare", "-U", "true"],
        ["mount", "-t", "tmpfs", "x", "/mnt"],
        ["sh", "-c", "mount --bind / /mnt"],
    ],
)
def test_namespace_and_mount_syscalls_denied(box, argv):
    cfg, cid, _ = box
    code, out = run_in(cfg, cid, argv)
    assert code != 0, out
    assert b"not permitted" in out or b"permission denied" in out.lower(), out


def test_exec_cannot_write_host_binaries_through_proc_exe(box):
    cfg, cid, _ = box
    # the exec'd process sees only the container's processes: nothing of ours to open
    code, out = run_in(cfg, cid, ["sh", "-c", "for p in /proc/[0-9]*; do readlink $p/exe; done"])
    assert code == 0
    assert b"python" not in out
    code, out = run_in(cfg, cid, ["sh", "-c", "echo x >> /proc/1/exe"])
    assert code != 0


def test_exec_process_is_not_dumpable_until_it_execs(box, tmp_path):
    """Before its exec the command's process is our host interpreter inside the container's
    pid namespace: it must be non-dumpable then, so nothing in the container can open its
    /proc/<pid>/exe (CVE-2019-5736's door)."""
    import ctypes

    from dockyard.linux import nsenter
    from dockyard.runtime.execute import _reap, prepare
    from dockyard.runtime.spec import resolve_user

    cfg, cid, _ = box
    r, w = os.pipe()

    def resolve(spec, passwd, group):  # runs in the command's process, before its exec
        os.write(w, b"%d" % ctypes.CDLL(None, use_errno=True).prctl(3, 0, 0, 0, 0))
        return resolve_user(spec, passwd, group)

    null = os.open(os.devnull, os.O_RDWR)
    _, exec_cfg = prepare(cfg, cid, ["true"], stdio=(null, null, null))
    proc = nsenter.spawn(exec_cfg, resolve)
    os.close(w)
    os.close(null)
    assert proc.wait_exec() == b""
    _reap(proc.pid)
    assert os.read(r, 16) == b"0"  # PR_GET_DUMPABLE
    os.close(r)
