"""Volumes, the pure parts: Docker's name rule, `-v`/`--mount` parsing, which mounts a
container gets (`runtime.volumes.plan`), the local driver's options, the store's records
and in-use rule, and the merged-layer lookup copy-up reads from."""

import os

import pytest

from dockyard.cli.commands import runflags
from dockyard.errors import Conflict, InvalidArgument, NotFound, Unsupported
from dockyard.metadata.volumes import VolumeRecord, VolumeStore, validate_name
from dockyard.runtime import copyup
from dockyard.runtime import spec as S
from dockyard.runtime import volumes as V


@pytest.mark.parametrize("name", ["ab", "a1", "my-vol", "my_vol.2", "0x", "A.B", "a" * 255])
def test_valid_names(name):
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "a", "..", ".a", "-a", "_a", "a/b", "../x", "a b", "a:b", "é1", "a\0b", "a" * 256]
)
def test_invalid_names_get_dockers_message(name):
    with pytest.raises(InvalidArgument, match="includes invalid characters for a local volume"):
        validate_name(name)


def test_bind_values_naming_volumes():
    assert S.parse_bind("data:/d") == ("data", "/d", ())
    assert S.parse_bind("data:/d:ro,nocopy") == ("data", "/d", ("ro", "nocopy"))
    assert S.parse_bind("/h:/d:ro,nocopy") == ("/h", "/d", ("ro",))  # binds drop nocopy
    assert S.parse_bind("/anon") == ("", "/anon", ())
    with pytest.raises(InvalidArgument, match=r"create \.\./x: .*invalid characters"):
        S.parse_bind("../x:/d")


@pytest.mark.parametrize(
    "value,expected",
    [
        ("type=volume,src=v,dst=/d", ("v", "/d", False, False, ())),
        ("target=/d", ("", "/d", False, False, ())),
        ("type=volume,source=v,target=/d,readonly,volume-nocopy", ("v", "/d", True, True, ())),
        ("type=volume,src=v,dst=/d,volume-nocopy=false,ro=1", ("v", "/d", True, False, ())),
        ("type=volume,src=v,dst=/d,volume-label=a=1,volume-label=b", ("v", "/d", False, False,
                                                                       (("a", "1"), ("b", "")))),
        ("type=volume,src=v,dst=/d,volume-driver=local", ("v", "/d", False, False, ())),
    ],
)  # fmt: skip
def test_mount_flag_volumes(value, expected):
    assert runflags.parse_mount(value) == ("volume", expected)


def test_plan_orders_names_anonymous_and_image_volumes():
    seen = {"/bound"}
    binds = [("data", "/d", ("ro",), "data:/d:ro"), ("", "/anon", (), "/anon")]
    mounts = [("mm", "/m", False, True, (("k", "v"),))]
    image = ("/bound", "/d/", "/img", "relative", "/")
    out = V.plan(binds, mounts, image, seen)
    assert out == (
        ("data", "/d", "ro", False, False, (), "data:/d:ro", False),
        ("", "/anon", "", True, False, (), "", True),
        ("mm", "/m", "", True, True, (("k", "v"),), "", False),
        ("", "/img", "", True, False, (), "", True),  # the covered ones are skipped
    )
    assert V.plan([("data", "/x", (), "data:/x")], (), (), set())[0][2] == "z"  # Docker's Mode
    with pytest.raises(InvalidArgument, match="Duplicate mount point: /d"):
        V.plan([("aa", "/d", (), "aa:/d")], [("bb", "/d/", False, False, ())], (), set())
    with pytest.raises(InvalidArgument, match="Duplicate mount point: /bound"):
        V.plan([("aa", "/bound", (), "aa:/bound")], (), (), {"/bound"})
    with pytest.raises(InvalidArgument, match="must be absolute"):
        V.plan((), [("aa", "rel", False, False, ())], (), set())


def test_local_driver_options(tmp_path):
    V.check_options("local", ())
    V.check_options("local", (("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=1m")))
    V.check_options("local", (("type", "none"), ("o", "bind"), ("device", str(tmp_path))))
    with pytest.raises(NotFound, match="no such file or directory"):
        V.check_options("local", (("type", "none"), ("o", "bind"), ("device", "/no/such")))
    with pytest.raises(InvalidArgument, match='invalid option: "size"'):
        V.check_options("local", (("size", "1"),))
    with pytest.raises(NotFound, match='plugin "nfs" not found'):
        V.check_options("nfs", ())
    with pytest.raises(Unsupported):
        V.check_options("local", (("type", "nfs"), ("device", ":/x")))


def test_store_in_use_follows_existing_containers(tmp_path):
    db = str(tmp_path / "metadata.db")
    with VolumeStore(db) as store:
        assert store.insert(VolumeRecord("v1", "local", (("a", "1"),), (), 5, False))
        assert not store.insert(VolumeRecord("v1", "local", (), (), 6, True))  # kept as it was
        assert store.get("v1") == VolumeRecord("v1", "local", (("a", "1"),), (), 5, False)
        store.add_refs("c" * 64, ["v1"])
        # a reference from a container that does not exist pins nothing
        assert store.users("v1") == [] and store.usage() == {}
        store._exec(
            "INSERT INTO containers (id, name, image, image_id, snapshot, created, state, spec)"
            " VALUES (?, 'n1', 'i', 'i', 's', 0, 'created', '{}')",
            ("c" * 64,),
        )
        assert store.users("v1") == ["c" * 64] and store.usage() == {"v1": 1}
        with pytest.raises(Conflict, match=f"remove v1: volume is in use - \\[{'c' * 64}\\]"):
            store.delete("v1", force=True)
        assert store.drop_refs("c" * 64) == ["v1"]
        store.delete("v1")
        with pytest.raises(NotFound, match="get v1: no such volume"):
            store.delete("v1")
        store.delete("v1", force=True)
        with pytest.raises(NotFound):
            store.add_refs("c" * 64, ["nope"])


def _layer(root, files: dict):
    """A layer directory: path -> text, "->target" (symlink), None (dir), "WH" (whiteout)."""
    for path, what in files.items():
        p = root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        if what is None:
            p.mkdir(exist_ok=True)
        elif what == "WH":
            os.mknod(p, 0o600 | 0o020000, 0) if os.geteuid() == 0 else pytest.skip("mknod")
        elif what.startswith("->"):
            os.symlink(what[2:], p)
        else:
            p.write_text(what)
    return str(root)


def test_clamp_and_resolve_follow_links_inside_the_image_only(tmp_path):
    lower = _layer(tmp_path / "l", {"real/f": "x", "up": "->../../..", "abs": "->/real",
                                    "file": "data"})  # fmt: skip
    upper = _layer(tmp_path / "u", {"real/g": "y", "loop": "->loop"})
    layers = (upper, lower)
    assert copyup.clamp(layers, "/abs") == "/real"
    assert copyup.clamp(layers, "/up") == "/"
    assert copyup.clamp(layers, "/up/up/real/../abs/x") == "/real/x"
    assert copyup.clamp(layers, "/missing/../real") == "/real"
    dirs = copyup.resolve(layers, "/abs")
    assert dirs == [os.path.join(upper, "real"), os.path.join(lower, "real")]
    assert copyup.resolve(layers, "/file") is None
    assert copyup.resolve(layers, "/missing") is None
    with pytest.raises(InvalidArgument, match="too many levels"):
        copyup.clamp(layers, "/loop")
