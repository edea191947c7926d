"""The driver's exception classes under PEP 249 names, for Django's error wrapping.

``DatabaseWrapper.Database`` must expose ``IntegrityError``, ``OperationalError``
... so ``connection.wrap_database_errors`` can re-raise driver errors as
Django's classes (``django.db.IntegrityError`` for a duplicate key, and so on).
Tuples are allowed: Django tests them with ``issubclass``.
"""

from bson.errors import InvalidBSON, InvalidDocument, InvalidId
from pymongo import errors

#: BinaryField wraps values with Database.Binary; pymongo stores bytes as BSON binary.
Binary = bytes


class NotSupportedError(Exception):
    """The driver has no such class; django-nonrel raises Django's directly."""


Error = errors.PyMongoError
DatabaseError = errors.PyMongoError
InterfaceError = (errors.ConfigurationError, errors.InvalidURI)
DataError = (InvalidDocument, InvalidBSON, InvalidId, errors.DocumentTooLarge)
OperationalError = (errors.ConnectionFailure, errors.ExecutionTimeout, errors.WTimeoutError)
IntegrityError = errors.DuplicateKeyError
InternalError = errors.ProtocolError
ProgrammingError = errors.OperationFailure
