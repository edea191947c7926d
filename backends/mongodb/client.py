"""``manage.py dbshell``: mongosh (or the legacy mongo shell) on the configured database.

The shell gets one connection string: HOST with NAME as its database path
(``mongodb://host:27017/NAME?options``), so the shell opens on the project's
database; USER/PASSWORD go in as ``--username``/``--password`` when set. Extra
``dbshell -- ARGS`` are passed through. A missing shell is reported by
Django's dbshell command ("You appear not to have the 'mongosh' program
installed or on your path"); the in-process ``mongomock://`` store has no
server to attach to and is refused with a CommandError.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit, urlunsplit

from django.core.management.base import CommandError
from django.db.backends.base.client import BaseDatabaseClient


def uri_with_database(host: str, name: str) -> str:
    """``host`` (a mongodb:// or mongodb+srv:// URI) with ``name`` as its database path."""
    if "://" not in host:
        host = f"mongodb://{host}"
    parts = urlsplit(host)
    path = parts.path.strip("/")
    if path and path != name:
        raise CommandError(
            f"HOST names the database {path!r} but NAME is {name!r}; remove the path from HOST."
        )
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


class DatabaseClient(BaseDatabaseClient):
    executable_name = "mongosh"

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        executable = cls.executable_name
        if not shutil.which(executable) and shutil.which("mongo"):
            executable = "mongo"
        host = settings_dict.get("HOST") or "mongodb://localhost:27017"
        if host.startswith("mongomock://"):
            raise CommandError(
                "dbshell cannot attach to the in-process mongomock:// store; point HOST at a "
                "mongodb:// server."
            )
        args = [executable, uri_with_database(host, settings_dict["NAME"])]
        if settings_dict.get("USER"):
            args += ["--username", settings_dict["USER"]]
        if settings_dict.get("PASSWORD"):
            args += ["--password", settings_dict["PASSWORD"]]
        return [*args, *parameters], None
