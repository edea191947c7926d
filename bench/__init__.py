"""Benchmarks of the ORM against the raw drivers, in one run, as ratios.

Absolute times drift on shared machines; the ratio of the ORM to the raw driver
doing the same work on the same server in the same process does not, so every
scenario runs both, interleaved, and reports the ratio. ``python -m bench``
(``nox -s bench``) runs every backend target in its own process and writes
docs/benchmarks.md and one chart per target.

On MongoDB targets the peers (``peers/``: MongoEngine, and the official
django-mongodb-backend in a worker under its own Django) do the same work in
the same run, reported as peer / raw.

Modules: ``shapes`` (deterministic rows, no Django), ``shape_models`` (their
fields as abstract models), ``models`` (the document shapes), ``data`` (rows
as instances, documents and SQL parameters),
``targets`` (backends and their raw drivers), ``counting`` (database commands
issued), ``measure`` (cases, interleaved repeats, medians), ``scenarios/``
(one module per concern), ``run_target`` (one target in a process),
``report`` and ``chart`` (docs), ``machine`` (what ran it).
"""
