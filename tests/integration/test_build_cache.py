"""The build cache: reused steps say CACHED, a changed file or arg rebuilds from the first
step that uses it (and the plain progress says why), --no-cache and `builder prune`."""

import json
import os

import pytest
from build_support import busybox_cli

DOCKERFILE = """FROM busybox
ARG FLAVOR=plain
ENV A=1
WORKDIR /app
COPY big.bin .
COPY other.txt .
RUN echo "$FLAVOR" > flavor; echo ran-step
CMD ["sh"]
"""


@pytest.fixture
def cli(tmp_path, busybox_tar):
    return busybox_cli(tmp_path, busybox_tar)


@pytest.fixture
def ctx(tmp_path):
    d = tmp_path / "ctx"
    d.mkdir()
    (d / "Dockerfile").write_text(DOCKERFILE)
    (d / "big.bin").write_bytes(os.urandom(256 << 10))
    (d / "other.txt").write_text("other")
    return d


def cached(steps: dict, prefix: str) -> bool:
    lines = next(v for k, v in steps.items() if k.startswith(prefix))
    return "CACHED" in lines


def why(steps: dict, prefix: str) -> str:
    lines = next(v for k, v in steps.items() if k.startswith(prefix))
    return next((ln for ln in lines if ln.startswith("rebuilding")), "")


def test_second_build_reuses_every_step_and_gives_the_same_image(cli, ctx):
    first = cli("build", "-q", "-t", "c:1", str(ctx)).stdout
    steps = cli.plain("-t", "c:1", str(ctx))
    assert cached(steps, "COPY big.bin") and cached(steps, "RUN echo")
    assert not any("ran-step" in ln for lines in steps.values() for ln in lines)
    again = cli("build", "-q", "-t", "c:1", str(ctx)).stdout
    assert again == first
    classic = cli("build", "-t", "c:1", str(ctx)).stdout.decode()
    assert classic.count("Using cache") == 3


def test_changed_file_rebuilds_from_the_first_step_using_it(cli, ctx):
    cli("build", "-t", "c:1", str(ctx))
    with open(ctx / "other.txt", "w") as f:
        f.write("changed")
    steps = cli.plain("-t", "c:1", str(ctx))
    assert cached(steps, "COPY big.bin")
    assert not cached(steps, "COPY other.txt")
    assert why(steps, "COPY other.txt") == "rebuilding: changed files: other.txt"
    assert why(steps, "RUN echo") == "rebuilding: an earlier step changed"
    assert any("ran-step" in ln for ln in next(v for k, v in steps.items() if k.startswith("RUN")))


def test_touching_a_file_without_changing_it_keeps_the_cache(cli, ctx):
    cli("build", "-t", "c:1", str(ctx))
    os.utime(ctx / "big.bin", (1, 1))  # new mtime: hashed again, same content
    steps = cli.plain("-t", "c:1", str(ctx))
    assert cached(steps, "COPY big.bin") and cached(steps, "RUN echo")


def test_changed_build_arg_rebuilds_the_run_that_sees_it(cli, ctx):
    cli("build", "-t", "c:1", str(ctx))
    steps = cli.plain("--build-arg", "FLAVOR=spicy", "-t", "c:2", str(ctx))
    assert cached(steps, "COPY other.txt")
    assert why(steps, "RUN echo") == "rebuilding: changed build args: FLAVOR"
    meta = json.loads(cli("image", "inspect", "c:2").stdout)[0]
    assert meta["Id"] != json.loads(cli("image", "inspect", "c:1").stdout)[0]["Id"]


def test_no_cache_and_builder_prune_rebuild_everything(cli, ctx):
    cli("build", "-t", "c:1", str(ctx))
    steps = cli.plain("--no-cache", "-t", "c:1", str(ctx))
    assert not cached(steps, "COPY big.bin")
    assert why(steps, "COPY big.bin") == "rebuilding: --no-cache"
    out = cli("builder", "prune", "-af").stdout.decode()
    assert out.strip().splitlines()[-1].startswith("Total:")
    steps = cli.plain("-t", "c:1", str(ctx))
    assert not cached(steps, "COPY big.bin") and not cached(steps, "RUN echo")


def test_cache_survives_removal_of_the_image_until_builder_prune(cli, ctx):
    cli("build", "-t", "c:1", str(ctx))
    cli("rmi", "c:1")  # the build cache keeps its layers (a GC root)
    steps = cli.plain("-t", "c:1", str(ctx))
    assert cached(steps, "COPY big.bin")
    cli("rmi", "c:1")
    cli("builder", "prune", "-f")  # now dangling: forgotten and collected
    steps = cli.plain("-t", "c:1", str(ctx))
    assert not cached(steps, "COPY big.bin")
    assert why(steps, "COPY big.bin") == "rebuilding: not built before"
    assert cli("image", "inspect", "c:1").returncode == 0


def test_unchanged_rebuild_still_sees_new_files_and_a_moved_base_tag(cli, tmp_path, busybox_tar):
    d = tmp_path / "all"
    (d / "sub").mkdir(parents=True)
    (d / "Dockerfile").write_text("FROM busybox\nCOPY . /all/\n")
    (d / "sub" / "one").write_text("1")

    def files(ref):
        out = cli("image", "inspect", "-f", "{{json .RootFS.Layers}}", ref).stdout
        return json.loads(out)

    cli("build", "-t", "all:1", str(d))
    first = files("all:1")
    cli("build", "-t", "all:1", str(d))
    assert files("all:1") == first
    (d / "sub" / "two").write_text("2")  # a new file deep in a copied dir
    cli("build", "-t", "all:1", str(d))
    second = files("all:1")
    assert second != first
    base_before = json.loads(cli("image", "inspect", "busybox").stdout)[0]["Id"]
    cli("import", "-c", "ENV MOVED=1", str(busybox_tar), "busybox")  # the tag moves
    cli("build", "-t", "all:1", str(d))
    img = json.loads(cli("image", "inspect", "all:1").stdout)[0]
    assert img["Parent"] != base_before and "MOVED=1" in img["Config"]["Env"]


def test_steps_before_a_failing_run_stay_cached(cli, tmp_path):
    d = tmp_path / "failctx"
    d.mkdir()
    (d / "data.bin").write_bytes(os.urandom(64 << 10))
    head = "FROM busybox\nCOPY data.bin /data.bin\nRUN echo ran-first > /first\n"
    (d / "Dockerfile").write_text(head + "RUN exit 7\n")
    assert cli("build", "-t", "f:1", str(d), check=False).returncode != 0
    (d / "Dockerfile").write_text(head + "RUN echo fixed > /second\n")
    steps = cli.plain("-t", "f:1", str(d))
    assert cached(steps, "COPY data.bin") and cached(steps, "RUN echo ran-first")
    assert not cached(steps, "RUN echo fixed")
    assert cli.view("f:1").lookup(["first"]) is not None
