"""Django's own tests this backend skips or expects to fail, each under its reason.

Read by ``DatabaseFeatures.django_test_skips`` / ``django_test_expected_failures``
(Django's test runner marks them). ``SKIPS`` apply in both dialects: they
follow from what the backend emits (no FOREIGN KEY / CHECK constraints, upsert
saves). ``SINGLESTORE_ONLY_SKIPS`` apply on a SingleStore server only.
"""

SKIPS: dict[str, set[str]] = {}

SINGLESTORE_ONLY_SKIPS: dict[str, set[str]] = {}

EXPECTED_FAILURES: set[str] = set()
