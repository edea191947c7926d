"""Django's ``TestCase``: a suite of small tests on the MongoDB backend vs on SQLite ``:memory:``.

What a project's own test suite pays per test. Each variant runs the same
generated ``TestCase`` class (``setUpTestData`` makes a blog with three
entries; every test creates an entry, counts, saves a change and reads it back,
and checks that the new entry got the key a fresh table gives, so each test
really starts from the class's data) against a test database Django's own
``create_test_db`` made: stock SQLite in memory, and the MongoDB backend on this
target's server. Timed: the whole suite, from ``setUpClass`` to
``tearDownClass``, as ``unittest`` runs it. The work is the number of tests
that ran and passed (a failing test is an error, not a number).
"""

from __future__ import annotations

import unittest

from bench.measure import Case, Variant
from bench.models import Blog, Entry
from bench.scenarios import Context
from bench.targets import SQLITE_TESTS, TESTCASE_TESTS


def small_tests(alias: str, count: int) -> type:
    """A ``TestCase`` class with ``count`` small tests on database ``alias``."""
    from django.test import TestCase

    def make_test(number: int):
        def test(self):
            entries = Entry.objects.using(alias)
            entry = entries.create(blog=self.blog, title=f"entry {number}", rank=number)
            # A fresh table's fourth key: every test starts from the class's data.
            self.assertEqual(entry.pk, 4)
            self.assertEqual(entries.filter(blog=self.blog).count(), 4)
            entry.rank += 1
            entry.save()
            self.assertEqual(entries.get(pk=entry.pk).rank, number + 1)

        return test

    class SmallTests(TestCase):
        databases = {alias}

        @classmethod
        def setUpTestData(cls):
            cls.blog = Blog.objects.using(alias).create(name="blog")
            Entry.objects.using(alias).bulk_create(
                Entry(blog=cls.blog, title=f"seed {i}", rank=i) for i in range(3)
            )

    for number in range(count):
        setattr(SmallTests, f"test_{number:04d}", make_test(number))
    return SmallTests


def run_suite(test_class: type) -> int:
    """Run every test of ``test_class``; the number that passed (raises on a failure)."""
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(test_class)
    result = unittest.TestResult()
    suite.run(result)
    problems = result.errors + result.failures
    if problems:
        test, trace = problems[0]
        raise AssertionError(f"{len(problems)} of the tests failed; {test}: {trace}")
    return result.testsRun


def cases(ctx: Context) -> list[Case]:
    if ctx.kind != "mongodb":
        return []
    from django.db import connections

    count = ctx.sizes.tests
    created: dict[str, str] = {}

    def prepare() -> None:
        for alias in (SQLITE_TESTS, TESTCASE_TESTS):
            connection = connections[alias]
            created[alias] = connection.settings_dict["NAME"]
            connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    def cleanup() -> None:
        for alias, name in created.items():
            connections[alias].creation.destroy_test_db(name, verbosity=0)

    suites = {alias: small_tests(alias, count) for alias in (SQLITE_TESTS, TESTCASE_TESTS)}
    case = Case(
        "testcase",
        f"TestCase: {count} small tests",
        {
            "sqlite": Variant(
                run=lambda state: run_suite(suites[SQLITE_TESTS]),
                counter=ctx.opened.counters["sqlite"],
            ),
            "orm": Variant(
                run=lambda state: run_suite(suites[TESTCASE_TESTS]),
                counter=ctx.opened.counters["testcase"],
            ),
        },
        unit="test",
    )
    case.prepare, case.cleanup = prepare, cleanup
    return [case]
