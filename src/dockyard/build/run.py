"""Running a RUN step: an isolated container on an overlay of the parent snapshot.

A small launcher over `dockyard.linux`: the init is cloned into new namespaces (network
none by default: only loopback), its root is an overlay of the parent's snapshot dirs with
a fresh upper dir mounted `volatile` (a build step's upper is committed or thrown away, so
no syncfs at unmount), Docker's default capabilities and seccomp profile apply, it runs
in a cgroup of its own (the containers' device rules, a pids limit; removed after), and
its output is streamed to the caller. The upper dir is the step's layer.
"""

import os

from dockyard.errors import FailedPrecondition


class RunFailed(FailedPrecondition):
    """A RUN command exited non-zero."""


PIDS_LIMIT = 16384  # a fork bomb in a RUN stops here; memory stays unlimited, as in BuildKit
CGROUP_PARENT = "dockyard-build"


# what a step's cgroup is for: device rules, the pids limit, and finding what is left of
# the step to kill it (on cgroup v1, each more hierarchy is a directory to make and remove)
STEP_CONTROLLERS = ("devices", "pids")


class StepCgroup:
    """The cgroup one RUN step runs in: the containers' device rules and a pids limit,
    created before the step and removed (with anything left in it) after."""

    def __init__(self):
        from dockyard.build.stalecgroups import step_name
        from dockyard.linux.cgroups import detect

        self.driver = detect().restricted(STEP_CONTROLLERS)
        self.name = step_name(CGROUP_PARENT)  # names the builder: see build.stalecgroups
        self.join: tuple[str, ...] = ()
        self.fd: int | None = None

    def __enter__(self) -> "StepCgroup":
        from dockyard.build.stalecgroups import sweep
        from dockyard.linux.cgroups.base import DEFAULT_DEVICE_RULES, Resources

        d = self.driver
        sweep(d, CGROUP_PARENT)  # what builders killed during a step left behind
        d.create(self.name)
        try:
            d.set(self.name, Resources(pids_limit=PIDS_LIMIT, devices=DEFAULT_DEVICE_RULES))
            if d.version == 2:
                self.fd = d.open_dir(self.name)
            else:
                self.join = tuple(d.join_paths(self.name))
        except BaseException:
            d.remove(self.name)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.driver.remove(self.name)


def default_caps() -> frozenset[int]:
    from dockyard.linux import caps

    return caps.resolve()


def seccomp_bpf(root: str, caps: frozenset[int]) -> bytes | None:
    """Docker's default profile for `caps`, compiled once (`cache.default_program`)."""
    from dockyard.linux.seccomp import cache

    return cache.default_program(os.path.join(root, "seccomp"), caps)[1]


def run_step(
    argv: list[str],
    env: list[str],
    cwd: str,
    lowers: list[str],
    work_root: str,
    *,
    uid: int | None,
    gid: int | None,
    groups: tuple[int, ...] | None,
    bpf: bytes | None,
    caps: frozenset[int],
    network: str,
    stdin_data: bytes | None,
    output,
    mounts: tuple = (),
    cgroup: "StepCgroup | None" = None,
    sc=None,
    meanwhile=None,
) -> tuple[int, str]:
    """Run `argv` and return (exit code, upper dir). `output(bytes)` gets its stdout+stderr.
    `sc`: a prepared `Syscalls` (linux.syscalls) the init is cloned with. `meanwhile()`
    runs once the init is set up, as it goes on to exec (threads may start from there on:
    one writing meanwhile would slow the init's pivot_root ~2 ms, which waits for an RCU
    grace period that a core busy writing delays)."""
    from dockyard.linux import init as I
    from dockyard.linux import mounts as M
    from dockyard.linux import syscalls as S

    rootfs = os.path.join(work_root, "rootfs")
    upper = os.path.join(work_root, "upper")
    work = os.path.join(work_root, "work")
    for d in (rootfs, upper, work):
        if not os.path.isdir(d):
            os.mkdir(d, 0o755)
    if not lowers:
        empty = os.path.join(work_root, "empty")
        os.mkdir(empty, 0o755)
        lowers = [empty]
    spec = M.RootfsSpec(
        rootfs=rootfs,
        lowerdirs=tuple(lowers),
        upperdir=upper,
        workdir=work,
        volatile=True,
        mounts=tuple(mounts),
    )
    ns = I.DEFAULT_NAMESPACES
    if network == "host":
        ns &= ~S.CLONE_NEWNET
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    in_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    if stdin_data is not None:
        # a file, not a pipe: no writer thread next to clone(), and no blocking writes
        os.close(in_r)
        path = os.path.join(work_root, "stdin")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, stdin_data)
        finally:
            os.close(fd)
        in_r = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    cfg = I.InitConfig(
        argv=tuple(argv),
        env=tuple(env),
        cwd=cwd,
        hostname="buildkitsandbox",
        namespaces=ns,
        rootfs=spec,
        caps=caps,
        uid=uid,
        gid=gid,
        groups=groups,
        no_new_privs=True,
        seccomp_bpf=bpf,
        stdio=(in_r, out_w, out_w),
        loopback=bool(ns & S.CLONE_NEWNET),
        cgroup_join=cgroup.join if cgroup is not None else (),
        cgroup_fd=cgroup.fd if cgroup is not None else None,
    )
    try:
        init = I.spawn(cfg, sc, meanwhile)
    finally:
        os.close(in_r)
        os.close(out_w)
    try:
        init.wait_exec()
    except BaseException:
        os.close(out_r)
        raise
    while True:
        data = os.read(out_r, 1 << 16)
        if not data:
            break
        output(data)
    os.close(out_r)
    _, status = os.waitpid(init.pid, 0)
    return os.waitstatus_to_exitcode(status), upper


def run_prepared(argv, env, cwd, lowers, work_root, pre, uid, gid, groups, bpf, caps,
                 network, stdin_data, output, mounts=(), cgroup=None, sc=None,
                 meanwhile=None):  # fmt: skip
    """`run_step` in a step cgroup, the step's working dir made beforehand: `pre` (holding
    only the dirs of the working dir) becomes the upper dir. `cgroup` is a StepCgroup
    entered ahead for this step (this call removes it), or None for a new one."""
    upper = os.path.join(work_root, "upper")
    try:
        os.rename(pre, upper)
        if cgroup is None:
            cgroup = StepCgroup().__enter__()
    except BaseException:
        if cgroup is not None:
            cgroup.__exit__(None, None, None)
        raise
    try:
        return run_step(argv, env, cwd, lowers, work_root, uid=uid, gid=gid, groups=groups,
                        bpf=bpf, caps=caps, network=network, stdin_data=stdin_data,
                        output=output, mounts=mounts, cgroup=cgroup, sc=sc,
                        meanwhile=meanwhile)  # fmt: skip
    finally:
        cgroup.__exit__(None, None, None)
