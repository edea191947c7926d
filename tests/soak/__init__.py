"""The soak: mixed ORM work from several threads for a fixed time, one server crash, invariants.

``nox -s soak`` (or ``python -m tests.soak``) runs, per target -- FerretDB (the
MongoDB backend) and MariaDB (the SingleStore backend in its mysql dialect) --
a server of its own (``tests.servers``, as the fault tests do), several threads
with a Django connection each doing creates, expression updates, cascading
deletes, ``VersionField`` read-modify-write saves and bookmark walks, and kills
the server (SIGKILL) once in the middle and starts it again. Every operation's
outcome is written down by the thread that ran it: acknowledged (it returned),
refused (``ConflictError``: nothing written) or uncertain (a database error:
the server may or may not have applied it). At the end the stored data must
agree with those outcomes (``invariants.py``): no acknowledged write lost, no
orphan, counters and versions consistent with the operations that returned,
every bookmark walk complete and in order.

The soak is not part of the README test command (it runs for minutes); its last
numbers are in docs/reliability.md.
"""
