"""kill -9 during `dockyard build`, at random moments and again and again: the data root stays
consistent (every blob hashes to its name, every tag reaches a complete image, every snapshot
record has its directory, every cached step names a layer that exists) and a rebuild succeeds
with an image whose files are the context's."""

import os
import random
import signal
import subprocess
import time

import pytest
from build_support import step_cgroups as all_step_cgroups
from crash_support import check_consistent, sha256_file

from dockyard.build.merged import MergedView
from dockyard.config import Config
from dockyard.oci.ids import chain_ids
from dockyard.oci.image import parse_image_config
from dockyard.services.images import ImageService

ROUNDS = 10
TAG = "crash/built:1"
DOCKERFILE = """\
FROM crash/base:1
WORKDIR /app
COPY a.bin /app/a.bin
RUN for i in $(seq 1 150); do echo "line $i" > /app/f$i.txt; done
COPY b.bin /app/b.bin
RUN cat /app/a.bin /app/b.bin | wc -c > /app/total
"""


@pytest.fixture
def step_cgroups():
    """The RUN step cgroups our killed builds left behind (a builder killed during a step
    cannot remove its cgroup) are removed by the sweep every new step does first, which
    knows them by the dead builder's pid in their names: none may be left."""
    from dockyard.build.run import CGROUP_PARENT
    from dockyard.build.stalecgroups import sweep
    from dockyard.linux.cgroups import detect

    before = all_step_cgroups()
    yield
    sweep(detect(), CGROUP_PARENT)
    assert all_step_cgroups() - before == set()


def _build_killed(dy, ctx: str, rng: random.Random) -> None:
    p = subprocess.Popen(dy.argv("build", "-q", "-t", TAG, ctx), env=dy.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)  # fmt: skip
    time.sleep(rng.uniform(0.05, 0.9))
    if p.poll() is None:
        # the whole session: the builder and whatever RUN step or layer writer it forked
        os.killpg(p.pid, signal.SIGKILL)
    p.wait()


def test_build_killed_again_and_again_then_a_rebuild_gives_a_complete_image(
    dy, tmp_path, busybox_tar, step_cgroups
):
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    dy("import", busybox_tar, "crash/base:1")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    for name in ("a.bin", "b.bin"):
        (ctx / name).write_bytes(os.urandom(6 << 20))
    root = str(dy.root)
    for i in range(ROUNDS):
        if i % 3 == 2:  # a changed file: the steps from its COPY on are built again
            name = rng.choice(("a.bin", "b.bin"))
            with open(ctx / name, "r+b") as f:
                f.write(os.urandom(64))
        _build_killed(dy, str(ctx), rng)
        check_consistent(root)

    image_id = dy.out("build", "-q", "-t", TAG, str(ctx)).strip()
    check_consistent(root)
    assert dy.out("images", "-q", "--no-trunc", TAG).strip() == image_id
    # the image's files are the context's, whichever killed build left each step cached
    svc = ImageService(Config(root=root, state_dir=root + "-state"))
    try:
        config = parse_image_config(svc.content.read(image_id))
        top = chain_ids(list(config.diff_ids))[-1]
        view = MergedView([r.dir for r in svc.meta.snapshot_chain(top)])
    finally:
        svc.close()
    for name in ("a.bin", "b.bin"):
        host, _st = view.lookup(["app", name])
        assert sha256_file(host) == sha256_file(str(ctx / name)), name
    with open(view.lookup(["app", "f150.txt"])[0]) as f:
        assert f.read() == "line 150\n"
    with open(view.lookup(["app", "total"])[0]) as f:
        assert f.read().strip() == str(12 << 20)


def test_the_cgroup_of_a_step_killed_with_its_builder_goes_at_the_next_step(
    dy, tmp_path, busybox_tar, step_cgroups
):
    dy("import", busybox_tar, "crash/base:1")
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "Dockerfile").write_text("FROM crash/base:1\nRUN sleep 60\n")
    before = all_step_cgroups()
    p = subprocess.Popen(dy.argv("build", "-q", str(slow)), env=dy.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not all_step_cgroups() - before and time.monotonic() < deadline:
            time.sleep(0.02)
        left = all_step_cgroups() - before
        assert left, "the RUN step never started"
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    assert left <= all_step_cgroups()  # the killed builder could not remove it
    quick = tmp_path / "quick"
    quick.mkdir()
    (quick / "Dockerfile").write_text("FROM crash/base:1\nRUN echo next\n")
    dy("build", "-q", str(quick))
    assert not left & all_step_cgroups()  # the next step swept it
