"""`dockyard.record.Record`: what the project used of frozen dataclasses, without their start-up cost."""

from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.record import Record, factory, replace

SRC = Path(__file__).resolve().parents[2] / "src"


class Point(Record):
    x: int
    y: int = 0
    tags: dict = factory(dict, compare=False)
    path: tuple = ()


class Point3(Point):
    z: int = 0


class Row(Record, frozen=False):
    id: str
    items: list = factory(list)


class Explicit(Record):
    name: str
    mode: int
    __slots__ = _fields = ("name", "mode")
    _defaults = {"mode": 0o644}


def test_fields_follow_annotation_order_with_defaults():
    assert Point._fields == ("x", "y", "tags", "path")
    p = Point(1)
    assert (p.x, p.y, p.tags, p.path) == (1, 0, {}, ())
    assert Point(1, 2, {"a": "b"}, ("p",)).as_dict() == {
        "x": 1,
        "y": 2,
        "tags": {"a": "b"},
        "path": ("p",),
    }
    assert Point(y=5, x=4) == Point(4, 5)


def test_a_factory_default_is_fresh_for_every_instance():
    a, b = Point(1), Point(1)
    a.tags["k"] = "v"
    assert b.tags == {} and a.tags is not b.tags
    assert Row("r").items is not Row("r").items


@pytest.mark.parametrize(
    "make",
    [
        lambda: Point(),  # x is required
        lambda: Point(1, 2, {}, (), "extra"),
        lambda: Point(1, x=2),
        lambda: Point(1, bogus=3),
        lambda: Explicit(),
        lambda: Explicit("n", mode=1, other=2),
    ],
)
def test_bad_construction_is_a_type_error(make):
    with pytest.raises(TypeError):
        make()


def test_frozen_records_refuse_changes_and_have_no_dict():
    p = Point(1)
    with pytest.raises(AttributeError):
        p.x = 2
    with pytest.raises(AttributeError):
        del p.x
    with pytest.raises(AttributeError):
        p.other = 1  # slotted: no stray attributes either
    assert not hasattr(p, "__dict__") and p.x == 1


def test_equality_and_hash_skip_fields_marked_compare_false():
    a = Point(1, 2, {"note": "a"})
    b = Point(1, 2, {"note": "b"})
    assert a == b and hash(a) == hash(b)
    assert a != Point(1, 3) and a != (1, 2)
    assert Point3(1) != Point(1)  # a subclass is another type
    assert len({a, b, Point(2)}) == 2


def test_replace_copies_with_changes_and_refuses_unknown_fields():
    p = Point(1, tags={"k": "v"})
    q = p.replace(y=7)
    assert (q.x, q.y, q.tags) == (1, 7, {"k": "v"}) and p.y == 0
    assert replace(p, path=("a",)).path == ("a",)  # the dataclasses.replace spelling
    with pytest.raises(TypeError):
        p.replace(z=1)


def test_subclasses_add_fields_after_the_inherited_ones():
    assert Point3._fields == ("x", "y", "tags", "path", "z")
    assert Point3(1, z=3).replace(y=2) == Point3(1, 2, {}, (), 3)


def test_mutable_records_can_be_assigned_but_not_hashed():
    r = Row("a")
    r.id = "b"
    r.items.append(1)
    assert r == Row("b", [1])
    with pytest.raises(TypeError):
        hash(r)
    with pytest.raises(TypeError):

        class Bad(Row, frozen=True):
            pass


def test_repr_names_every_field():
    assert repr(Point(1, path=("p",))) == "Point(x=1, y=0, tags={}, path=('p',))"


def test_pickle_and_copy_round_trip():
    p = Point(1, 2, {"k": "v"}, ("a",))
    for other in (pickle.loads(pickle.dumps(p)), copy.copy(p), copy.deepcopy(p)):
        assert other == p and other.tags == {"k": "v"}
    assert pickle.loads(pickle.dumps(Row("r", [1]))) == Row("r", [1])


def test_the_explicit_form_of_the_privileged_layer():
    e = Explicit("n")
    assert e.mode == 0o644 and e == Explicit(name="n", mode=0o644)
    assert e._values() == ("n", 0o644) and e.replace(mode=1).mode == 1
    with pytest.raises(AttributeError):
        e.name = "m"


def test_image_records_keep_their_dataclass_behaviour():
    from dockyard.oci.descriptor import Descriptor
    from dockyard.oci.image import ImageConfig

    d = Descriptor("t", "sha256:" + "a" * 64, 3, {"note": "x"})
    assert d == Descriptor("t", "sha256:" + "a" * 64, 3) and d.platform is None
    cfg = ImageConfig().with_config(user="app")
    assert cfg.config.user == "app" and ImageConfig().config.user == ""


def test_images_does_not_import_dataclasses_or_typing(tmp_path):
    # `dockyard images` is meant to start as fast as podman's: these modules cost ~15 ms.
    env = dict(os.environ, PYTHONPATH=str(SRC))
    env.pop("DOCKYARD_ROOT", None)
    p = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dockyard", "--root", str(tmp_path), "images"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in p.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "dockyard.services.images" in names
    assert not names & {"dataclasses", "typing", "inspect", "re", "calendar", "copy"}
