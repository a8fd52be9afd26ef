"""Mount option parsing and the overlay option string (pure parts of linux.mounts)."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.linux import mounts
from dockyard.linux import syscalls as S


def test_flags_propagation_and_data_are_split():
    o = mounts.parse_options(("ro", "nosuid", "rslave", "size=64m", "mode=1777"))
    assert o.flags == S.MS_RDONLY | S.MS_NOSUID
    assert o.propagation == S.MS_SLAVE | S.MS_REC
    assert o.data == "size=64m,mode=1777"
    assert o.recursive


def test_later_options_win():
    assert mounts.parse_options(("ro", "rw")).flags == 0
    assert not mounts.parse_options(("bind",)).recursive


def test_an_option_cannot_smuggle_more_options():
    with pytest.raises(InvalidArgument):
        mounts.parse_options(("size=1m,uid=0",))


def test_overlay_data():
    assert (
        mounts.overlay_data(["/l2", "/l1"], "/u", "/w", True)
        == "lowerdir=/l2:/l1,upperdir=/u,workdir=/w,volatile"
    )
    assert mounts.overlay_data(["/a", "/b"], "", "", True) == "lowerdir=/a:/b"


@pytest.mark.parametrize("bad", ["/a:b", "/a,upperdir=/etc"])
def test_overlay_dirs_with_separators_are_refused(bad):
    with pytest.raises(InvalidArgument):
        mounts.overlay_data([bad], "/u", "/w", False)


def test_default_masks_follow_docker():
    for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/scsi"):
        assert p in mounts.MASKED_PATHS
    assert mounts.READONLY_PATHS == (
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    )
    assert set(mounts.MASKED_PATHS) <= set(mounts.default_masked_paths())
