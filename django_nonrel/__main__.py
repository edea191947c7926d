"""Command line: ``python -m django_nonrel demo [--database-url URL]``."""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path


def run_installed_copy() -> None:
    """Run the installed django-nonrel when ``-m`` picked up a checkout's source folder.

    ``python -m`` puts the current directory first on ``sys.path``, so in a
    checkout's root (where the README runs the demo) ``django_nonrel`` is the
    source folder, which does not hold ``backends/`` and ``patches/``: setup.cfg
    installs them into the package. An editable install's import hook finds
    them; after a regular install the installed copy is run instead, with
    ``-P`` (the current directory left off ``sys.path``). Returns when the
    package imported is complete.
    """
    if importlib.util.find_spec("django_nonrel.backends") is not None:
        return
    checkout = Path(__file__).resolve().parent.parent
    elsewhere = [entry for entry in sys.path if Path(entry or ".").resolve() != checkout]
    if (
        sys.flags.safe_path
        or importlib.machinery.PathFinder.find_spec("django_nonrel", elsewhere) is None
    ):
        raise SystemExit(
            f"{checkout} is django-nonrel's source; install it first: "
            'python3 -m pip install ".[mongodb]" (or -e for an editable install).'
        )
    os.execv(sys.executable, [sys.executable, "-P", "-m", "django_nonrel", *sys.argv[1:]])


def configure(database_url: str) -> None:
    """Configure Django in-process for the demo app on ``database_url``."""
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django_nonrel.backends.mongodb",
                "HOST": database_url,
                "NAME": "django_nonrel_demo",
            }
        },
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django_nonrel",
            "django_nonrel.demo",
        ],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m django_nonrel")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="a short tour on the embedded store or a server")
    demo.add_argument(
        "--database-url",
        default="mongomock://demo",
        help="mongomock://NAME (in-process, the default) or mongodb://HOST:PORT",
    )
    args = parser.parse_args(argv)
    configure(args.database_url)
    from django.core.management import call_command

    from django_nonrel.demo.tour import tour

    call_command("migrate", run_syncdb=True, verbosity=0)
    print(f"django-nonrel demo on {args.database_url}")
    tour()
    return 0


if __name__ == "__main__":
    run_installed_copy()
    sys.exit(main())
