"""COPY of large files: the copy made while the file is hashed is the one the image gets —
the new content after a change, in files and in copied dirs — and none is left behind."""

import os

import pytest
from build_support import busybox_cli, read_file, step_cgroups

DOCKERFILE = """FROM busybox
WORKDIR /app
COPY big.bin /app/big.bin
COPY tree/ /app/tree/
RUN cat /app/big.bin /app/tree/inner.bin | wc -c > /app/size
"""
SIZE = (2 << 20) + 77


@pytest.fixture
def cli(tmp_path, busybox_tar):
    return busybox_cli(tmp_path, busybox_tar)


@pytest.fixture
def ctx(tmp_path):
    d = tmp_path / "ctx"
    (d / "tree").mkdir(parents=True)
    (d / "Dockerfile").write_text(DOCKERFILE)
    (d / "big.bin").write_bytes(os.urandom(SIZE))
    (d / "tree" / "inner.bin").write_bytes(os.urandom(SIZE))
    return d


def leftovers(root) -> list[str]:
    tmp = root / "root" / "tmp"
    return sorted(os.listdir(tmp)) if tmp.exists() else []


def test_large_copied_files_arrive_whole_and_changes_reach_the_image(cli, ctx, tmp_path):
    cli("build", "-q", "-t", "s:1", str(ctx))
    view = cli.view("s:1")
    assert read_file(view, "/app/big.bin") == (ctx / "big.bin").read_bytes()
    assert read_file(view, "/app/tree/inner.bin") == (ctx / "tree" / "inner.bin").read_bytes()
    assert read_file(view, "/app/size").strip() == str(2 * SIZE).encode()
    with open(ctx / "big.bin", "r+b") as f:
        f.write(b"changed!")  # same size, new content
    (ctx / "tree" / "inner.bin").write_bytes(os.urandom(SIZE + 1))
    cli("build", "-q", "-t", "s:2", str(ctx))
    view = cli.view("s:2")
    assert read_file(view, "/app/big.bin") == (ctx / "big.bin").read_bytes()
    assert read_file(view, "/app/tree/inner.bin") == (ctx / "tree" / "inner.bin").read_bytes()
    assert read_file(view, "/app/size").strip() == str(2 * SIZE + 1).encode()
    assert leftovers(tmp_path) == []


def test_a_rehashed_but_unchanged_file_keeps_the_cache_and_leaves_nothing(cli, ctx, tmp_path):
    first = cli("build", "-q", "-t", "s:1", str(ctx)).stdout
    before = step_cgroups()
    for name in ("big.bin", "tree/inner.bin"):
        os.utime(ctx / name, (1, 1))  # hashed (and copied) again, yet the same content
    steps = cli.plain("-t", "s:1", str(ctx))
    assert all("CACHED" in v for k, v in steps.items() if k.startswith(("COPY", "RUN")))
    assert cli("build", "-q", "-t", "s:1", str(ctx)).stdout == first
    assert leftovers(tmp_path) == []
    assert step_cgroups() - before == set()  # the RUN's cgroup, set up ahead, is gone too


def test_no_cache_builds_with_source_date_epoch_give_the_same_layers(cli, ctx):
    epoch = ("--build-arg", "SOURCE_DATE_EPOCH=1700000000")
    cli("build", "-q", *epoch, "-t", "s:1", str(ctx))
    cli("build", "-q", "--no-cache", *epoch, "-t", "s:2", str(ctx))
    layers = [cli.inspect(t)["RootFS"]["Layers"] for t in ("s:1", "s:2")]
    assert layers[0] == layers[1] and len(layers[0]) == 4


PARALLEL = """FROM busybox AS a
COPY one.bin /one.bin
RUN wc -c < /one.bin > /one.size
FROM busybox AS b
COPY two.bin /two.bin
RUN wc -c < /two.bin > /two.size
FROM busybox
COPY --from=a /one.bin /one.size /
COPY --from=b /two.bin /two.size /
"""


def test_large_copies_in_stages_built_at_the_same_time(cli, tmp_path):
    d = tmp_path / "par"
    d.mkdir()
    (d / "Dockerfile").write_text(PARALLEL)
    before = step_cgroups()
    for n in (1, 2):
        for name, size in (("one.bin", SIZE), ("two.bin", SIZE + n)):
            (d / name).write_bytes(os.urandom(size))  # new content each round
        cli("build", "-q", "-t", f"par:{n}", str(d))
        view = cli.view(f"par:{n}")
        for name in ("one", "two"):
            data = (d / f"{name}.bin").read_bytes()
            assert read_file(view, f"/{name}.bin") == data
            assert read_file(view, f"/{name}.size").strip() == str(len(data)).encode()
    assert leftovers(tmp_path) == []
    assert step_cgroups() - before == set()
