"""Django's own test suite as django-nonrel's external yardstick.

``python -m tests.djangosuite --backend sqlite --backend sqlite_overlay --apps core``
runs Django's ``tests/runtests.py`` (from the sdist of the installed Django version)
one test app at a time on each backend target and records per-app counts in
``docs/conformance.json`` and ``docs/conformance.md``.

- ``targets``: the backend targets (settings modules) and the sets of test apps;
- ``sdist``: fetching and caching the tests of the installed Django version;
- ``runner``: one runtests.py process per app, with a time limit;
- ``outcomes``: reading runtests.py's ``-v 2`` output into per-test outcomes;
- ``overlay``: the test runner that proves which patches were in effect;
- ``declared``: the skips and expected failures a backend declares;
- ``report``: the JSON and Markdown report, merged across runs.

Skips and expected failures come only from the backend's ``features.py``
(``django_test_skips``, ``django_test_expected_failures``), which Django's test
runner applies itself; this harness adds none.
"""
