"""``manage.py dbshell``: the mysql/mariadb command-line client (SingleStore speaks its
protocol), with Django's MySQL argument handling."""

from django.db.backends.mysql.client import DatabaseClient as MySQLClient


class DatabaseClient(MySQLClient):
    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict, parameters):
        # "dialect" configures this backend, not the client.
        options = {k: v for k, v in settings_dict["OPTIONS"].items() if k != "dialect"}
        return super().settings_to_cmd_args_env({**settings_dict, "OPTIONS": options}, parameters)
