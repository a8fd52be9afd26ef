"""Docker's label filters: `label=KEY` and `label=KEY=VALUE` must all hold; `label!=...` none."""

import pytest

from dockyard.labels import matches

LABELS = {"a": "1", "b": "", "c": "x=y"}


@pytest.mark.parametrize(
    ("wanted", "plain", "negated"),
    [
        ([], True, True),
        (["a"], True, False),
        (["a=1"], True, False),
        (["a=2"], False, True),
        (["b="], True, False),  # an empty value is a value
        (["c=x=y"], True, False),  # the value is everything after the first "="
        (["a", "z"], False, False),  # every one must hold / none may
        (["z"], False, True),
    ],
)
def test_label_filters(wanted, plain, negated):
    assert matches(LABELS, wanted) is plain
    assert matches(LABELS, wanted, negate=True) is negated
