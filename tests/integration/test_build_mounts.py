"""`RUN --mount` on the real kernel: cache mounts that persist across builds, bind mounts of
the context and of other stages, tmpfs, and secrets that never reach the image."""

import pytest
from build_support import busybox_cli
from build_support import make_context as context
from build_support import read_file as read


@pytest.fixture(scope="module")
def cli(tmp_path_factory, busybox_tar):
    return busybox_cli(tmp_path_factory.mktemp("dy-mounts"), busybox_tar)


def test_cache_mount_persists_across_builds_and_stays_out_of_the_image(cli, tmp_path):
    df = (
        "FROM busybox\nARG N\n"
        "RUN --mount=type=cache,target=/var/cache/app,id=counter "
        "echo $N >> /var/cache/app/log && cat /var/cache/app/log > /seen\n"
    )
    ctx = context(tmp_path, df)
    cli("build", "-t", "cm:1", "--build-arg", "N=one", str(ctx))
    cli("build", "-t", "cm:2", "--build-arg", "N=two", str(ctx))
    assert read(cli.view("cm:2"), "/seen") == b"one\ntwo\n"
    # the mount point is not left in the layer (busybox has no /var/cache)
    top = cli.view("cm:2")
    assert top.lookup(["var", "cache"]) is None


def test_cache_mount_shared_by_id_between_targets(cli, tmp_path):
    df = (
        "FROM busybox\n"
        "RUN --mount=type=cache,id=shared-x,target=/a echo hi > /a/f\n"
        "RUN --mount=type=cache,id=shared-x,target=/b,ro cat /b/f > /got\n"
    )
    cli("build", "-t", "cm:3", str(context(tmp_path, df)))
    assert read(cli.view("cm:3"), "/got") == b"hi\n"


def test_cache_mount_mode_uid_gid(cli, tmp_path):
    df = (
        "FROM busybox\n"
        "RUN --mount=type=cache,id=owned,target=/c,uid=1000,gid=1001,mode=0700 "
        "stat -c '%u %g %a' /c > /st\n"
    )
    cli("build", "-t", "cm:4", str(context(tmp_path, df)))
    assert read(cli.view("cm:4"), "/st") == b"1000 1001 700\n"


def test_bind_mount_of_the_context_is_read_only_and_honours_dockerignore(cli, tmp_path):
    df = (
        "FROM busybox\n"
        "RUN --mount=type=bind,target=/src cat /src/a.txt > /got; "
        "ls /src > /list; (echo x > /src/new) 2>/dev/null && echo rw > /rw || echo ro > /rw\n"
    )
    ctx = context(tmp_path, df, {"a.txt": "alpha", "secret.key": "k", ".dockerignore": "*.key"})
    cli("build", "-t", "bm:1", str(ctx))
    view = cli.view("bm:1")
    assert read(view, "/got") == b"alpha"
    listing = read(view, "/list").decode().split()
    assert "a.txt" in listing and "secret.key" not in listing
    assert read(view, "/rw") == b"ro\n"
    assert read(view, "/src") is None  # no mount point stub left behind


def test_bind_mount_content_is_part_of_the_cache_key(cli, tmp_path):
    df = "FROM busybox\nRUN --mount=type=bind,source=v.txt,target=/v cp /v /copied\n"
    ctx = context(tmp_path, df, {"v.txt": "1"})
    cli("build", "-t", "bm:2", str(ctx))
    (ctx / "v.txt").write_text("2")
    cli("build", "-t", "bm:3", str(ctx))
    assert read(cli.view("bm:2"), "/copied") == b"1"
    assert read(cli.view("bm:3"), "/copied") == b"2"


def test_bind_mount_from_another_stage_rw_writes_are_discarded(cli, tmp_path):
    df = (
        "FROM busybox AS tools\nRUN mkdir /out && echo built > /out/tool\n"
        "FROM busybox\n"
        "RUN --mount=type=bind,from=tools,source=/out,target=/t,rw "
        "cat /t/tool > /got && echo junk > /t/extra\n"
        "RUN --mount=type=bind,from=tools,source=/out,target=/t ls /t > /list\n"
    )
    cli("build", "-t", "bm:4", str(context(tmp_path, df)))
    view = cli.view("bm:4")
    assert read(view, "/got") == b"built\n"
    assert read(view, "/list") == b"tool\n"
    assert read(view, "/out/tool") is None  # the final stage has only what it copied


def test_tmpfs_mount_is_empty_and_not_in_the_layer(cli, tmp_path):
    df = (
        "FROM busybox\n"
        "RUN --mount=type=tmpfs,target=/scratch,size=1m echo x > /scratch/f && "
        "grep ' /scratch ' /proc/mounts | cut -d' ' -f3 > /fstype\n"
    )
    cli("build", "-t", "tm:1", str(context(tmp_path, df)))
    view = cli.view("tm:1")
    assert read(view, "/fstype") == b"tmpfs\n"
    assert read(view, "/scratch/f") is None and read(view, "/scratch") is None


def test_secret_file_is_mounted_read_only_and_never_stored(cli, tmp_path):
    value = b"hunter2-" + tmp_path.name.encode()
    src = tmp_path / "tok"
    src.write_bytes(value)
    df = (
        "FROM busybox\n"
        "RUN --mount=type=secret,id=tok "
        "stat -c '%a %u' /run/secrets/tok > /meta && wc -c < /run/secrets/tok > /len\n"
    )
    ctx = context(tmp_path, df)
    p = cli(
        "build", "--progress", "plain", "-t", "sec:1", "--secret", f"id=tok,src={src}", str(ctx)
    )
    view = cli.view("sec:1")
    assert read(view, "/meta") == b"400 0\n"
    assert read(view, "/len").strip() == str(len(value)).encode()
    assert read(view, "/run/secrets/tok") is None
    # nowhere in the data root: not in a blob, a snapshot, the cache db or the history
    assert value not in p.stderr
    for f in (cli.root / "root").rglob("*"):
        if f.is_file() and not f.is_symlink():
            assert value not in f.read_bytes(), f


def test_secret_as_env_and_required_missing(cli, tmp_path, monkeypatch):
    df = 'FROM busybox\nRUN --mount=type=secret,id=pw,env=PW test "$PW" = s3cr3t && touch /ok\n'
    ctx = context(tmp_path, df)
    cli.env["PW_SRC"] = "s3cr3t"
    try:
        cli("build", "-t", "sec:2", "--secret", "id=pw,env=PW_SRC", str(ctx))
    finally:
        del cli.env["PW_SRC"]
    assert read(cli.view("sec:2"), "/ok") == b""
    assert "PW" not in " ".join(cli.inspect("sec:2")["Config"]["Env"])
    df2 = "FROM busybox\nRUN --mount=type=secret,id=nope,required true\n"
    p = cli("build", str(context(tmp_path / "b", df2)), check=False)
    assert p.returncode != 0 and b"secret nope not found" in p.stderr
    # not required: the step runs without it
    df3 = "FROM busybox\nRUN --mount=type=secret,id=nope test ! -e /run/secrets/nope\n"
    cli("build", str(context(tmp_path / "c", df3)))


COMBO = """ARG BASE=busybox
ARG GREETING=hello
FROM ${BASE} AS builder
ARG GREETING
COPY . /src/
RUN --mount=type=cache,id=combo,target=/cache <<EOF
set -e
echo "$GREETING" > /out.txt
ls /src | sort > /src-list
echo run >> /cache/runs
cat /cache/runs | wc -l > /runs
EOF
FROM ${BASE}
COPY --from=builder /out.txt /src-list /runs /result/
"""


def test_multi_stage_with_arg_heredoc_copy_from_cache_mount_and_dockerignore(cli, tmp_path):
    files = {"keep.txt": "k", "skip.log": "s", ".dockerignore": "*.log\n"}
    ctx = context(tmp_path, COMBO, files)
    cli("build", "--build-arg", "GREETING=hi", "-t", "combo:1", str(ctx))
    view = cli.view("combo:1")
    assert read(view, "/result/out.txt") == b"hi\n"
    listing = read(view, "/result/src-list").decode().split()
    assert "keep.txt" in listing and "skip.log" not in listing and "Dockerfile" in listing
    assert read(view, "/result/runs").strip() == b"1"
    assert read(view, "/src-list") is None  # only what was copied from the builder stage
