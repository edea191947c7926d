"""The document checks for FerretDB: the fast NaN/infinity scan agrees with the path finder;
the size bound that spares encoding is never below the real size."""

import collections
import datetime
import math
import uuid

import pytest

pytest.importorskip("bson")

import bson  # noqa: E402

from django_nonrel.backends.mongodb.limits import (  # noqa: E402
    has_non_finite,
    non_finite_path,
    size_bound,
)


class Ratio(float):
    pass


DOCUMENTS = [
    {"a": 1, "b": "x", "c": True, "d": None},
    {"a": 1.5, "nested": {"list": [1, 2.0, {"deep": -0.0}]}},
    {"a": math.nan},
    {"a": [1, {"b": math.inf}]},
    {"a": {"b": [[-math.inf]]}},
    {"a": Ratio(math.nan)},
    {"a": collections.OrderedDict(b=[math.nan])},
    {"a": (math.nan,)},  # tuples are not scanned by either (BSON arrays are lists here)
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_scan_agrees_with_path(document):
    assert has_non_finite(document) is (non_finite_path(document) is not None)


def test_paths():
    assert non_finite_path({"a": [1, {"b": math.inf}]}) == "a.1.b"
    assert has_non_finite({"a": [1, {"b": math.inf}]})
    assert not has_non_finite({"a": [1, {"b": 1e308}]})


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"a": 1, "b": 2.5, "c": True, "d": None, "e": "é" * 50, "f": bson.ObjectId()},
        {"when": datetime.datetime(2024, 1, 1), "nested": {"list": [1, "x", {"y": [None]}]}},
        {"k" * 30: ["v" * 100] * 30},
    ],
)
def test_size_bound_is_never_below_the_encoded_size(document):
    assert size_bound(document) >= len(bson.encode(document))


def test_size_bound_leaves_other_types_to_the_encoder():
    assert size_bound({"u": uuid.uuid4()}) is None
    assert size_bound({"a": [{"b": b"bytes"}]}) is None
