"""`dockyard stats` end to end: real containers, their real cgroup counters, Docker's table,
units and formats; streaming redraws; stopped and missing containers."""

import json
import os
import re
import signal
import subprocess

import pytest
from cgroup_cli_support import cli_with_busybox, one_line_error, wait_for

from dockyard.cli.units import bytes_size
from dockyard.linux.cgroups.base import host_memory


@pytest.fixture
def d(dy, busybox_tar):
    yield from cli_with_busybox(dy, busybox_tar)


HEADER = (
    "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS"
)
MiB = 1 << 20
# holds ~20 MB in the shell, then spins on one CPU
BUSY = 'x=$(head -c 20000000 /dev/zero | tr "\\0" a); touch /tmp/ready; while :; do :; done'


def _size(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(B|KiB|MiB|GiB)", text)
    assert m, text
    return float(m[1]) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[2]]


def _rows(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    assert lines[0] == HEADER
    return {ln.split()[1]: re.split(r"\s{3,}", ln) for ln in lines[1:]}


def _busy_and_idle(d):
    d("run", "-d", "--name", "busy", "--memory", "64m", "busybox", "sh", "-c", BUSY)
    d("run", "-d", "--name", "idle", "busybox", "sh", "-c", "sleep 1000 & sleep 1000 & wait")
    busy_id = d.out("inspect", "-f", "{{.Id}}", "busy").strip()
    ready = os.path.join(d.out("inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", "busy").strip(),
                         "tmp", "ready")  # fmt: skip
    wait_for(lambda: os.path.exists(ready), "the busy container holds its memory")
    return busy_id


def test_no_stream_table_shows_cgroup_readings(d):
    busy_id = _busy_and_idle(d)
    rows = _rows(d.out("stats", "--no-stream"))
    assert set(rows) == {"busy", "idle"}
    cid, name, cpu, mem, memp, net, blk, pids = rows["busy"]
    assert cid == busy_id[:12] and name == "busy"
    assert float(cpu.rstrip("%")) > 10  # a spinning shell, measured over a second
    used, _, limit = mem.partition(" / ")
    assert limit == "64MiB" and _size(used) >= 19 * MiB  # the 20 MB the shell holds
    assert abs(float(memp.rstrip("%")) - _size(used) / (64 * MiB) * 100) < 0.1
    assert net == "0B / 0B"  # --network none: only loopback, which Docker does not count
    assert re.fullmatch(r"[\d.]+k?M?B / [\d.]+k?M?B", blk)
    assert pids == "1"
    idle = rows["idle"]
    assert idle[3].endswith(" / " + bytes_size(host_memory()))  # no limit: the host's memory
    assert idle[7] == "3" and idle[2] == "0.00%"


def test_names_all_formats_and_stopped_containers(d):
    d("run", "-d", "--name", "idle", "busybox", "sleep", "1000")
    d("run", "--name", "done", "busybox", "true")
    idle_id = d.out("inspect", "-f", "{{.Id}}", "idle").strip()
    assert set(_rows(d.out("stats", "--no-stream"))) == {"idle"}
    rows = _rows(d.out("stats", "--no-stream", "-a"))
    assert set(rows) == {"idle", "done"}
    assert rows["done"][2:] == ["0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0"]
    out = d.out("stats", "--no-stream", "--no-trunc", "--format", "{{.ID}} {{.Container}} {{.Name}}",
                "idle", idle_id[:8])  # fmt: skip
    assert out == f"{idle_id} idle idle\n{idle_id} {idle_id[:8]} idle\n"
    js = [
        json.loads(ln)
        for ln in d.out("stats", "--no-stream", "--format", "json", "idle").splitlines()
    ]
    assert list(js[0]) == ["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name",
                           "NetIO", "PIDs"]  # fmt: skip
    assert js[0]["Name"] == "idle" and js[0]["PIDs"] == "1"
    table = d.out("stats", "--no-stream", "--format", "table {{.Name}}\t{{.PIDs}}", "idle")
    assert table.split() == ["NAME", "PIDS", "idle", "1"]


def test_a_missing_container_fails_before_anything_is_shown(d):
    d("run", "-d", "--name", "idle", "busybox", "sleep", "1000")
    p = d("stats", "--no-stream", "idle", "nope", check=False)
    assert one_line_error(p) == "Error: No such container: nope"
    assert p.stdout == b""
    p = d("stats", "--no-stream", "--format", "{{.Nope", check=False)
    assert "template parsing error" in p.stderr.decode() and p.returncode != 0


def test_streaming_redraws_until_interrupted(d):
    d("run", "-d", "--name", "idle", "busybox", "sleep", "1000")
    p = subprocess.Popen(d.argv("stats", "idle"), stdout=subprocess.PIPE, env=d.env)
    try:
        buf = b""
        while buf.count(b"\033[2J\033[H") < 3:
            chunk = os.read(p.stdout.fileno(), 4096)
            assert chunk, buf
            buf += chunk
        p.send_signal(signal.SIGINT)
        rest, _ = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    frames = (buf + rest).split(b"\033[2J\033[H")
    assert frames[0] == b""
    for frame in frames[1:3]:
        lines = frame.decode().splitlines()
        assert lines[0] == HEADER and lines[1].split()[1] == "idle" and len(lines) == 2
