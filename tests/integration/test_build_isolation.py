"""RUN steps run in a cgroup of their own (device rules, a pids limit), removed after
the step, and independent stages of a multi-stage build give the same image every time."""

import os

import pytest
from build_support import busybox_cli
from build_support import make_context as context
from build_support import read_file as read


@pytest.fixture(scope="module")
def cli(tmp_path_factory, busybox_tar):
    return busybox_cli(tmp_path_factory.mktemp("dy-iso"), busybox_tar)


def build_cgroup_dirs() -> list[str]:
    """Step cgroups left anywhere in the host's hierarchies."""
    out = []
    for d, dirs, _ in os.walk("/sys/fs/cgroup"):
        if os.path.basename(d) == "dockyard-build":
            out += [os.path.join(d, x) for x in dirs]
            dirs[:] = []
    return out


def test_run_step_has_its_own_cgroup_removed_afterwards(cli, tmp_path):
    df = (
        "FROM busybox\n"
        "RUN cat /proc/self/cgroup > /cg; "
        "(mknod /dev/sdz b 8 0 && head -c1 /dev/sdz) >/dev/null 2>&1 && echo open > /dev-access"
        " || echo denied > /dev-access\n"
    )
    before = build_cgroup_dirs()
    cli("build", "-t", "cg:1", str(context(tmp_path, df)))
    view = cli.view("cg:1")
    cg = read(view, "/cg").decode()
    assert "dockyard-build/" in cg, cg
    assert read(view, "/dev-access") == b"denied\n"  # no mknod / block devices
    assert build_cgroup_dirs() == before  # cleaned up


def test_step_cgroup_has_a_pids_limit_and_no_memory_limit(cli, tmp_path):
    import subprocess
    import sys

    from dockyard.linux.cgroups import detect

    driver = detect()
    ctx = context(tmp_path, "FROM busybox\nRUN sleep 3\n")
    args = [sys.executable, "-m", "dockyard", "--root", str(cli.root / "root"), "--state-dir",
            str(cli.root / "state"), "build", "--no-cache", str(ctx)]  # fmt: skip
    p = subprocess.Popen(args, env=cli.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        limits = None
        while p.poll() is None and limits is None:
            for d in build_cgroup_dirs():
                name = "dockyard-build/" + os.path.basename(d)
                try:
                    if not driver.pids(name):
                        continue
                    limits = (
                        _read_limit(driver, "pids", name),
                        _read_limit(driver, "memory", name),
                    )
                except OSError:
                    continue  # removed meanwhile
                break
    finally:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    assert limits is not None, "the step's cgroup was never seen"
    assert limits[0] == "16384"
    assert limits[1] in ("max", str(0x7FFFFFFFFFFFF000), "9223372036854771712")


def _read_limit(driver, controller: str, name: str) -> str:
    if driver.version == 2:
        f = "pids.max" if controller == "pids" else "memory.max"
        path = os.path.join(driver.root, name, f)
    else:
        f = "pids.max" if controller == "pids" else "memory.limit_in_bytes"
        path = os.path.join(driver.mounts[controller], name, f)
        if controller == "memory" and not os.path.isdir(os.path.dirname(path)):
            return "max"  # v1: no memory cgroup of the step's own, so no limit of ours
    with open(path) as fh:
        return fh.read().strip()


def _meet(me: str, other: str) -> str:
    # both stages share a cache mount: each says it is there and waits (10 s at most) for
    # the other — which only shows up when the two stages run at the same time
    return (
        f"RUN --mount=type=cache,id=rendezvous-{{N}},target=/r touch /r/{me}; i=0; "
        f"until [ -e /r/{other} ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i+1)); done; "
        f"[ -e /r/{other} ] && echo together > /{me} || echo alone > /{me}\n"
    )


PARALLEL = (
    "FROM busybox AS a\n" + _meet("a", "b") + "FROM busybox AS b\n" + _meet("b", "a") +
    "FROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n"
)  # fmt: skip


def test_independent_stages_build_at_the_same_time(cli, tmp_path):
    ctx = context(tmp_path, PARALLEL.replace("{N}", "1"))
    cli("build", "-t", "par:1", str(ctx))
    view = cli.view("par:1")
    assert read(view, "/a") == b"together\n" and read(view, "/b") == b"together\n"


def test_parallel_stages_give_the_same_image_and_output_every_time(cli, tmp_path):
    ctx = context(tmp_path, PARALLEL.replace("{N}", "2"))
    cli.env["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        runs = [cli("build", "--no-cache", "-t", f"par:{n}", str(ctx)) for n in (2, 3)]
    finally:
        del cli.env["SOURCE_DATE_EPOCH"]
    assert cli.inspect("par:2")["Id"] == cli.inspect("par:3")["Id"]
    outs = [p.stdout.decode().splitlines() for p in runs]
    steps = [[line for line in out if line.startswith("Step ")] for out in outs]
    assert steps[0] == steps[1]
    assert [s.split(" : ")[0] for s in steps[0]] == [f"Step {n}/7" for n in range(1, 8)]
    assert "Step 2/7 : RUN --mount=type=cache,id=rendezvous-2,target=/r touch /r/a;" in outs[0][1]


def test_a_failing_parallel_stage_fails_the_build_after_the_others(cli, tmp_path):
    df = (
        "FROM busybox AS a\nRUN echo boom; exit 7\n"
        "FROM busybox AS b\nRUN echo fine > /b\n"
        "FROM busybox\nCOPY --from=a / /a\nCOPY --from=b /b /b\n"
    )
    p = cli("build", str(context(tmp_path, df)), check=False)
    err = p.stderr.decode()
    assert p.returncode != 0 and "Dockerfile:2" in err and "exit code: 7" in err, err
    assert "boom" in p.stdout.decode()
    assert build_cgroup_dirs() == []


def test_a_run_sees_the_copy_before_it_and_a_failed_run_keeps_the_copy_cached(cli, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nCOPY data.txt /d/\nRUN cat /d/data.txt > /seen\n")
    (ctx / "data.txt").write_text("copied")
    cli("build", "-t", "dfr:1", str(ctx))
    view = cli.view("dfr:1")
    assert read(view, "/seen") == b"copied" and read(view, "/d/data.txt") == b"copied"
    assert len(cli.inspect("dfr:1")["RootFS"]["Layers"]) == 3  # busybox, COPY, RUN: in order
    (ctx / "data.txt").write_text("changed")
    (ctx / "Dockerfile").write_text(
        "FROM busybox\nCOPY data.txt /d/\nRUN cat /d/data.txt; exit 4\n"
    )
    p = cli("build", str(ctx), check=False)
    assert p.returncode != 0 and b"exit code: 4" in p.stderr
    assert b"changed" in p.stdout  # the RUN read the new copy
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY data.txt /d/\nRUN cat /d/data.txt > /x\n")
    steps = cli.plain("-t", "dfr:2", str(ctx))
    copy = next(lines for text, lines in steps.items() if text.startswith("COPY"))
    assert "CACHED" in copy  # the failed build still recorded the copy
    tmp = cli.root / "root" / "tmp"
    assert not tmp.exists() or not [n for n in os.listdir(tmp) if n.startswith("build-")]
