"""Capability names, Docker's default set and --cap-add/--cap-drop/--privileged resolution."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.linux import caps


def test_numbers_match_the_kernel_header():
    assert caps.number("CAP_CHOWN") == 0
    assert caps.number("CAP_SYS_ADMIN") == 21
    assert caps.number("CAP_AUDIT_WRITE") == 29
    assert caps.number("CAP_CHECKPOINT_RESTORE") == 40
    assert caps.LAST_CAP == 40
    assert caps.name(39) == "CAP_BPF"


def test_default_set_is_dockers_fourteen_and_reads_as_in_proc_status():
    default = caps.resolve()
    assert len(default) == 14
    assert f"{caps.mask(default):016x}" == "00000000a80425fb"
    assert "CAP_SYS_ADMIN" not in caps.names(default)


@pytest.mark.parametrize("spelling", ["NET_ADMIN", "net_admin", "CAP_NET_ADMIN", "cap_net_admin"])
def test_names_are_case_insensitive_with_optional_prefix(spelling):
    assert caps.number("CAP_NET_ADMIN") in caps.resolve(cap_add=[spelling])


def test_drop_and_add():
    got = caps.resolve(cap_add=["SYS_PTRACE"], cap_drop=["NET_RAW", "chown"])
    assert caps.number("SYS_PTRACE") in got
    assert caps.number("NET_RAW") not in got
    assert caps.number("CHOWN") not in got
    assert len(got) == 13


def test_add_wins_over_drop_of_the_same_capability():
    assert caps.number("KILL") in caps.resolve(cap_add=["KILL"], cap_drop=["KILL"])


def test_drop_all_keeps_only_the_added_ones():
    assert caps.resolve(cap_add=["chown"], cap_drop=["ALL"]) == {0}
    assert caps.resolve(cap_drop=["all"]) == frozenset()


def test_add_all_gives_everything_but_drops():
    got = caps.resolve(cap_add=["ALL"], cap_drop=["SYS_ADMIN"])
    assert len(got) == 40 and 21 not in got


def test_privileged_gets_every_capability_whatever_the_drops():
    assert caps.resolve(cap_drop=["ALL"], privileged=True) == frozenset(range(41))


@pytest.mark.parametrize("bad", ["CAP_FLY", "", "SYS ADMIN", "CAP_", "41"])
def test_unknown_capability_is_invalid_argument(bad):
    with pytest.raises(InvalidArgument, match="unknown capability"):
        caps.resolve(cap_add=[bad])
    with pytest.raises(InvalidArgument, match="unknown capability"):
        caps.resolve(cap_drop=[bad])
