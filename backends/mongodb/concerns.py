"""Read preference, write concern and read concern of a MongoDB database, from OPTIONS.

A replica set or sharded cluster lets each database say where reads go and
when a write counts as done::

    "OPTIONS": {
        # where reads go: a mode, or a mode with tag sets and a staleness bound
        "READ_PREFERENCE": "primaryPreferred",
        # "READ_PREFERENCE": {"mode": "nearest", "tag_sets": [{"dc": "east"}],
        #                     "max_staleness": 120},
        # when a write is acknowledged: w (a count, "majority" or a tag set name),
        # j (journaled) and wtimeout (milliseconds); a bare w is accepted too
        "WRITE_CONCERN": {"w": "majority", "j": True, "wtimeout": 5000},
        # what reads may see: local, available, majority or linearizable
        "READ_CONCERN": "majority",
    }

Each is validated when the connection's parameters are read (an
ImproperlyConfigured naming the option and the allowed values, instead of a
driver error at the first query) and applied to the ``Database`` object every
command goes through, on pymongo and mongomock alike (mongomock accepts and
ignores what it cannot model). Transactions (``atomic()`` on a replica set or
cluster) read from the primary, as MongoDB requires, and use the write concern
and, where a transaction allows it (local, majority), the read concern.

The driver's own spellings (``readPreference``, ``w``, ``readConcernLevel``...,
in OPTIONS or the URI) still reach MongoClient unchanged; naming one setting in
both spellings in OPTIONS is refused as ambiguous. Unset, the server's
defaults apply (primary reads; MongoDB 5.0+ acknowledges writes by majority).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from pymongo import WriteConcern
from pymongo.errors import ConfigurationError
from pymongo.read_concern import ReadConcern
from pymongo.read_preferences import make_read_preference, read_pref_mode_from_name

if TYPE_CHECKING:
    from pymongo.read_preferences import _ServerMode

#: The OPTIONS keys this module reads (not passed to MongoClient).
OPTION_NAMES = frozenset({"READ_PREFERENCE", "WRITE_CONCERN", "READ_CONCERN"})
READ_PREFERENCE_MODES = (
    "primary",
    "primaryPreferred",
    "secondary",
    "secondaryPreferred",
    "nearest",
)
READ_CONCERN_LEVELS = ("local", "available", "majority", "linearizable")
#: Read concern levels a multi-document transaction accepts (snapshot is its own).
TRANSACTION_READ_CONCERNS = ("local", "majority")
WRITE_CONCERN_KEYS = ("w", "j", "wtimeout")
#: The driver's spellings of each setting (MongoClient keywords, case-insensitive).
DRIVER_SPELLINGS = {
    "READ_PREFERENCE": ("readpreference", "readpreferencetags", "maxstalenessseconds"),
    "WRITE_CONCERN": ("w", "wtimeoutms", "journal", "fsync"),
    "READ_CONCERN": ("readconcernlevel",),
}


@dataclass(frozen=True)
class Concerns:
    """The three settings as driver objects (None: the client's default)."""

    read_preference: _ServerMode | None = None
    write_concern: WriteConcern | None = None
    read_concern: ReadConcern | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Concerns:
        """Parse and validate OPTIONS; ImproperlyConfigured says what is wrong."""
        driver_keys = {key.lower() for key in options}
        for name, spellings in DRIVER_SPELLINGS.items():
            clash = sorted(driver_keys.intersection(spellings))
            if name in options and clash:
                raise ImproperlyConfigured(
                    f"OPTIONS sets {name} and the driver option(s) {', '.join(clash)}; "
                    f"set it one way (django-nonrel's {name} is validated and documented)."
                )
        return cls(
            read_preference=_read_preference(options.get("READ_PREFERENCE")),
            write_concern=_write_concern(options.get("WRITE_CONCERN")),
            read_concern=_read_concern(options.get("READ_CONCERN")),
        )

    def database_options(self) -> dict[str, Any]:
        """Keyword arguments of ``MongoClient.get_database`` for the configured settings."""
        options = {
            "read_preference": self.read_preference,
            "write_concern": self.write_concern,
            "read_concern": self.read_concern,
        }
        return {name: value for name, value in options.items() if value is not None}

    def transaction_options(self) -> dict[str, Any]:
        """Keyword arguments of ``ClientSession.start_transaction``.

        A transaction reads from the primary whatever READ_PREFERENCE says
        (pymongo inherits the client's, which stays primary); it takes the
        write concern, and the read concern where a transaction accepts it.
        """
        options: dict[str, Any] = {}
        if self.write_concern is not None:
            options["write_concern"] = self.write_concern
        if self.read_concern is not None and self.read_concern.level in TRANSACTION_READ_CONCERNS:
            options["read_concern"] = self.read_concern
        return options


def _read_preference(value: Any) -> _ServerMode | None:
    if value is None:
        return None
    spec = {"mode": value} if isinstance(value, str) else value
    allowed = {"mode", "tag_sets", "max_staleness"}
    if not isinstance(spec, Mapping) or "mode" not in spec or set(spec) - allowed:
        raise ImproperlyConfigured(
            f"OPTIONS['READ_PREFERENCE'] must be a mode ({', '.join(READ_PREFERENCE_MODES)}) "
            "or a dict with 'mode' and optionally 'tag_sets' (a list of dicts) and "
            f"'max_staleness' (seconds); got {value!r}."
        )
    if spec["mode"] not in READ_PREFERENCE_MODES:
        raise ImproperlyConfigured(
            f"OPTIONS['READ_PREFERENCE'] mode must be one of "
            f"{', '.join(READ_PREFERENCE_MODES)}; got {spec['mode']!r}."
        )
    try:
        return make_read_preference(
            read_pref_mode_from_name(spec["mode"]),
            spec.get("tag_sets"),
            spec.get("max_staleness", -1),
        )
    except (ConfigurationError, TypeError, ValueError) as error:
        raise ImproperlyConfigured(f"OPTIONS['READ_PREFERENCE'] {value!r}: {error}") from error


def _write_concern(value: Any) -> WriteConcern | None:
    if value is None:
        return None
    spec = value if isinstance(value, Mapping) else {"w": value}
    unknown = set(spec) - set(WRITE_CONCERN_KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"OPTIONS['WRITE_CONCERN'] takes {', '.join(WRITE_CONCERN_KEYS)}; "
            f"got {', '.join(sorted(unknown))}."
        )
    if spec.get("w") == 0:
        raise ImproperlyConfigured(
            "OPTIONS['WRITE_CONCERN'] w=0 (unacknowledged writes) cannot work: saves read "
            "the server's answer (whether an upsert created the row, how many rows an update "
            "matched). Use w=1 or more, or 'majority'."
        )
    try:
        return WriteConcern(**spec)
    except (ConfigurationError, TypeError, ValueError) as error:
        raise ImproperlyConfigured(f"OPTIONS['WRITE_CONCERN'] {value!r}: {error}") from error


def _read_concern(value: Any) -> ReadConcern | None:
    if value is None:
        return None
    if value not in READ_CONCERN_LEVELS:
        raise ImproperlyConfigured(
            f"OPTIONS['READ_CONCERN'] must be one of {', '.join(READ_CONCERN_LEVELS)}; "
            f"got {value!r} (snapshot is a transaction's read concern, not a database's)."
        )
    return ReadConcern(value)
