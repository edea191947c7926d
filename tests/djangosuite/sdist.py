"""The tests/ directory of the installed Django's sdist, downloaded once per version.

Django's wheel leaves its test suite out, so it comes from the sdist of exactly the
installed version: tests from another release would test code they were not written
for. pip fetches it (from whatever index pip is configured with) into
``~/.cache/django-nonrel/django-sdist/VERSION/`` and only ``tests/`` is extracted.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import django

CACHE = Path.home() / ".cache" / "django-nonrel" / "django-sdist"


def django_tests_dir(version: str | None = None) -> Path:
    """Path of ``tests/`` (with runtests.py) for Django ``version``, default the installed one."""
    version = version or django.__version__
    root = CACHE / version
    tests = root / f"django-{version}" / "tests"
    if (tests / "runtests.py").exists():
        return tests
    root.mkdir(parents=True, exist_ok=True)
    archive = _download(version, root)
    # Extract beside the cache and move into place, so that a run interrupted half
    # way, or two runs at once, never leave a partial tests/ that looks complete.
    with tempfile.TemporaryDirectory(dir=root) as scratch:
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.name.split("/")[1:2] == ["tests"]]
            if not members:
                raise RuntimeError(f"{archive} has no tests/ directory")
            tar.extractall(scratch, members=members, filter="data")
        extracted = next(Path(scratch).glob("*/tests"))
        tests.parent.mkdir(exist_ok=True)
        if not (tests / "runtests.py").exists():
            shutil.rmtree(tests, ignore_errors=True)
            extracted.rename(tests)
    return tests


def _download(version: str, root: Path) -> Path:
    found = _archive(version, root)
    if found is None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"Django=={version}",
                "-d",
                str(root),
            ],
            check=True,
        )
        found = _archive(version, root)
    if found is None:
        raise RuntimeError(f"pip did not download the Django {version} sdist into {root}")
    return found


def _archive(version: str, root: Path) -> Path | None:
    for path in root.iterdir():
        if path.name.lower() == f"django-{version}.tar.gz":
            return path
    return None
