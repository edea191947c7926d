"""Counting declared skips: an id inside a class skipped as a whole adds nothing."""

from django_nonrel.testing import without_covered_ids


def test_method_ids_under_a_skipped_class_are_dropped_from_every_reason():
    skips = {
        "nested arrays": {"app.tests.TestQuerying"},
        "expressions": {"app.tests.TestQuerying.test_annotate", "app.tests.Other.test_annotate"},
    }
    assert without_covered_ids(skips) == {
        "nested arrays": {"app.tests.TestQuerying"},
        "expressions": {"app.tests.Other.test_annotate"},
    }


def test_ids_sharing_only_a_name_prefix_are_kept():
    # "TestQueryingMore" is not inside "TestQuerying": prefixes are compared per dotted part.
    skips = {"a": {"app.tests.TestQuerying"}, "b": {"app.tests.TestQueryingMore.test_x"}}
    assert without_covered_ids(skips) == skips


def test_a_module_id_covers_its_classes_and_methods():
    skips = {"a": {"app.test_sql"}, "b": {"app.test_sql.Cursor", "app.test_sql.Cursor.test_x"}}
    assert without_covered_ids(skips) == {"a": {"app.test_sql"}, "b": set()}
