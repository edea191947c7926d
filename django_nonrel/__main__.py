"""Command line: ``python -m django_nonrel demo [--database-url URL]``."""

from __future__ import annotations

import argparse
import sys


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
    sys.exit(main())
