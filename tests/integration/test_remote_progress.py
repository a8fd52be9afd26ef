"""The progress display of `dockyard pull` / `push`, as Docker's CLI shows it: plain status
lines when the output is not a terminal (checked line for line), one line per layer redrawn in
place with cursor moves on a terminal (a pty), nothing but the reference with -q."""

import fcntl
import os
import re
import struct
import subprocess
import termios
import tty

import pytest
from test_remote_support import InProcessRegistry, make_image, upload


@pytest.fixture
def reg(tmp_path):
    r = InProcessRegistry(tmp_path / "reg").start()
    yield r
    r.stop()


@pytest.fixture
def dy(dy, tmp_path):
    dy.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    return dy


def _short(digest: str) -> str:
    return digest.split(":")[1][:12]


def _layers(n: int, size: int = 64) -> list[dict[str, bytes]]:
    return [{f"f{i}": os.urandom(size)} for i in range(n)]


def test_pull_one_layer_prints_dockers_lines_exactly(dy, reg):
    img = make_image(_layers(1))
    upload(reg.url, "app/one", img, "1.0")
    ref = f"{reg.host}/app/one:1.0"
    sid = _short(img.layer_digests[0])
    assert dy.out("pull", ref).splitlines() == [
        "1.0: Pulling from app/one",
        f"{sid}: Pulling fs layer",
        f"{sid}: Verifying Checksum",
        f"{sid}: Download complete",
        f"{sid}: Pull complete",
        f"Digest: {img.digest}",
        f"Status: Downloaded newer image for {ref}",
        ref,
    ]
    assert dy.out("pull", ref).splitlines() == [
        "1.0: Pulling from app/one",
        f"{sid}: Already exists",
        f"Digest: {img.digest}",
        f"Status: Image is up to date for {ref}",
        ref,
    ]


def test_pull_many_layers_waits_beyond_three_downloads(dy, reg):
    img = make_image(_layers(5))
    upload(reg.url, "app/five", img, "1.0")
    ref = f"{reg.host}/app/five:1.0"
    lines = dy.out("pull", ref).splitlines()
    sids = [_short(d) for d in img.layer_digests]
    assert lines[0] == "1.0: Pulling from app/five"
    assert lines[1:6] == [f"{s}: Pulling fs layer" for s in sids]
    for i, s in enumerate(sids):
        mine = [line.split(": ", 1)[1] for line in lines if line.startswith(s + ":")]
        waiting = ["Waiting"] if i >= 3 else []
        assert mine == ["Pulling fs layer", *waiting, "Verifying Checksum", "Download complete",
                        "Pull complete"], lines  # fmt: skip
    # layers complete bottom-up: each one is unpacked on the ones below it
    done = [line.split(":")[0] for line in lines if line.endswith(": Pull complete")]
    assert done == sids
    assert not any("[" in line or "\x1b" in line for line in lines)
    assert lines[-3:] == [f"Digest: {img.digest}", f"Status: Downloaded newer image for {ref}",
                          ref]  # fmt: skip


def test_quiet_prints_only_the_reference(dy, reg):
    img = make_image(_layers(2))
    upload(reg.url, "app/q", img, "1.0")
    ref = f"{reg.host}/app/q:1.0"
    assert dy.out("pull", "-q", ref) == ref + "\n"
    assert dy.out("push", "-q", ref) == ref + "\n"


def test_push_lines_pushed_existing_and_mounted(dy, reg, tmp_path):
    img = make_image(_layers(1))
    upload(reg.url, "src/one", img, "1.0")
    ref = f"{reg.host}/src/one:1.0"
    dy.out("pull", "-q", ref)
    sid = _short(img.layer_digests[0])
    size = len(img.manifest)
    assert dy.out("push", ref).splitlines() == [
        f"The push refers to repository [{reg.host}/src/one]",
        f"{sid}: Preparing",
        f"{sid}: Layer already exists",
        f"1.0: digest: {img.digest} size: {size}",
    ]
    other = f"{reg.host}/dst/one:2.0"
    dy.out("tag", ref, other)
    assert dy.out("push", other).splitlines() == [
        f"The push refers to repository [{reg.host}/dst/one]",
        f"{sid}: Preparing",
        f"{sid}: Mounted from src/one",
        f"2.0: digest: {img.digest} size: {size}",
    ]
    # a registry that has nothing: the layer is uploaded (its byte counts are not shown)
    fresh = InProcessRegistry(tmp_path / "reg2").start()
    try:
        third = f"{fresh.host}/new/one:3.0"
        dy.out("tag", ref, third)
        assert dy.out("push", third).splitlines() == [
            f"The push refers to repository [{fresh.host}/new/one]",
            f"{sid}: Preparing",
            f"{sid}: Pushed",
            f"3.0: digest: {img.digest} size: {size}",
        ]
    finally:
        fresh.stop()


def test_push_waits_beyond_five_uploads(dy, reg, tmp_path):
    img = make_image(_layers(7))
    upload(reg.url, "src/seven", img, "1.0")
    ref = f"{reg.host}/src/seven:1.0"
    dy.out("pull", "-q", ref)
    fresh = InProcessRegistry(tmp_path / "reg2").start()
    try:
        target = f"{fresh.host}/new/seven:1.0"
        dy.out("tag", ref, target)
        lines = dy.out("push", target).splitlines()
    finally:
        fresh.stop()
    sids = [_short(d) for d in img.layer_digests]
    for i, s in enumerate(sids):
        mine = [line.split(": ", 1)[1] for line in lines if line.startswith(s + ":")]
        waiting = ["Waiting"] if i >= 5 else []
        assert mine == ["Preparing", *waiting, "Pushed"], lines


# -- on a terminal ----------------------------------------------------------------------


def _on_pty(dy, args: list[str], cols: int) -> str:
    """Run dockyard with stdout on a pty of `cols` columns (raw: no \\n -> \\r\\n); its output."""
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
        p = subprocess.Popen(dy.argv(*args), stdout=slave, stderr=subprocess.PIPE, env=dy.env)
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        return b"".join(chunks).decode()
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def test_pull_on_a_terminal_redraws_each_layer_in_place(dy, reg):
    img = make_image([{"big": os.urandom(3 << 20)}, {"small": b"x"}])
    upload(reg.url, "app/tty", img, "1.0")
    ref = f"{reg.host}/app/tty:1.0"
    out = _on_pty(dy, ["pull", ref], cols=120)
    a, b = (_short(d) for d in img.layer_digests)
    assert out.startswith("1.0: Pulling from app/tty\n")
    # a new layer adds a line, then is drawn on it as every update is: up, clear, write, down
    assert f"\n\x1b[1A\x1b[2K\r{a}: Pulling fs layer \r\x1b[1B" in out
    assert f"\n\x1b[1A\x1b[2K\r{b}: Pulling fs layer \r\x1b[1B" in out
    # the first layer's line is two up once the second one is there
    assert f"\x1b[2A\x1b[2K\r{a}: Pull complete \r\x1b[2B" in out
    assert f"\x1b[1A\x1b[2K\r{b}: Pull complete \r\x1b[1B" in out
    size = len(img.blobs[img.layer_digests[0]])
    bars = re.findall(rf"{a}: Downloading (\[[= >]*\]) +([0-9.]+[kM]?B)/([0-9.]+[kM]?B)", out)
    assert bars, out
    assert all(len(bar) == 53 for bar, _, _ in bars)
    assert bars[-1][0] == "[" + "=" * 50 + ">]"
    assert bars[-1][1] == bars[-1][2] == f"{size / 1e6:.4g}MB"
    assert f"{a}: Verifying Checksum \r" in out
    assert f"{a}: Extracting [" in out
    assert out.rsplit("\r\x1b[1B", 1)[1].splitlines() == [
        f"Digest: {img.digest}",
        f"Status: Downloaded newer image for {ref}",
        ref,
    ]


def test_a_narrow_terminal_gets_counts_without_bars(dy, reg):
    img = make_image([{"big": os.urandom(2 << 20)}])
    upload(reg.url, "app/narrow", img, "1.0")
    out = _on_pty(dy, ["pull", f"{reg.host}/app/narrow:1.0"], cols=80)
    sid = _short(img.layer_digests[0])
    assert re.search(rf"{sid}: Downloading +[0-9.]+[kM]?B/[0-9.]+MB\r", out), out
    assert "[=" not in out


def test_push_on_a_terminal_shows_pushing_bars(dy, reg, tmp_path):
    img = make_image([{"big": os.urandom(2 << 20)}])
    upload(reg.url, "src/bar", img, "1.0")
    ref = f"{reg.host}/src/bar:1.0"
    dy.out("pull", "-q", ref)
    fresh = InProcessRegistry(tmp_path / "reg2").start()
    try:
        target = f"{fresh.host}/new/bar:1.0"
        dy.out("tag", ref, target)
        out = _on_pty(dy, ["push", target], cols=150)
    finally:
        fresh.stop()
    sid = _short(img.layer_digests[0])
    assert f"\n\x1b[1A\x1b[2K\r{sid}: Preparing \r\x1b[1B" in out
    assert re.search(rf"{sid}: Pushing \[=+>\]", out), out
    assert f"\x1b[1A\x1b[2K\r{sid}: Pushed \r\x1b[1B" in out
    assert out.endswith(f"1.0: digest: {img.digest} size: {len(img.manifest)}\n")
