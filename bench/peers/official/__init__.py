"""The official django-mongodb-backend as a peer, in a worker process of its own.

It supports one Django series per release, not necessarily the bench's, so
``worker`` runs under an interpreter that has that Django and the backend
(``nox -s bench`` makes one) and answers ``bench.peers.official_peer`` over
its stdin/stdout. This package is imported only there: its models are this
app's (label ``official``), with the backend's ObjectId keys and field types.
"""
