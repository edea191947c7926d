"""Peers: other libraries doing each MongoDB case's work, measured beside the ORM.

A peer is optional. MongoEngine runs in the bench process when it is
installed; the official django-mongodb-backend needs its own Django series, so
it runs in a worker process under that series' interpreter
(``bench.peers.official``) and times itself there. Each peer keeps its own
collections (prefixed with its name), filled untimed with the same rows
(``bench.shapes``) as the ORM's, so every variant of a case does the same
work. A peer that cannot run on this machine is reported "not run: <why>"
for the whole target; a case a peer cannot run on the server is reported with
the peer's error (``bench.measure``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bench.measure import Variant

#: Filters of the ``filter`` cases: name -> (field path, operator, value) on the large
#: nested shape; each peer spells them in its own query language.
FILTERS: dict[str, tuple[str, str, Any]] = {
    "embedded path": ("address.city", "eq", "Oslo"),
    "list membership": ("tags", "contains", "rare"),
    "100 rows": ("name", "lt", "doc000100"),
    "100 rows on an embedded path": ("address.zip_code", "lt", "00100"),
}
#: Rows of the relation cases per parent (Blog) row.
ENTRIES_PER_BLOG = 5


class PeerUnavailable(Exception):
    """Why a peer cannot run on this machine or server (reported, not raised further)."""


@dataclass(frozen=True)
class Work:
    """One case's work as every peer names it.

    ``kind`` is the scenario (iterate, values, filter, select_related,
    prefetch_related, bulk_create, save); ``what`` the shape, filter name or
    "existing"/"new" (save); ``count`` the rows or saves.
    """

    kind: str
    what: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "what": self.what, "count": self.count}


class Peer(Protocol):
    name: str
    versions: dict[str, str]

    def variant(self, work: Work) -> Variant: ...

    def close(self) -> None: ...


#: Every peer, by the name its variant has in the results.
PEER_NAMES = ("mongoengine", "django-mongodb-backend")


def open_peers(uri: str, embedded_store, official_python: str | None) -> tuple[list, dict]:
    """The peers that can run against ``uri``, and why each other one cannot."""
    from bench.peers import mongoengine_peer, official_peer

    peers, not_run = [], {}
    for module, kwargs in (
        (mongoengine_peer, {"embedded_store": embedded_store}),
        (official_peer, {"embedded": embedded_store is not None, "python": official_python}),
    ):
        try:
            peers.append(module.open_peer(uri, **kwargs))
        except PeerUnavailable as why:
            not_run[module.NAME] = str(why)
    return peers, not_run
