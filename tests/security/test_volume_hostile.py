"""Hostile images and names against volumes: an image's symlinks must not aim copy-up or a
volume mount outside the image or into its root or /proc, and a volume name must never name
a path outside `volumes/`.

Every attack aims at a sentinel directory under the test's tmp dir (never a real host file),
and runs through `confined` (a child that can write only below the test dir); each test checks
that the sentinel is byte-for-byte unchanged.
"""

import os
from pathlib import Path

import pytest
from hostile_support import cli, image_tar, snapshot

from dockyard.runtime import copyup


@pytest.fixture
def sentinel(tmp_path) -> Path:
    s = tmp_path / "sentinel"
    (s / "inner").mkdir(parents=True)
    (s / "secret").write_text("do not copy me\n")
    (s / "inner" / "deep").write_text("nor me\n")
    return s


def _copy(layers, path, target):
    os.makedirs(target, exist_ok=True)
    copied = copyup.fill(layers, path, target)
    return copied, sorted(os.listdir(target))


def test_copy_up_never_follows_links_out_of_the_image(tmp_path, sentinel, confined):
    before = snapshot(sentinel)
    lower = tmp_path / "lower"
    (lower / "data").mkdir(parents=True)
    os.symlink(str(sentinel), lower / "abs")  # absolute: restarts at the image's root
    os.symlink("../" * 12 + str(sentinel).lstrip("/"), lower / "rel")
    os.symlink(str(sentinel / "secret"), lower / "data" / "file-link")
    os.symlink("../../../../sentinel", lower / "data" / "dir-link")
    upper = tmp_path / "upper"
    (upper / "shadow").mkdir(parents=True)
    (upper / "shadow" / "mine").write_text("image\n")
    os.symlink(str(sentinel), lower / "shadow")  # a lower link under an upper dir: not merged
    layers = (str(upper), str(lower))
    w = str(tmp_path)
    for path in ("/abs", "/rel", "/abs/inner", "/rel/../rel/inner"):
        assert confined(w, _copy, layers, path, str(tmp_path / "v" / path.strip("/"))) == (
            False,
            [],
        )
    copied, names = confined(w, _copy, layers, "/data", str(tmp_path / "v-data"))
    assert copied and names == ["dir-link", "file-link"]
    assert os.readlink(tmp_path / "v-data" / "file-link") == str(sentinel / "secret")
    assert os.readlink(tmp_path / "v-data" / "dir-link") == "../../../../sentinel"
    copied, names = confined(w, _copy, layers, "/shadow", str(tmp_path / "v-shadow"))
    assert copied and names == ["mine"]
    assert snapshot(sentinel) == before


def test_copy_up_into_a_volume_with_a_planted_link_writes_nothing_through_it(
    tmp_path, sentinel, confined
):
    before = snapshot(sentinel)
    layer = tmp_path / "layer"
    (layer / "data").mkdir(parents=True)
    (layer / "data" / "secret").write_text("overwrite\n")
    vol = tmp_path / "vol"
    vol.mkdir()
    os.symlink(str(sentinel / "secret"), vol / "secret")  # not empty: no copy at all
    copied, _ = confined(str(tmp_path), _copy, (str(layer),), "/data", str(vol))
    assert copied is False
    assert snapshot(sentinel) == before


# -- end to end: hostile images through the CLI ----------------------------------------------


def _scenario(root: Path, image: Path, sentinel: Path) -> list:
    results = []
    cli(root, "import", "-c", "VOLUME /up", "-c", "VOLUME /back", str(image), "up")
    results.append(cli(root, "run", "--rm", "up", "true"))
    cli(root, "import", "-c", "VOLUME /pr", str(image), "pr")
    results.append(cli(root, "run", "--rm", "pr", "true"))
    cli(root, "import", "-c", "VOLUME /out", str(image), "out")
    results.append(cli(root, "run", "--rm", "out", "sh", "-c", "ls -A /out; echo x > /out/pwned"))
    for bad in ("..", "../../sentinel", "a/b", str(sentinel)):
        results.append(cli(root, "volume", "create", bad))
    results.append(cli(root, "run", "--rm", "-v", "../../sentinel:/d", "up", "true"))
    results.append(cli(root, "volume", "ls", "-q"))
    return results


def test_hostile_volume_paths_and_names_stay_inside(tmp_path, sentinel, busybox_tar, confined):
    before = snapshot(sentinel)
    image = image_tar(busybox_tar, tmp_path / "img.tar", {
        "up": "../../..", "back": "/", "pr": "../proc/sys", "out": str(sentinel),
    })  # fmt: skip
    results = confined(str(tmp_path), _scenario, tmp_path, image, sentinel)
    up, pr, out, *names, run_bad, ls = results
    assert up[0] == 125 and "resolves to the container's root" in up[2]
    assert pr[0] == 125 and "cannot be mounted because it is inside /proc" in pr[2]
    # a link to the host's sentinel names that path inside the image: an empty volume there
    assert out[0] == 0 and out[1] == ""
    for code, _, err in names:
        assert code == 1 and "includes invalid characters for a local volume name" in err
    assert run_bad[0] == 125 and "invalid characters" in run_bad[2]
    assert ls == (0, "", "")  # nothing was left behind (the --rm volume went too)
    assert snapshot(sentinel) == before
    assert sorted(os.listdir(tmp_path / "root" / "volumes")) == []
