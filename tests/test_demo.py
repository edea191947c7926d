"""The README's first command: the demo tour runs and shows what it claims."""

import os
import subprocess
import sys

from tests.settings import TARGET


def test_demo_tour_runs_and_shows_results_and_commands():
    url = TARGET if TARGET.startswith(("mongodb://", "mongomock://")) else "mongomock://demo"
    completed = subprocess.run(
        [sys.executable, "-m", "django_nonrel", "demo", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert f"django-nonrel demo on {url}" in out
    assert "-> ['Tabbouleh']" in out  # tags="vegan" and ingredients__name="bulgur"
    assert "-> ['Pesto']" in out
    assert "updateOne({'_id': 1}" in out and "upsert=True" in out
    assert "countDocuments({}, {'limit': 2})" in out
    assert "'related_selection': {}" in out
    assert 'union(filter(tags="quick"))  # combined on the client\n    -> [' in out
    assert 'distinct("title")\n    -> NotSupportedError:' in out
