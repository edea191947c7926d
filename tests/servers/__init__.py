"""Throwaway database servers for the test suite's wire tiers.

``ferretdb`` (MongoDB wire, FerretDB v1 on SQLite, built from the Go program in
``ferretdb/``) and ``mariadb`` (SQL wire, Debian's MariaDB) each install or build
what they need, start on a free 127.0.0.1 port with data in a temporary
directory, and are stopped and deleted at the end. ``provision`` starts a set of
them and applies the CI rule; ``python -m tests.servers`` runs a command with
them; the noxfile uses ``provision`` directly.
"""
