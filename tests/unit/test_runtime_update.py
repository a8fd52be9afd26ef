"""`docker update`'s rules (runtime.update, pure): what the daemon refuses, with its messages,
and what reaches the stored spec and the live cgroup."""

import pytest

from dockyard.errors import Conflict, InvalidArgument
from dockyard.linux.cgroups.base import Resources
from dockyard.runtime import update as U

MiB = 1 << 20


def spec(**kw) -> dict:
    doc = {"memory": 0, "memory_swap": None, "cpu_quota": 0, "cpu_period": 0, "cpu_shares": 0,
           "cpuset": "", "pids_limit": 0, "restart": "no", "restart_max": 0,
           "auto_remove": False}  # fmt: skip
    doc.update(kw)
    return doc


def apply(doc, **kw):
    return U.apply(doc, U.Changes(**kw), ncpu=2, nodes=1)


def test_memory_needs_the_swap_limit_raised_with_it():
    with pytest.raises(Conflict) as e:
        apply(spec(), memory=64 * MiB)  # no swap limit set: 0, like Docker
    assert str(e.value) == (
        "Memory limit should be smaller than already set memoryswap limit, "
        "update the memoryswap at the same time"
    )
    with pytest.raises(Conflict, match="memoryswap"):
        apply(spec(memory=64 * MiB, memory_swap=128 * MiB), memory=200 * MiB)
    new, res = apply(spec(memory=64 * MiB, memory_swap=128 * MiB), memory=100 * MiB)
    assert (new["memory"], new["memory_swap"]) == (100 * MiB, 128 * MiB)
    assert res == Resources(memory=100 * MiB, memory_swap=128 * MiB)
    new, res = apply(spec(), memory=64 * MiB, memory_swap=-1)
    assert (new["memory"], new["memory_swap"]) == (64 * MiB, -1)


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"memory": 1024, "memory_swap": -1}, "Minimum memory limit allowed is 6MB"),
        ({"memory": 64 * MiB, "memory_swap": 32 * MiB}, "Minimum memoryswap limit should be larger"),
        ({"memory_reservation": 1024}, "Minimum memory reservation allowed is 6MB"),
        ({"memory": 16 * MiB, "memory_swap": -1, "memory_reservation": 32 * MiB},
         "Minimum memory limit can not be less than memory reservation limit"),
        ({"nano_cpus": 10**9, "cpu_period": 50000}, "Nano CPUs and CPU Period cannot both be set"),
        ({"nano_cpus": 3 * 10**9}, "Range of CPUs is from 0.01 to 2.00"),
        ({"cpu_period": 500}, "CPU cfs period can not be less than 1ms"),
        ({"cpu_quota": 500}, "CPU cfs quota can not be less than 1ms"),
        ({"cpuset_cpus": "0-7"}, "Requested CPUs are not available - requested 0-7, available: 0-1"),
        ({"cpuset_cpus": "1-x"}, "Invalid value 1-x for cpuset cpus"),
        ({"cpuset_mems": "3"}, "Requested Memory nodes are not available"),
        ({"restart": "sometimes"}, "invalid restart policy"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_with_dockers_messages(kw, message):
    with pytest.raises(InvalidArgument, match=message):
        apply(spec(), **kw)


def test_nano_cpus_and_a_raw_quota_exclude_each_other_across_updates():
    new, res = apply(spec(), nano_cpus=1_500_000_000)
    assert (new["cpu_quota"], new["cpu_period"], new["nano_cpus"]) == (
        150000,
        100000,
        1_500_000_000,
    )
    assert res == Resources(cpu_quota=150000, cpu_period=100000)
    with pytest.raises(
        Conflict, match="CPU Quota cannot be updated as NanoCPUs has already been set"
    ):
        apply(new, cpu_quota=20000)
    raw, res = apply(spec(), cpu_quota=20000)
    assert res.cpu_quota == 20000 and raw["nano_cpus"] == 0
    with pytest.raises(Conflict, match="CPU Quota cannot be updated as NanoCPUs"):
        apply(raw, nano_cpus=10**9)
    # a spec stored before the update existed: period 100000 meant --cpus
    assert U.nano_cpus(spec(cpu_quota=50000, cpu_period=100000)) == 500_000_000


def test_restart_policy_and_auto_remove():
    new, res = apply(spec(), restart="on-failure:3")
    assert (new["restart"], new["restart_max"]) == ("on-failure", 3)
    assert res == Resources()  # nothing for the cgroup
    with pytest.raises(Conflict, match="Restart policy cannot be updated because AutoRemove"):
        apply(spec(auto_remove=True), restart="always")
    new, _ = apply(spec(auto_remove=True), restart="no")
    assert new["restart"] == "no"


def test_pids_shares_cpusets_and_reservation_reach_spec_and_cgroup():
    new, res = apply(
        spec(memory=64 * MiB, memory_swap=128 * MiB), pids_limit=5, cpu_shares=512,
        cpuset_cpus="1", cpuset_mems="0", memory_reservation=32 * MiB,
    )  # fmt: skip
    assert (new["pids_limit"], new["cpu_shares"], new["cpuset"]) == (5, 512, "1")
    assert (new["cpuset_mems"], new["memory_reservation"]) == ("0", 32 * MiB)
    assert res == Resources(pids_limit=5, cpu_shares=512, cpuset_cpus="1", cpuset_mems="0",
                            memory_reservation=32 * MiB)  # fmt: skip
    new, res = apply(new, pids_limit=-1)
    assert new["pids_limit"] == 0 and res.pids_limit == -1  # unlimited: "max" in the cgroup


def test_host_config_fields_for_inspect():
    import json

    new, _ = apply(spec(), nano_cpus=500_000_000, cpuset_mems="0", memory_reservation=8 * MiB)
    hc = U.host_config(json.dumps(new))
    assert hc == {"NanoCpus": 500_000_000, "CpuPeriod": 0, "CpuQuota": 0, "CpusetMems": "0",
                  "MemoryReservation": 8 * MiB}  # fmt: skip
    raw, _ = apply(spec(), cpu_quota=20000, cpu_period=50000)
    hc = U.host_config(json.dumps(raw))
    assert (hc["NanoCpus"], hc["CpuQuota"], hc["CpuPeriod"]) == (0, 20000, 50000)


def test_previous_puts_back_what_a_failed_write_changed():
    old = spec(memory=64 * MiB, memory_swap=128 * MiB, pids_limit=0)
    _, res = apply(old, memory=100 * MiB, pids_limit=9)
    back = U.previous(old, res)
    assert back == Resources(memory=64 * MiB, memory_swap=128 * MiB, pids_limit=-1)
