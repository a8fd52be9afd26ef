"""Docker resource flags into cgroup values (go-units RAMInBytes vectors, --cpus, swap)."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.linux.cgroups import flags
from dockyard.linux.cgroups.v2 import shares_to_weight

KiB, MiB, GiB, TiB, PiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40, 1 << 50

# go-units size_test.go TestRAMInBytes, as data
RAM_OK = [
    ("32", 32),
    ("32b", 32),
    ("32B", 32),
    ("32k", 32 * KiB),
    ("32K", 32 * KiB),
    ("32kb", 32 * KiB),
    ("32Kb", 32 * KiB),
    ("32Kib", 32 * KiB),
    ("32KIB", 32 * KiB),
    ("32Mb", 32 * MiB),
    ("32Gb", 32 * GiB),
    ("32Tb", 32 * TiB),
    ("32Pb", 32 * PiB),
    ("32PB", 32 * PiB),
    ("32P", 32 * PiB),
    ("32.3", 32),
    ("32.3 mb", int(32.3 * MiB)),
    ("0.3MB", int(0.3 * MiB)),
    ("64m", 64 * MiB),
    ("1.5g", 1610612736),
    ("2GiB", 2 * GiB),
]
RAM_BAD = ["", "hello", "-32", " 32 ", "32m b", "32bm", ".3k", "32.", "1.2.3", "1x", "m", "32  b"]


@pytest.mark.parametrize(("text", "want"), RAM_OK)
def test_ram_in_bytes(text, want):
    assert flags.ram_in_bytes(text) == want


@pytest.mark.parametrize("text", RAM_BAD)
def test_ram_in_bytes_rejects(text):
    with pytest.raises(InvalidArgument, match="invalid size"):
        flags.ram_in_bytes(text)


def test_memory_limit_minimum():
    assert flags.memory_limit("6m") == 6 * MiB
    with pytest.raises(InvalidArgument, match="Minimum memory limit allowed is 6MB"):
        flags.memory_limit("4m")


@pytest.mark.parametrize(
    ("cpus", "quota"), [("1.5", 150000), ("0.5", 50000), ("2", 200000), ("0.01", 1000)]
)
def test_cpus_to_quota(cpus, quota):
    assert flags.cpu_quota(cpus) == (quota, 100000)


def test_cpus_checks_the_host_count_and_precision():
    with pytest.raises(InvalidArgument, match="only 2 CPUs available"):
        flags.cpu_quota("3", ncpu=2)
    with pytest.raises(InvalidArgument, match="rational number"):
        flags.cpu_quota("one")
    with pytest.raises(InvalidArgument, match="too precise"):
        flags.cpu_quota("0.0000000001")
    with pytest.raises(InvalidArgument):
        flags.cpu_quota("0")
    with pytest.raises(InvalidArgument):
        flags.cpu_quota("-1")


def test_memory_swap_rules():
    m = 64 * MiB
    assert flags.memory_swap(m, None) == 2 * m  # Docker's default: as much swap as memory
    assert flags.memory_swap(m, "-1") == -1
    assert flags.memory_swap(m, "128m") == 128 * MiB
    assert flags.memory_swap(0, None) is None
    with pytest.raises(InvalidArgument, match="larger than memory limit"):
        flags.memory_swap(m, "32m")
    with pytest.raises(InvalidArgument, match="always set the Memory limit"):
        flags.memory_swap(0, "128m")


def test_pids_limit():
    assert flags.pids_limit("20") == 20
    assert flags.pids_limit(0) == -1
    assert flags.pids_limit("-1") == -1
    with pytest.raises(InvalidArgument):
        flags.pids_limit("many")


def test_shares_to_weight_matches_runc():
    assert shares_to_weight(2) == 1
    assert shares_to_weight(1024) == 39
    assert shares_to_weight(262144) == 10000
