"""Pure parts of attach and --sysctl: Docker's detach-key syntax, the escape proxy that
holds a partial key sequence, and which sysctls a container may set."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime.attachio import DEFAULT_DETACH_KEYS, EscapeProxy, parse_detach_keys
from dockyard.runtime.sysctl import validate

# (Docker's --detach-keys text, the bytes) — term.ToBytes
KEYS = [
    ("", b"\x10\x11"),
    ("ctrl-p,ctrl-q", b"\x10\x11"),
    ("ctrl-a", b"\x01"),
    ("ctrl-A", b"\x01"),
    ("ctrl-@", b"\x00"),
    ("ctrl-[", b"\x1b"),
    ("ctrl-\\", b"\x1c"),
    ("ctrl-]", b"\x1d"),
    ("ctrl-^", b"\x1e"),
    ("ctrl-_", b"\x1f"),
    ("a,b,ctrl-z", b"ab\x1a"),
]


@pytest.mark.parametrize("text, want", KEYS)
def test_detach_keys(text, want):
    assert parse_detach_keys(text) == want


@pytest.mark.parametrize("text", ["ctrl-", "ctrl-ab", "ab", "ctrl-1", "shift-a"])
def test_bad_detach_keys(text):
    with pytest.raises(InvalidArgument, match=r"Invalid detach keys \(.*\) provided"):
        parse_detach_keys(text)


def test_escape_proxy_passes_everything_but_the_full_sequence():
    p = EscapeProxy(DEFAULT_DETACH_KEYS)
    assert p.feed(b"hello") == (b"hello", False)
    # a partial match is held back until the next byte decides
    assert p.feed(b"ab\x10") == (b"ab", False)
    assert p.feed(b"x") == (b"\x10x", False)
    assert p.feed(b"\x10") == (b"", False)
    assert p.feed(b"\x10") == (b"\x10", False)  # the first ^P goes through, the second waits
    assert p.feed(b"\x11rest") == (b"", True)
    assert p.feed(b"\x10\x11") == (b"", True)
    assert EscapeProxy(b"").feed(b"\x10\x11") == (b"\x10\x11", False)


def test_sysctl_allowed():
    pairs = (("kernel.shmmax", "1"), ("fs.mqueue.msg_max", "20"), ("net.ipv4.ip_forward", "1"),
             ("kernel.sem", "250 32000 100 128"))  # fmt: skip
    assert validate(pairs, "none") == pairs


@pytest.mark.parametrize(
    "key", ["kernel.domainname", "kernel.hostname", "vm.swappiness", "kernel.shm", "fs.file-max",
            "net", "net.", "../net.x", "net.ipv4/../../x", "kernel.msgmax/x", " net.x"],
)  # fmt: skip
def test_sysctl_refused(key):
    with pytest.raises(InvalidArgument, match="is not allowed"):
        validate(((key, "1"),), "none")


def test_sysctl_net_refused_with_host_network():
    with pytest.raises(
        InvalidArgument, match=r'sysctl "net\.ipv4\.ip_forward" not allowed in host'
    ):
        validate((("net.ipv4.ip_forward", "1"),), "host")
    assert validate((("kernel.shmmax", "1"),), "host") == (("kernel.shmmax", "1"),)
