"""`dockyard.fastjson` gives exactly what the `json` package gives, without importing it."""

import json
import math
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard import fastjson

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500)
@given(values)
def test_round_trips_like_json(v):
    text = fastjson.dumps(v)
    assert text == json.dumps(v, separators=(",", ":"))
    assert fastjson.loads(text) == json.loads(text)
    assert fastjson.loads(text.encode()) == json.loads(text.encode())


def test_tuples_are_arrays_and_keys_are_stringified_like_json():
    v = {"a": (1, 2), 3: None, True: 1.5, "é": "\n\u2028"}
    assert fastjson.dumps(v) == json.dumps(v, separators=(",", ":"))


@pytest.mark.parametrize(
    "text",
    [' {"a": 1} \n', "\t[]", "NaN", "-Infinity", "1e400", '"\\ud800"', "[1.0, -0.0]"],
)
def test_odd_but_valid_documents_match_json(text):
    got, want = fastjson.loads(text), json.loads(text)
    assert repr(got) == repr(want) or (math.isnan(got) and math.isnan(want))


@pytest.mark.parametrize(
    "data",
    [b'\xef\xbb\xbf{"a": 1}', '{"a": 1}'.encode("utf-16"), '["x"]'.encode("utf-32-le")],
)
def test_boms_and_wide_encodings_decode_as_json_does(data):
    assert fastjson.loads(data) == json.loads(data)


@pytest.mark.parametrize(
    "bad", ["", "   ", "{", '{"a":1}x', "[1,]", "\ufeff[]", '{"a" 1}', b"\xff\xfe\x00", "tru"]
)
def test_bad_documents_raise_jsons_own_error(bad):
    with pytest.raises(ValueError) as mine:
        fastjson.loads(bad)
    with pytest.raises(ValueError) as theirs:
        json.loads(bad)
    assert type(mine.value) is type(theirs.value)
    assert str(mine.value) == str(theirs.value)


def test_unserializable_is_a_type_error_like_json():
    with pytest.raises(TypeError, match="not JSON serializable"):
        fastjson.dumps({"a": object()})


def test_circular_data_is_refused():
    v: list = []
    v.append(v)
    with pytest.raises(ValueError):
        fastjson.dumps(v)


def test_does_not_import_json_re_or_enum():
    code = (
        "import sys\n"
        "from dockyard import fastjson\n"
        "fastjson.loads(fastjson.dumps({'a': [1, 'x', None]}))\n"
        "print(sorted(m for m in ('json', 're', 'enum') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env=dict(os.environ, PYTHONPATH=SRC),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"
