"""Hostile build contexts and Dockerfiles: nothing from outside the context gets into the
image, nothing outside the build's own dirs is written. Every build runs confined (the
host is read-only except this test's tmp dir) and aims only at sentinel dirs in it."""

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
SECRET = b"sentinel-secret-do-not-copy"


def dockyard(root: str, *args: str) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    p = subprocess.run(
        [sys.executable, "-m", "dockyard", "--root", f"{root}/root", "--state-dir",
         f"{root}/state", *args],
        capture_output=True, env=env, timeout=300,
    )  # fmt: skip
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


@pytest.fixture
def setup(tmp_path, busybox_tar, confined):
    """(tmp dir, sentinel dir holding a secret, context dir, build runner)."""
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "secret").write_bytes(SECRET)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    root = str(tmp_path)
    code, _, err = confined(root, dockyard, root, "import", str(busybox_tar), "busybox")
    assert code == 0, err

    def build(*args: str):
        return confined(root, dockyard, root, "build", *args, str(ctx))

    return tmp_path, sentinel, ctx, build


def image_bytes(tmp_path: Path) -> bytes:
    """Every byte of every file in the data root's snapshots and blobs."""
    out = []
    for base in ("root/snapshots", "root/content/blobs"):
        for dirpath, _, files in os.walk(tmp_path / base):
            for name in files:
                p = os.path.join(dirpath, name)
                if os.path.isfile(p) and not os.path.islink(p):
                    with open(p, "rb") as f:
                        out.append(f.read())
    return b"".join(out)


def sentinel_untouched(sentinel: Path) -> None:
    assert sorted(os.listdir(sentinel)) == ["secret"]
    assert (sentinel / "secret").read_bytes() == SECRET


def test_context_symlinks_out_are_not_followed(setup):
    tmp_path, sentinel, ctx, build = setup
    os.symlink(str(sentinel), ctx / "abs")  # absolute: to the sentinel on the host
    os.symlink("../sentinel", ctx / "rel")  # relative: climbs out of the context
    os.symlink(str(sentinel / "secret"), ctx / "file")
    for src in ("abs/secret", "rel/secret", "file"):
        (ctx / "Dockerfile").write_text(f"FROM busybox\nCOPY {src} /got\n")
        code, _, err = build("-t", "evil:1")
        assert code != 0 and "not found" in err, (src, err)
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY . /ctx/\n")
    code, _, err = build("-t", "evil:2")
    assert code == 0, err
    assert SECRET not in image_bytes(tmp_path)  # links were copied as links, not followed
    sentinel_untouched(sentinel)


def test_copy_from_parent_dir_is_refused(setup):
    tmp_path, _sentinel, ctx, build = setup
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY ../sentinel/secret /x\n")
    code, _, err = build()
    assert code != 0 and "outside the build context" in err and "Dockerfile:2" in err
    assert SECRET not in image_bytes(tmp_path)


def _evil_tar(sentinel: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:

        def add(name, data=b"pwned", **kw):
            info = tarfile.TarInfo(name)
            for k, v in kw.items():
                setattr(info, k, v)
            if info.type == tarfile.REGTYPE:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)

        add("escape", type=tarfile.SYMTYPE, linkname=str(sentinel))
        add("escape/pwned")
        add("../../../../../../.." + str(sentinel) + "/dotdot")
        add("hard", type=tarfile.LNKTYPE, linkname=str(sentinel / "secret"))
        add("rel", type=tarfile.SYMTYPE, linkname="../../../../../../../../" + str(sentinel))
        add("rel/pwned2")
    return buf.getvalue()


def test_added_tar_cannot_write_or_read_outside(setup):
    tmp_path, sentinel, ctx, build = setup
    (ctx / "evil.tar").write_bytes(_evil_tar(sentinel))
    (ctx / "Dockerfile").write_text("FROM busybox\nADD evil.tar /x/\n")
    build("-t", "evil:3")  # may be refused or applied inside the layer: both are safe
    sentinel_untouched(sentinel)
    assert SECRET not in image_bytes(tmp_path)


def test_run_cannot_reach_the_host(setup):
    tmp_path, sentinel, ctx, build = setup
    (ctx / "Dockerfile").write_text(
        f"FROM busybox\nRUN cat {sentinel}/secret > /leak || true; "
        f"echo pwned > {sentinel}/pwned || true\n"
    )
    code, _, err = build("-t", "evil:4")
    assert code == 0, err
    sentinel_untouched(sentinel)
    assert SECRET not in image_bytes(tmp_path)
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN mount -t tmpfs none /mnt\n")
    code, _, err = build("-t", "evil:5")
    assert code != 0 and "exit code" in err  # no CAP_SYS_ADMIN, seccomp denies mount


def test_hostile_dockerfile_copy_dest_stays_in_the_layer(setup):
    tmp_path, sentinel, ctx, build = setup
    (ctx / "f").write_text("payload")
    # a symlink in the image pointing at a host path, then a COPY through it
    (ctx / "Dockerfile").write_text(
        f"FROM busybox\nRUN ln -s {sentinel} /link\nCOPY f /link/pwned\n"
        "COPY f /../../../../../../pwned-root\n"
    )
    code, _, err = build("-t", "evil:6")
    assert code == 0, err
    sentinel_untouched(sentinel)
    assert not (tmp_path / "pwned-root").exists()


def test_a_link_from_one_source_is_not_written_through_by_the_next(setup):
    tmp_path, sentinel, ctx, build = setup
    for d in ("d1/sub", "d3/sub", "d2"):
        (ctx / d).mkdir(parents=True)
    (ctx / "d1" / "sub" / "f").write_text("first")
    os.symlink(str(sentinel), ctx / "d2" / "sub")  # replaces /dest/sub with a link out
    (ctx / "d3" / "sub" / "pwned").write_text("payload")
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY d1 d2 d3 /dest/\n")
    code, _, err = build("-t", "evil:7")
    assert code == 0, err
    sentinel_untouched(sentinel)
    assert b"payload" in image_bytes(tmp_path)  # it landed in the layer instead
