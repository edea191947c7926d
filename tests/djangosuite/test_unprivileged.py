"""Tests that need an unprivileged user are skipped only when the run is root's."""

import unittest

import pytest

from tests.djangosuite import unprivileged


class Sample(unittest.TestCase):
    __test__ = False  # run only inside the suites below, not collected by pytest

    def test_readonly(self):
        self.fail("ran: root's writes ignore permissions")

    def test_other(self):
        pass


@pytest.fixture
def sample_suite(monkeypatch):
    monkeypatch.setattr(
        unprivileged, "NEEDS_UNPRIVILEGED_USER", frozenset({f"{__name__}.Sample.test_readonly"})
    )
    return unittest.TestSuite([unittest.TestSuite([Sample("test_readonly")]), Sample("test_other")])


def test_as_root_the_listed_test_is_skipped_with_the_reason(monkeypatch, sample_suite):
    monkeypatch.setattr(unprivileged, "running_as_root", lambda: True)
    assert unprivileged.skip_unprivileged_tests(sample_suite) == 1
    result = unittest.TestResult()
    sample_suite.run(result)
    assert [(test.id().rsplit(".", 1)[1], reason) for test, reason in result.skipped] == [
        ("test_readonly", unprivileged.REASON)
    ]
    # test_other ran and passed (Python 3.12+ no longer counts skipped tests as run).
    assert not result.failures and not result.errors


def test_as_another_user_every_test_runs(monkeypatch, sample_suite):
    monkeypatch.setattr(unprivileged, "running_as_root", lambda: False)
    assert unprivileged.skip_unprivileged_tests(sample_suite) == 0
    result = unittest.TestResult()
    sample_suite.run(result)
    assert len(result.failures) == 1 and not result.skipped
