"""Hostile `RUN --mount` values: cache ids, bind sources and secret ids that try to name
host paths. Every build runs confined (the host is read-only except this test's tmp dir)
and aims only at sentinel dirs in it."""

import os

from test_build_hostile import SECRET, image_bytes, sentinel_untouched
from test_build_hostile import setup as setup


def test_cache_id_with_dotdot_stays_under_the_data_root(setup):
    tmp_path, sentinel, ctx, build = setup
    for cid in ("../../sentinel", "../../../../../../" + str(sentinel), "/" + str(sentinel)):
        (ctx / "Dockerfile").write_text(
            f"FROM busybox\nRUN --mount=type=cache,id={cid},target=/c "
            "ls /c > /listing; echo pwned > /c/pwned\n"
        )
        code, _, err = build("-t", "evil:c")
        assert code == 0, err
        sentinel_untouched(sentinel)
    # the writes landed in hashed dirs of the data root's cache-mount area
    found = [
        os.path.join(d, "pwned")
        for d, _, files in os.walk(tmp_path / "root" / "build-cache-mounts")
        if "pwned" in files
    ]
    assert len(found) == 3
    assert SECRET not in image_bytes(tmp_path)


def test_bind_source_outside_the_context_is_refused(setup):
    tmp_path, sentinel, ctx, build = setup
    os.symlink(str(sentinel), ctx / "abs")
    os.symlink("../sentinel", ctx / "rel")
    for src, want in (
        ("../..", "outside the build context"),
        ("../sentinel", "outside the build context"),
        ("abs/secret", "not found"),
        ("rel/secret", "not found"),
    ):
        (ctx / "Dockerfile").write_text(
            f"FROM busybox\nRUN --mount=type=bind,source={src},target=/m,rw "
            "cat /m/secret /m > /leak; echo pwned > /m/pwned; true\n"
        )
        code, _, err = build("-t", "evil:b")
        assert code != 0 and want in err and "Dockerfile:2" in err, (src, err)
    sentinel_untouched(sentinel)
    assert SECRET not in image_bytes(tmp_path)


def test_bind_from_a_stage_follows_links_inside_that_stage_only(setup):
    tmp_path, sentinel, ctx, build = setup
    (ctx / "Dockerfile").write_text(
        f"FROM busybox AS evil\nRUN ln -s {sentinel} /out && ln -s ../../../../{sentinel} /rel\n"
        "FROM busybox\n"
        "RUN --mount=type=bind,from=evil,source=/out,target=/m,rw "
        "cat /m/secret > /leak1 || true; echo pwned > /m/pwned || true\n"
        "RUN --mount=type=bind,from=evil,source=/rel,target=/m "
        "cat /m/secret > /leak2 || true\n"
    )
    code, _, err = build("-t", "evil:s")
    # the links resolve inside the stage, where nothing is there: refused
    assert code != 0 and "not found" in err, err
    sentinel_untouched(sentinel)
    assert SECRET not in image_bytes(tmp_path)


def test_secret_ids_cannot_name_paths(setup):
    tmp_path, sentinel, ctx, build = setup
    src = tmp_path / "tok"
    src.write_bytes(b"zq-secret-9f3k")
    (ctx / "Dockerfile").write_text(
        "FROM busybox\nRUN --mount=type=secret,id=../../sentinel/secret cat /run/secrets/* || true\n"
    )
    code, _, err = build("--secret", f"id=../../sentinel/secret,src={src}")
    assert code != 0 and "give the mount a target" in err, err
    sentinel_untouched(sentinel)
    # a secret id is only a name: the mount stays in the container and leaves no trace
    (ctx / "Dockerfile").write_text(
        "FROM busybox\nRUN --mount=type=secret,id=a/b,target=/run/s cat /run/s > /dev/null\n"
    )
    code, _, err = build("-t", "evil:x", "--secret", f"id=a/b,src={src}")
    assert code == 0, err
    sentinel_untouched(sentinel)
    assert b"zq-secret-9f3k" not in image_bytes(tmp_path)
    assert not [n for n in os.listdir("/dev/shm") if n.startswith("dockyard-secret-")]
