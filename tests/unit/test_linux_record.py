"""The start path's record type: keyword construction, defaults, immutability, equality."""

import pytest

from dockyard.linux.init import InitConfig
from dockyard.linux.mounts import MASKED_PATHS, Mount, RootfsSpec


def test_defaults_and_keywords():
    spec = RootfsSpec(rootfs="/r", readonly=True)
    assert spec.masked_paths == MASKED_PATHS and spec.readonly and spec.lowerdirs == ()
    assert Mount("/data", source="/srv") == Mount(destination="/data", type="bind", source="/srv")


def test_records_are_immutable_and_replace_makes_a_copy():
    cfg = InitConfig(argv=("/bin/sh",))
    with pytest.raises(AttributeError):
        cfg.hostname = "x"
    other = cfg.replace(hostname="x")
    assert other.hostname == "x" and cfg.hostname == "" and other != cfg
    assert hash(cfg) == hash(InitConfig(argv=("/bin/sh",)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: InitConfig(),  # argv is required
        lambda: InitConfig(argv=("x",), bogus=1),
        lambda: Mount("/a", "bind", "/s", (), "extra"),
        lambda: Mount("/a", destination="/b"),
    ],
)
def test_bad_construction_is_a_type_error(make):
    with pytest.raises(TypeError):
        make()


def test_repr_names_the_fields():
    assert repr(Mount("/d")) == "Mount(destination='/d', type='bind', source='', options=())"
