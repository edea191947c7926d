"""The document checks for FerretDB: the fast NaN/infinity scan agrees with the path finder."""

import collections
import math

import pytest

pytest.importorskip("bson")

from django_nonrel.backends.mongodb.limits import (  # noqa: E402
    NON_FINITE_TAIL,
    has_non_finite,
    non_finite_path,
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


NON_FINITE = [math.nan, -math.nan, math.inf, -math.inf, float.fromhex("0x7ff8dead0000beef")]


@pytest.mark.parametrize(
    "document", DOCUMENTS[:7] + [{"a": [1, "x", {"b": v}]} for v in NON_FINITE]
)
def test_the_bson_prefilter_never_misses_a_non_finite_number(document):
    # check_documents scans only documents whose BSON the prefilter matches.
    import bson

    if has_non_finite(document):
        assert NON_FINITE_TAIL.search(bson.encode(dict(document)))


def test_the_bson_prefilter_passes_ordinary_documents():
    import bson

    assert not NON_FINITE_TAIL.search(bson.encode({"a": 1.5, "b": "text", "c": [2, 1e300]}))
