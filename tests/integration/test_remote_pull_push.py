"""`dockyard pull/push` against dockyard's own registry without auth: tags, digests, indexes,
re-push and cross-repository mounts (the registry runs in this process and logs requests)."""

import json

import pytest
from test_remote_support import InProcessRegistry, make_image, make_index, put_manifest, upload


@pytest.fixture
def reg(tmp_path):
    r = InProcessRegistry(tmp_path / "reg").start()
    yield r
    r.stop()


def _client(dy, tmp_path, name: str):
    """Another data root sharing dy's environment (and so its Docker config)."""
    other = type(dy)(tmp_path / name / "root", tmp_path / name / "state")
    other.env = dict(dy.env)
    return other


@pytest.fixture
def dy(dy, tmp_path):
    dy.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    return dy


def _inspect(dy, ref: str) -> dict:
    return json.loads(dy.out("image", "inspect", ref))[0]


def test_push_then_pull_by_tag_and_by_digest(dy, reg, tmp_path, busybox_tar):
    ref = f"{reg.host}/tools/busybox:1.0"
    image_id = dy.out("import", str(busybox_tar), ref).strip()
    out = dy.out("push", ref)
    assert "Pushed" in out
    pushed = [line for line in out.splitlines() if line.startswith("1.0: digest: sha256:")]
    assert pushed, out
    digest = pushed[0].split()[2]

    other = _client(dy, tmp_path, "b")
    out = other.out("pull", ref)
    lines = out.splitlines()
    assert lines[0] == "1.0: Pulling from tools/busybox"
    assert any(line.endswith(": Pull complete") for line in lines)
    assert f"Digest: {digest}" in lines
    assert f"Status: Downloaded newer image for {ref}" in lines
    assert lines[-1] == ref
    info = _inspect(other, ref)
    assert info["Id"] == image_id
    assert info["RepoDigests"] == [f"{reg.host}/tools/busybox@{digest}"]
    table = other.out("images", "--digests", "--format", "{{.Digest}} {{.Tag}}")
    assert table.strip() == f"{digest} 1.0"
    # The pulled image runs through the normal image machinery (its layers were unpacked).
    assert other.out("history", "-q", ref).strip()

    again = other.out("pull", ref)
    assert f"Status: Image is up to date for {ref}" in again

    by_digest = _client(dy, tmp_path, "c")
    out = by_digest.out("pull", f"{reg.host}/tools/busybox@{digest}")
    assert f"{digest}: Pulling from tools/busybox" in out
    assert _inspect(by_digest, f"{reg.host}/tools/busybox@{digest}")["Id"] == image_id
    assert by_digest.out("images", "-q").strip() == image_id.split(":")[1][:12]


def test_repush_uploads_nothing_and_keeps_the_digest(dy, reg, busybox_tar):
    ref = f"{reg.host}/app:1"
    dy("import", str(busybox_tar), ref)
    first = dy.out("push", ref)
    reg.log.clear()
    second = dy.out("push", ref)
    assert "Layer already exists" in second and "Pushed" not in second
    assert reg.writes() == []
    # the tag already names this manifest: nothing at all is written
    assert {m for m, *_ in reg.log} <= {"GET", "HEAD"}
    # one ping and the tag's HEAD, sent together: the tag holds this very manifest, so the
    # registry holds its blobs too
    assert sorted((m, p.rpartition("/")[0]) for m, p, *_ in reg.log) == [
        ("GET", "/v2"), ("HEAD", "/v2/app/manifests")]  # fmt: skip
    digest = [ln for ln in first.splitlines() if "digest:" in ln]
    assert digest == [ln for ln in second.splitlines() if "digest:" in ln]


def test_pulled_image_pushed_back_is_one_round_and_a_new_tag_is_put(dy, reg, tmp_path,
                                                                    busybox_tar):  # fmt: skip
    ref = f"{reg.host}/app:1"
    dy("import", str(busybox_tar), ref)
    first = dy.out("push", ref)
    other = _client(dy, tmp_path, "b")
    other("pull", ref)
    reg.log.clear()
    again = other.out("push", ref)  # the pulled image: its repo digest says it came from here
    assert sorted((m, p) for m, p, *_ in reg.log) == [
        ("GET", "/v2/"), ("HEAD", "/v2/app/manifests/1")]  # fmt: skip
    digest = [ln for ln in first.splitlines() if "digest:" in ln]
    assert digest == [ln for ln in again.splitlines() if "digest:" in ln]
    # a tag the registry lacks: the early HEAD finds nothing; the blobs are checked and the
    # manifest is put under the new tag, nothing uploaded
    other("tag", ref, f"{reg.host}/app:2")
    reg.log.clear()
    out = other.out("push", f"{reg.host}/app:2")
    assert "Layer already exists" in out and "Pushed" not in out
    assert reg.writes() == []
    assert [p for m, p, *_ in reg.log if m == "PUT"] == ["/v2/app/manifests/2"]
    assert [p for m, p, *_ in reg.log].count("/v2/app/manifests/2") == 2  # HEAD, then PUT
    assert digest[0].replace("1: ", "2: ") in out
    assert other.out("pull", "-q", f"{reg.host}/app:2").strip() == f"{reg.host}/app:2"


def test_push_to_another_repository_mounts_the_blobs(dy, reg, busybox_tar):
    dy("import", str(busybox_tar), f"{reg.host}/team/base:1")
    dy("push", f"{reg.host}/team/base:1")
    dy("tag", f"{reg.host}/team/base:1", f"{reg.host}/team/copy:1")
    reg.log.clear()
    out = dy.out("push", f"{reg.host}/team/copy:1")
    assert "Mounted from team/base" in out
    mounts = [x for x in reg.log if x[0] == "POST" and "mount=" in x[2]]
    assert mounts and all(status == 201 for *_, status in mounts)
    assert [x for x in reg.log if x[0] in ("PATCH",) or (x[0] == "PUT" and "uploads" in x[1])] == []


def test_quiet_and_all_tags(dy, reg, tmp_path, busybox_tar):
    dy("import", str(busybox_tar), f"{reg.host}/multi:a")
    dy("tag", f"{reg.host}/multi:a", f"{reg.host}/multi:b")
    out = dy.out("push", "-q", "--all-tags", f"{reg.host}/multi")
    assert out.splitlines() == [f"{reg.host}/multi"]  # as Docker: the name, once

    other = _client(dy, tmp_path, "b")
    out = other.out("pull", "-a", f"{reg.host}/multi")
    assert "a: Pulling from multi" in out and "b: Pulling from multi" in out
    # as Docker: a Digest line per tag, one Status line for the repository, then its name
    lines = out.splitlines()
    assert sum(line.startswith("Digest: sha256:") for line in lines) == 2
    assert [line for line in lines if line.startswith("Status:")] == [
        f"Status: Downloaded newer image for {reg.host}/multi"
    ]
    assert lines[-1] == f"{reg.host}/multi"
    tags = other.out("images", "--format", "{{.Tag}}").split()
    assert sorted(tags) == ["a", "b"]
    quiet = _client(dy, tmp_path, "c").out("pull", "-q", f"{reg.host}/multi:b")
    assert quiet == f"{reg.host}/multi:b\n"
    bad = dy("pull", "-a", f"{reg.host}/multi:a", check=False)
    assert bad.returncode != 0 and b"--all-tags" in bad.stderr


def test_index_pull_selects_the_platform(dy, reg):
    amd = make_image([{"etc/arch": b"amd64\n"}], arch="amd64")
    arm = make_image([{"etc/arch": b"arm64\n"}], arch="arm64")
    upload(reg.url, "multiarch", amd)
    upload(reg.url, "multiarch", arm)
    index = make_index({"linux/amd64": amd, "linux/arm64/v8": arm})
    import httpx

    with httpx.Client(base_url=reg.url) as c:
        put_manifest(c, "multiarch", "latest", index, "application/vnd.oci.image.index.v1+json")
    from test_remote_support import sha256

    ref = f"{reg.host}/multiarch:latest"
    out = dy.out("pull", ref)
    assert f"Digest: {sha256(index)}" in out
    info = _inspect(dy, ref)
    assert info["Architecture"] == "amd64" and info["Id"] == amd.config_digest
    assert info["RepoDigests"] == [f"{reg.host}/multiarch@{sha256(index)}"]

    dy.out("pull", "--platform", "linux/arm64", ref)
    info = _inspect(dy, ref)
    assert info["Architecture"] == "arm64" and info["Id"] == arm.config_digest
    bad = dy("pull", "--platform", "linux/s390x", ref, check=False)
    assert bad.returncode != 0 and b"no matching manifest for linux/s390x" in bad.stderr


def test_multi_layer_image_round_trip(dy, reg, tmp_path):
    img = make_image([{"a": b"1" * 300_000}, {"b": b"2" * 10}, {"a": b"3"}])
    upload(reg.url, "layers", img, "v1")
    out = dy.out("pull", f"{reg.host}/layers:v1")
    assert sum(line.endswith("Pull complete") for line in out.splitlines()) == 3
    assert dy.out("push", f"{reg.host}/layers:v1").count("Layer already exists") == 3
    # pushed unchanged: compressed layers keep the stored manifest, so the digest is stable
    assert f"v1: digest: {img.digest} size: {len(img.manifest)}" in dy.out(
        "push", f"{reg.host}/layers:v1"
    )


def test_pull_errors_are_one_clear_line(dy, reg):
    p = dy("pull", f"{reg.host}/nothing:here", check=False)
    assert p.returncode != 0
    lines = p.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "unknown" in lines[0]
    p = dy("push", f"{reg.host}/not-local:1", check=False)
    assert p.returncode != 0
    assert b"An image does not exist locally with the tag" in p.stderr
    assert dy.out("images", "-q") == ""


def test_docker_media_types_round_trip(dy, reg, tmp_path):
    amd = make_image([{"etc/a": b"a\n"}], docker=True)
    arm = make_image([{"etc/a": b"b\n"}], arch="arm64", docker=True)
    upload(reg.url, "dockerish", amd)
    upload(reg.url, "dockerish", arm)
    index = make_index({"linux/amd64": amd, "linux/arm64": arm}, docker=True)
    import httpx

    with httpx.Client(base_url=reg.url) as c:
        put_manifest(c, "dockerish", "1", index,
                     "application/vnd.docker.distribution.manifest.list.v2+json")  # fmt: skip
    from test_remote_support import sha256

    out = dy.out("pull", f"{reg.host}/dockerish:1")
    assert f"Digest: {sha256(index)}" in out
    assert _inspect(dy, f"{reg.host}/dockerish:1")["Id"] == amd.config_digest
    # pushed elsewhere, the platform's Docker manifest goes unchanged (same digest)
    dy("tag", f"{reg.host}/dockerish:1", f"{reg.host}/copy:1")
    out = dy.out("push", f"{reg.host}/copy:1")
    assert f"1: digest: {amd.digest} size: {len(amd.manifest)}" in out
    with httpx.Client(base_url=reg.url) as c:
        r = c.get("/v2/copy/manifests/1", headers={"Accept": "*/*"})
    assert r.headers["content-type"] == "application/vnd.docker.distribution.manifest.v2+json"


def test_platform_mismatch_of_a_single_image_is_refused(dy, reg):
    img = make_image([{"x": b"x"}], arch="amd64")
    upload(reg.url, "single", img, "1")
    p = dy("pull", "--platform", "linux/arm64", f"{reg.host}/single:1", check=False)
    assert p.returncode != 0
    assert b"does not match the specified platform: wanted linux/arm64" in p.stderr
    assert dy.out("images", "-qa") == ""


def test_two_pulls_of_one_image_at_once(dy, reg):
    import os
    import subprocess

    img = make_image([{"big": os.urandom(4 << 20)}, {"b": b"b"}])
    upload(reg.url, "same", img, "1")
    dy("images")  # the data root exists (concurrent creation is the metadata store's concern)
    procs = [
        subprocess.Popen(
            dy.argv("pull", "-q", f"{reg.host}/same:1"),
            env=dy.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert _inspect(dy, f"{reg.host}/same:1")["Id"] == img.config_digest


def test_repush_over_a_moved_tag_checks_blobs_and_puts_the_manifest(dy, reg, busybox_tar):
    ref, other = f"{reg.host}/moved:1", f"{reg.host}/moved:2"
    dy("import", str(busybox_tar), ref)
    dy("import", "--change", "ENV X=1", str(busybox_tar), other)
    dy("push", ref)
    dy("push", other)
    # the tag "1" now names the other image's manifest in the registry
    dy("tag", other, ref)
    reg.log.clear()
    out = dy.out("push", ref)
    assert "Layer already exists" in out
    assert reg.writes() == []
    puts = [p for m, p, *_ in reg.log if m == "PUT"]
    assert puts == ["/v2/moved/manifests/1"]
    heads = [p for m, p, *_ in reg.log if m == "HEAD"]
    assert "/v2/moved/manifests/1" in heads and any("/blobs/" in p for p in heads)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("foo", '"foo": unknown operating system or architecture: invalid argument'),
        ("linux/amd64/v3/x", '"linux/amd64/v3/x": cannot parse platform specifier: '
                             "invalid argument"),
        ("linux//", '"" is an invalid component of "linux//": platform specifier component '
                    'must match "^[A-Za-z0-9_-]+$": invalid argument'),
        ("linux/*", '"linux/*": wildcards not yet supported: invalid argument'),
    ],
)  # fmt: skip
def test_bad_platforms_get_dockers_messages_before_any_request(dy, reg, spec, message):
    p = dy("pull", "--platform", spec, f"{reg.host}/any:1", check=False)
    assert p.returncode != 0
    assert p.stderr.decode().strip().endswith(message)
    assert reg.log == []


def test_platform_aliases_pick_from_an_index(dy, reg):
    arm = make_image([{"arch": b"arm64"}], arch="arm64")
    amd = make_image([{"arch": b"amd64"}], arch="amd64")
    for img in (arm, amd):
        upload(reg.url, "alias", img)
    index = make_index({"linux/arm64/v8": arm, "linux/amd64": amd})
    import httpx

    with httpx.Client(base_url=reg.url) as c:
        put_manifest(c, "alias", "1", index, "application/vnd.oci.image.index.v1+json")
    ref = f"{reg.host}/alias:1"
    dy.out("pull", "-q", "--platform", "aarch64", ref)  # an architecture alone, aliased
    info = _inspect(dy, ref)
    assert info["Id"] == arm.config_digest and info["Architecture"] == "arm64"
    dy.out("pull", "-q", "--platform", "linux/x86_64", ref)
    assert _inspect(dy, ref)["Id"] == amd.config_digest
