"""``manage.py dbshell``: mongosh (or the legacy mongo shell) on the configured URI."""

import shutil

from django.db.backends.base.client import BaseDatabaseClient


class DatabaseClient(BaseDatabaseClient):
    executable_name = "mongosh"

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        executable = cls.executable_name
        if not shutil.which(executable) and shutil.which("mongo"):
            executable = "mongo"
        host = settings_dict.get("HOST") or "mongodb://localhost:27017"
        if host.startswith("mongomock://"):
            raise RuntimeError(
                "dbshell cannot attach to the in-process mongomock:// store; point HOST at a "
                "mongodb:// server."
            )
        return [
            executable,
            host,
            "--eval",
            f"use {settings_dict['NAME']}",
            "--shell",
            *parameters,
        ], None
