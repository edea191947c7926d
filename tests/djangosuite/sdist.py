"""The tests/ directory of the installed Django's sdist, downloaded once per version."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import django

CACHE = Path.home() / ".cache" / "django-nonrel" / "django-sdist"


def django_tests_dir(version: str | None = None) -> Path:
    """Path of ``tests/`` for Django ``version`` (default: the installed one)."""
    version = version or django.__version__
    root = CACHE / version
    tests = root / f"django-{version}" / "tests"
    if (tests / "runtests.py").exists():
        return tests
    root.mkdir(parents=True, exist_ok=True)
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
    archive = next(
        p
        for p in root.iterdir()
        if p.name.lower().startswith("django-") and p.name.endswith(".tar.gz")
    )
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if "/tests/" in m.name or m.name.endswith("/tests")]
        tar.extractall(root, members=members, filter="data")
    extracted = next(root.glob("*/tests"))
    if extracted != tests:
        extracted.parent.rename(tests.parent)
    return tests
