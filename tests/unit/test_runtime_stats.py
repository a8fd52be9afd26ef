"""`docker stats` arithmetic and the drivers' readings, on file contents recorded from real
cgroups (v1 on this host, v2 as the kernel documents and writes them), and the table cells
the CLI prints (docker CLI's formatter with go-units)."""

import pytest

from dockyard.cli.commands.stats import HEADER, STATS_TABLE, StatsRow, render, stats_format
from dockyard.linux.cgroups.base import parse_blkio_v1, parse_io_stat
from dockyard.linux.cgroups.v1 import V1Driver
from dockyard.linux.cgroups.v2 import V2Driver
from dockyard.runtime import stats as S

MiB = 1 << 20

# recorded: /sys/fs/cgroup/memory/dockyard/<id>/memory.stat (v1, trimmed)
V1_MEMORY_STAT = """cache 4325376
rss 20307968
mapped_file 0
inactive_anon 20283392
active_anon 24576
inactive_file 4194304
active_file 131072
hierarchical_memory_limit 67108864
total_cache 4325376
total_rss 20307968
total_inactive_anon 20283392
total_active_anon 24576
total_inactive_file 4194304
total_active_file 131072
"""
# recorded: blkio.throttle.io_service_bytes_recursive after a dd with oflag=direct
V1_BLKIO = """8:0 Read 12288
8:0 Write 1048576
8:0 Sync 1060864
8:0 Async 0
8:0 Discard 0
8:0 Total 1060864
8:16 Read 4096
8:16 Write 0
8:16 Sync 4096
8:16 Async 0
8:16 Discard 0
8:16 Total 4096
Total 1064960
"""
V2_IO_STAT = """8:0 rbytes=12288 wbytes=1048576 rios=3 wios=1 dbytes=0 dios=0
253:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0
"""
V2_MEMORY_STAT = """anon 20480000
file 5242880
kernel 1048576
inactive_anon 20400000
active_anon 80000
inactive_file 4194304
active_file 1048576
"""
PROC_STAT = """cpu  439725 0 331416 758644 48563 0 6487 261 0 0
cpu0 187911 0 155076 409964 35602 0 1852 119 0 0
cpu1 251813 0 176340 348679 12961 0 4635 141 0 0
intr 1 2 3
"""
NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  123456     100    0    0    0     0          0         0   123456     100    0    0    0     0       0          0
  eth0: 1500000    1000    0    0    0     0          0         0    25000      50    0    0    0     0       0          0
  eth1:     500       5    0    0    0     0          0         0      700       7    0    0    0     0       0          0
"""


def test_blkio_and_io_stat_sum_reads_and_writes_over_devices():
    assert parse_blkio_v1(V1_BLKIO) == (12288 + 4096, 1048576)
    assert parse_blkio_v1("Total 0\n") == (0, 0)
    assert parse_io_stat(V2_IO_STAT) == (12288 + 4096, 1048576 + 8192)
    assert parse_io_stat("") == (0, 0)


def test_system_cpu_is_the_first_seven_fields_in_nanoseconds():
    ticks = 439725 + 0 + 331416 + 758644 + 48563 + 0 + 6487  # steal and guest not counted
    assert S.system_cpu_ns(PROC_STAT, 100) == ticks * 10_000_000


def test_network_counts_every_interface_but_loopback():
    assert S.net_io(NET_DEV) == (1500000 + 500, 25000 + 700)
    only_lo = "\n".join(NET_DEV.splitlines()[:3])
    assert S.net_io(only_lo) == (0, 0)


@pytest.mark.parametrize(
    "prev_cpu,prev_sys,cpu,sys_,online,expected",
    [
        (0, 0, 1_000_000_000, 2_000_000_000, 2, 100.0),  # one of two CPUs busy
        (5, 10, 5, 20, 2, 0.0),  # no CPU used
        (0, 10, 50, 10, 2, 0.0),  # no system time passed: not a division by zero
        (1000, 1000, 1250, 2000, 4, 100.0),
    ],
)
def test_cpu_percent_as_the_docker_cli_computes_it(prev_cpu, prev_sys, cpu, sys_, online, expected):
    assert S.cpu_percent(prev_cpu, prev_sys, cpu, sys_, online) == pytest.approx(expected)


def test_memory_excludes_inactive_file_and_caps_the_limit_at_the_host():
    assert S.memory_used(24633344, 4194304) == 24633344 - 4194304
    assert S.memory_used(4096, 8192) == 4096  # more inactive than usage: usage as is
    assert S.memory_limit(64 * MiB, 24 << 30) == 64 * MiB
    assert S.memory_limit(0, 24 << 30) == 24 << 30  # unlimited: the host's memory
    assert S.memory_limit(1 << 62, 24 << 30) == 24 << 30
    assert S.memory_percent(16 * MiB, 64 * MiB) == 25.0
    assert S.memory_percent(16 * MiB, 0) == 0.0


def test_compute_two_samples():
    a = S.Sample(cpu_ns=1_000, system_ns=10_000, online_cpus=2)
    b = S.Sample(
        cpu_ns=3_000, system_ns=14_000, online_cpus=2, memory_usage=40 * MiB,
        memory_inactive_file=8 * MiB, memory_limit=64 * MiB, net_rx=1, net_tx=2,
        block_read=3, block_write=4, pids=5,
    )  # fmt: skip
    u = S.compute(a, b, 1 << 34)
    assert u.cpu_percent == pytest.approx(100.0)
    assert (u.memory, u.memory_limit, u.memory_percent) == (32 * MiB, 64 * MiB, 50.0)
    assert (u.net_rx, u.net_tx, u.block_read, u.block_write, u.pids) == (1, 2, 3, 4, 5)


def _v1_tree(tmp_path):
    mounts = {}
    for c in ("memory", "cpuacct", "pids", "blkio"):
        d = tmp_path / c / "dockyard" / "c1"
        d.mkdir(parents=True)
        mounts[c] = str(tmp_path / c)
    m = tmp_path / "memory" / "dockyard" / "c1"
    (m / "memory.usage_in_bytes").write_text("24633344\n")
    (m / "memory.limit_in_bytes").write_text("67108864\n")
    (m / "memory.stat").write_text(V1_MEMORY_STAT)
    (tmp_path / "cpuacct" / "dockyard" / "c1" / "cpuacct.usage").write_text("987654321\n")
    (tmp_path / "pids" / "dockyard" / "c1" / "pids.current").write_text("3\n")
    blk = tmp_path / "blkio" / "dockyard" / "c1"
    (blk / "blkio.bfq.io_service_bytes_recursive").write_text("Total 0\n")  # no BFQ: next
    (blk / "blkio.throttle.io_service_bytes_recursive").write_text(V1_BLKIO)
    return V1Driver(mounts)


def test_v1_driver_reads_recorded_files(tmp_path):
    st = _v1_tree(tmp_path).stats("dockyard/c1")
    assert st.memory_usage == 24633344 and st.memory_limit == 64 * MiB
    assert st.memory_inactive_file == 4194304  # total_, the hierarchy's, not the local one
    assert st.cpu_usage_ns == 987654321 and st.pids == 3
    assert (st.io_read, st.io_write) == (16384, 1048576)


def test_v1_unlimited_memory_reads_as_zero(tmp_path):
    d = _v1_tree(tmp_path)
    (tmp_path / "memory/dockyard/c1/memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert d.stats("dockyard/c1").memory_limit == 0


def test_v2_driver_reads_recorded_files(tmp_path):
    leaf = tmp_path / "dockyard" / "c1"
    leaf.mkdir(parents=True)
    (leaf / "memory.current").write_text("25690112\n")
    (leaf / "memory.max").write_text("max\n")
    (leaf / "memory.stat").write_text(V2_MEMORY_STAT)
    (leaf / "cpu.stat").write_text("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
    (leaf / "pids.current").write_text("2\n")
    (leaf / "io.stat").write_text(V2_IO_STAT)
    (leaf / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n")
    d = V2Driver(str(tmp_path))
    st = d.stats("dockyard/c1")
    assert st.memory_usage == 25690112 and st.memory_limit == 0
    assert st.memory_inactive_file == 4194304
    assert st.cpu_usage_ns == 1_500_000 and st.pids == 2
    assert (st.io_read, st.io_write) == (16384, 1056768)
    assert d.oom_kills("dockyard/c1") == 1  # what makes State.OOMKilled true on v2


def test_stats_of_a_cgroup_without_controllers_are_zeros(tmp_path):
    (tmp_path / "dockyard" / "c1").mkdir(parents=True)
    st = V2Driver(str(tmp_path)).stats("dockyard/c1")
    assert (st.memory_usage, st.cpu_usage_ns, st.io_read, st.io_write) == (0, 0, 0, 0)


# -- the CLI's cells ------------------------------------------------------------------------

FULL = "8" * 64


def _entry(usage, name="web"):
    return S.Entry(container="web", id=FULL, name=name, usage=usage)


def test_cells_use_go_units():
    u = S.Usage(
        cpu_percent=95.5849, memory=19.37 * MiB, memory_limit=64 * MiB, memory_percent=30.2656,
        net_rx=1500000, net_tx=25000, block_read=0, block_write=1048576, pids=7,
    )  # fmt: skip
    r = StatsRow(_entry(u), trunc=True)
    assert r.CPUPerc() == "95.58%"
    assert r.MemUsage() == "19.37MiB / 64MiB"  # BytesSize: binary, 4 significant digits
    assert r.MemPerc() == "30.27%"
    assert r.NetIO() == "1.5MB / 25kB"  # HumanSizeWithPrecision(x, 3): decimal
    assert r.BlockIO() == "0B / 1.05MB"
    assert r.PIDs() == "7"
    assert r.ID() == FULL[:12] and StatsRow(_entry(u), trunc=False).ID() == FULL
    assert r.Name() == "web" and r.Container() == "web"


def test_a_stopped_container_shows_zeros_and_an_unreadable_one_dashes():
    z = StatsRow(_entry(S.Usage()), trunc=True)
    assert (z.CPUPerc(), z.MemUsage(), z.MemPerc(), z.NetIO(), z.BlockIO(), z.PIDs()) == (
        "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0",
    )  # fmt: skip
    g = StatsRow(_entry(None, name=""), trunc=True)
    assert (g.CPUPerc(), g.MemUsage(), g.MemPerc(), g.NetIO(), g.BlockIO(), g.PIDs()) == (
        "--", "-- / --", "--", "--", "--", "--",
    )  # fmt: skip
    assert g.Name() == "--"


def test_table_json_and_templates():
    u = S.Usage(memory=MiB, memory_limit=2 * MiB, memory_percent=50.0, pids=1)
    out = render(stats_format(""), [_entry(u)], True)
    head, row = out.splitlines()
    assert head == (
        "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS"
    )
    assert row.split() == ["888888888888", "web", "0.00%", "1MiB", "/", "2MiB", "50.00%",
                           "0B", "/", "0B", "0B", "/", "0B", "1"]  # fmt: skip
    assert stats_format("table") == STATS_TABLE
    js = render("json", [_entry(u)], True)
    assert js.startswith('{"BlockIO":"0B / 0B","CPUPerc":"0.00%","Container":"web"')
    assert render("{{.Name}}: {{.MemPerc}}", [_entry(u)], True) == "web: 50.00%\n"
    assert render("table {{.Container}}\t{{.PIDs}}", [_entry(u)], True).splitlines()[0].split() == [
        HEADER["Container"], HEADER["PIDs"],
    ]  # fmt: skip
