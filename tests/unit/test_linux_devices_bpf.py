"""The cgroup v2 device program: rule parsing and the shape of the assembled eBPF."""

import struct

import pytest

from dockyard.errors import InvalidArgument
from dockyard.linux.cgroups.base import DEFAULT_DEVICE_RULES
from dockyard.linux.cgroups.devices_bpf import assemble, parse_rule


def test_rules_parse():
    assert parse_rule("c 1:3 rwm") == (2, 1, 3, 7)
    assert parse_rule("b *:* m") == (1, -1, -1, 1)
    assert parse_rule("c 136:* rw") == (2, 136, -1, 6)
    assert parse_rule("a *:* rwm") == (0, -1, -1, 7)


@pytest.mark.parametrize("bad", ["", "c 1:3", "x 1:3 rwm", "c 1-3 rwm", "c 1:3 rwx", "c -2:3 r"])
def test_bad_rules_are_refused(bad):
    with pytest.raises(InvalidArgument, match="invalid device rule"):
        parse_rule(bad)


def _insns(prog):
    return [struct.unpack("<BBhi", prog[i : i + 8]) for i in range(0, len(prog), 8)]


def test_no_rules_is_deny_everything():
    insns = _insns(assemble([]))
    assert insns[-2:] == [(0xB7, 0, 0, 0), (0x95, 0, 0, 0)]  # r0 = 0; exit


def test_every_jump_stays_inside_its_rule_block():
    insns = _insns(assemble(DEFAULT_DEVICE_RULES))
    for i, (code, _regs, off, _imm) in enumerate(insns):
        if code == 0x55:
            target = i + 1 + off
            assert 0 < target < len(insns)
            # a failed match lands on the next rule's first test or the final deny
            assert insns[target - 1][0] == 0x95
    allows = [i for i, x in enumerate(insns) if x[0] == 0xB7 and x[3] == 1]
    assert len(allows) == len(DEFAULT_DEVICE_RULES)
