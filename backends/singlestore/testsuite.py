"""Django's own tests this backend skips or expects to fail, each under its reason.

Read by ``DatabaseFeatures.django_test_skips`` / ``django_test_expected_failures``
(Django's test runner marks them). ``SKIPS`` apply in both dialects: they
follow from what the backend does on purpose. ``SINGLESTORE_ONLY_SKIPS`` apply
on a SingleStore server only. In the mysql dialect Django's own MySQL/MariaDB
skips are declared as well (DatabaseFeatures extends Django's MySQL features).
"""

SKIPS: dict[str, set[str]] = {
    "Counts Django's 100-key DELETE batches; cascades here delete up to "
    "features.max_keys_per_command (1000) keys per statement, so fewer queries run.": {
        "delete.tests.DeletionTests.test_bulk",
        "delete.tests.DeletionTests.test_large_delete",
        "delete.tests.DeletionTests.test_large_delete_related",
    },
}

SINGLESTORE_ONLY_SKIPS: dict[str, set[str]] = {}

EXPECTED_FAILURES: set[str] = set()
