"""Django's own test suite as the external yardstick for django-nonrel.

``python -m tests.djangosuite --backend sqlite --backend sqlite_overlay --apps core``
runs Django's ``tests/runtests.py`` (from the sdist of the installed Django
version) one test app at a time, per backend target, and records per-app counts
in ``docs/conformance.json`` and ``docs/conformance.md``.

Skips and expected failures come only from the backend's ``features.py``
(``django_test_skips``, ``django_test_expected_failures``), which Django's test
runner applies itself; this harness adds none.
"""
