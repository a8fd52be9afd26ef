"""The build cache as a GC root: `image prune`/`system prune` keep what it points to, and
`builder prune [-a] [--filter until=]` forgets it and reclaims the space."""

from pathlib import Path

import pytest
from build_support import BuildCli

DF = "FROM busybox\nRUN head -c 300000 /dev/urandom > /blob\nRUN echo second > /second\n"


@pytest.fixture
def cli(tmp_path, busybox_tar):
    c = BuildCli(tmp_path / "dy")
    c("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox")
    return c


def context(tmp_path: Path, dockerfile: str = DF) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    return ctx


def cached_steps(cli, ctx) -> int:
    steps = cli.plain("-t", "again", str(ctx))
    return sum("CACHED" in " ".join(lines) for text, lines in steps.items() if "RUN" in text)


def snapshot_count(cli) -> int:
    return len(list((cli.root / "root" / "snapshots").iterdir()))


def test_image_prune_keeps_what_the_build_cache_points_to(cli, tmp_path):
    ctx = context(tmp_path)
    cli("build", "-t", "app:1", str(ctx))
    blob = cli.view("app:1").lookup(["blob"])
    data = Path(blob[0]).read_bytes()
    cli("image", "rm", "app:1")
    cli("image", "prune", "-f")
    assert snapshot_count(cli) == 3  # busybox and the two cached RUN layers
    # both RUN steps still come from the cache, with the very same content
    assert cached_steps(cli, ctx) == 2
    assert cli.view("again").lookup(["blob"]) is not None
    assert Path(cli.view("again").lookup(["blob"])[0]).read_bytes() == data


def test_system_prune_takes_the_dangling_build_cache_as_docker_does(cli, tmp_path):
    ctx = context(tmp_path)
    cli("build", "-t", "app:1", str(ctx))
    out = cli("system", "prune", "-f").stdout.decode()
    assert "Deleted build cache objects:" not in out  # app:1 still uses every layer
    assert snapshot_count(cli) == 3
    cli("image", "rm", "app:1")
    out = cli("system", "prune", "-f").stdout.decode()
    assert "Deleted build cache objects:" in out
    assert snapshot_count(cli) == 1  # only busybox is left
    assert cached_steps(cli, ctx) == 0


def test_builder_prune_reclaims_dangling_cache(cli, tmp_path):
    ctx = context(tmp_path)
    cli("build", "-t", "app:1", str(ctx))
    before = snapshot_count(cli)
    # the image still uses the layers: nothing is dangling
    out = cli("builder", "prune", "-f").stdout.decode()
    assert out.strip().splitlines()[-1] == "Total:\t0B"
    cli("image", "rm", "app:1")
    out = cli("builder", "prune", "-f").stdout.decode()
    assert "Deleted build cache objects:" in out
    total = out.strip().splitlines()[-1]
    assert total.startswith("Total:\t") and total != "Total:\t0B"
    assert float(total.split("\t")[1].rstrip("kMGB")) > 0
    assert snapshot_count(cli) < before
    assert cached_steps(cli, ctx) == 0


def test_builder_prune_all_and_until_filter(cli, tmp_path):
    ctx = context(tmp_path)
    cli("build", "-t", "app:1", str(ctx))
    # entries used a moment ago are newer than "until=1h": kept
    cli("builder", "prune", "-a", "-f", "--filter", "until=1h")
    assert cached_steps(cli, ctx) == 2
    out = cli("builder", "prune", "-a", "-f").stdout.decode()
    assert "Deleted build cache objects:" in out
    assert cached_steps(cli, ctx) == 0  # every step runs again
    p = cli("builder", "prune", "-f", "--filter", "label=x", check=False)
    assert p.returncode != 0 and b"invalid filter 'label'" in p.stderr


def test_builder_prune_removes_cache_mounts(cli, tmp_path):
    df = "FROM busybox\nRUN --mount=type=cache,target=/c,id=pm cat /c/n > /n 2>/dev/null; echo 1 > /c/n\n"
    ctx = context(tmp_path, df)
    cli("build", "-t", "cm:1", str(ctx))
    mounts = cli.root / "root" / "build-cache-mounts"
    assert len(list(mounts.iterdir())) == 1
    cli("builder", "prune", "-a", "-f")
    assert list(mounts.iterdir()) == []
    cli("build", "-t", "cm:2", str(ctx))
    assert cli.view("cm:2").lookup(["n"])[1].st_size == 0  # a fresh, empty cache
