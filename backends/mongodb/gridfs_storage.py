"""``GridFSStorage``: Django's file Storage API on a MongoDB database's GridFS bucket.

Files are stored in the GridFS layout every MongoDB driver and ``mongofiles``
read (``<bucket>.files`` with ``filename``/``length``/``chunkSize``/
``uploadDate``/``metadata``, ``<bucket>.chunks`` with ``files_id``/``n``/
``data``), written and read with plain collection commands instead of
pymongo's ``gridfs`` module. That keeps it working on every server the backend
supports (FerretDB v1 and the embedded ``mongomock://`` store, whose GridFS
support needs a global patch and lacks ``GridFSBucket``), and every command
is logged to ``connection.queries`` like the ORM's.

Use it per field or as the default storage::

    STORAGES = {
        "default": {
            "BACKEND": "django_nonrel.backends.mongodb.gridfs_storage.GridFSStorage",
            "OPTIONS": {"using": "default", "bucket": "fs"},
        },
        ...
    }
    upload = models.FileField(storage=GridFSStorage(bucket="uploads"))

``url()`` is ``base_url`` (default ``MEDIA_URL``) plus the name; the project
serves it, e.g. with ``serve()`` in this module.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from urllib.parse import quote, urljoin

from bson import ObjectId
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage
from django.db import connections
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.encoding import filepath_to_uri

#: GridFS's customary chunk size (255 KiB keeps a chunk plus overhead under 256 KiB).
DEFAULT_CHUNK_SIZE = 255 * 1024
#: Chunks per insert command: about 16 MiB, MongoDB's message-size comfort zone.
CHUNKS_PER_INSERT = 64


@deconstructible(path="django_nonrel.backends.mongodb.gridfs_storage.GridFSStorage")
class GridFSStorage(Storage):
    """Files in the GridFS bucket ``bucket`` of the MongoDB database ``using``."""

    def __init__(
        self,
        using: str = "default",
        bucket: str = "fs",
        base_url: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self.using = using
        self.bucket = bucket
        self._base_url = base_url
        self.chunk_size = int(chunk_size)
        self._indexed = False

    # -- plumbing ---------------------------------------------------------------
    @property
    def connection(self):
        connection = connections[self.using]
        if connection.vendor != "mongodb":
            raise ValueError(
                f"GridFSStorage(using={self.using!r}) needs a MongoDB database; "
                f"{self.using!r} is {connection.vendor}."
            )
        return connection

    def _collection(self, kind: str):
        return self.connection.database[f"{self.bucket}.{kind}"]

    def _run(self, description: str, command, *args, **kwargs):
        return self.connection.store.run(description, command, *args, **kwargs)

    @property
    def _journal(self):
        """What undoes this storage's writes inside atomic(), as for the ORM's."""
        return self.connection.store.journal

    def _ensure_indexes(self) -> None:
        """The two indexes the GridFS spec asks writers to create (idempotent)."""
        if self._indexed:
            return
        files, chunks = self._collection("files"), self._collection("chunks")
        self._run(
            f"db.{self.bucket}.files.createIndex({{'filename': 1, 'uploadDate': 1}})",
            files.create_index,
            [("filename", 1), ("uploadDate", 1)],
        )
        self._run(
            f"db.{self.bucket}.chunks.createIndex({{'files_id': 1, 'n': 1}}, unique)",
            chunks.create_index,
            [("files_id", 1), ("n", 1)],
            unique=True,
        )
        self._indexed = True

    def _latest(self, name: str) -> dict[str, Any] | None:
        """The newest revision of ``name`` (GridFS keeps revisions; we write one)."""
        files = self._collection("files")
        found = self._run(
            f"db.{self.bucket}.files.find({{'filename': {name!r}}}).sort(uploadDate -1).limit(1)",
            lambda: list(files.find({"filename": {"$eq": name}}).sort("uploadDate", -1).limit(1)),
        )
        return found[0] if found else None

    def _file(self, name: str) -> dict[str, Any]:
        document = self._latest(self._clean(name))
        if document is None:
            raise FileNotFoundError(f"No GridFS file named {name!r} in bucket {self.bucket!r}.")
        return document

    @staticmethod
    def _clean(name: str) -> str:
        return str(name).replace("\\", "/")

    # -- Storage API ------------------------------------------------------------
    def _save(self, name: str, content: File) -> str:
        name = self._clean(name)
        self._ensure_indexes()
        file_id = ObjectId()
        chunks = self._collection("chunks")
        length = 0
        batch: list[dict[str, Any]] = []
        for number, data in enumerate(self._exact_chunks(content)):
            length += len(data)
            batch.append({"_id": ObjectId(), "files_id": file_id, "n": number, "data": data})
            if len(batch) == CHUNKS_PER_INSERT:
                self._insert_chunks(chunks, batch)
                batch = []
        if batch:
            self._insert_chunks(chunks, batch)
        content_type = getattr(content, "content_type", None) or mimetypes.guess_type(name)[0]
        document = {
            "_id": file_id,
            "filename": name,
            "length": length,
            "chunkSize": self.chunk_size,
            "uploadDate": datetime.now(UTC).replace(tzinfo=None),
            "metadata": {"contentType": content_type} if content_type else {},
        }
        files = self._collection("files")
        self._journal.inserting(f"{self.bucket}.files", [file_id])
        # The files document goes in last: readers never see a file whose chunks are missing.
        self._run(
            f"db.{self.bucket}.files.insertOne({{'filename': {name!r}}})",
            files.insert_one,
            document,
        )
        return name

    def _insert_chunks(self, chunks, batch: list[dict[str, Any]]) -> None:
        self._journal.inserting(f"{self.bucket}.chunks", [chunk["_id"] for chunk in batch])
        self._run(
            f"db.{self.bucket}.chunks.insertMany(<{len(batch)} chunks>)", chunks.insert_many, batch
        )

    def _exact_chunks(self, content: File) -> Iterator[bytes]:
        """``content`` cut into chunks of exactly ``chunk_size`` bytes (the last may be short)."""
        if hasattr(content, "seek") and getattr(content, "seekable", lambda: True)():
            content.seek(0)
        pending = b""
        for piece in content.chunks(self.chunk_size) if hasattr(content, "chunks") else [content]:
            pending += piece.encode() if isinstance(piece, str) else piece
            while len(pending) >= self.chunk_size:
                yield pending[: self.chunk_size]
                pending = pending[self.chunk_size :]
        if pending:
            yield pending

    def _open(self, name: str, mode: str = "rb") -> File:
        if any(flag in mode for flag in "wa+"):
            raise ValueError("GridFSStorage opens files for reading only; save() writes them.")
        document = self._file(name)
        chunks = self._collection("chunks")
        found = self._run(
            f"db.{self.bucket}.chunks.find({{'files_id': {document['_id']!r}}}).sort(n)",
            lambda: list(chunks.find({"files_id": document["_id"]}).sort("n", 1)),
        )
        data = b"".join(bytes(chunk["data"]) for chunk in found)
        if len(data) != document["length"]:
            raise OSError(
                f"GridFS file {name!r} is incomplete: {len(data)} of {document['length']} bytes."
            )
        file = File(BytesIO(data), name=document["filename"])
        file.content_type = (document.get("metadata") or {}).get("contentType")
        return file

    def exists(self, name: str) -> bool:
        files = self._collection("files")
        name = self._clean(name)
        return bool(
            self._run(
                f"db.{self.bucket}.files.countDocuments({{'filename': {name!r}}}, limit=1)",
                files.count_documents,
                {"filename": {"$eq": name}},
                limit=1,
            )
        )

    def delete(self, name: str) -> None:
        """Delete every revision of ``name`` and its chunks (a missing file is no error)."""
        name = self._clean(name)
        files, chunks = self._collection("files"), self._collection("chunks")
        found = self._run(
            f"db.{self.bucket}.files.find({{'filename': {name!r}}}, {{'_id': 1}})",
            lambda: list(files.find({"filename": {"$eq": name}}, {"_id": 1})),
        )
        ids = [document["_id"] for document in found]
        if not ids:
            return
        self._journal.changing(f"{self.bucket}.files", {"_id": {"$in": ids}})
        self._journal.changing(f"{self.bucket}.chunks", {"files_id": {"$in": ids}})
        self._run(
            f"db.{self.bucket}.files.deleteMany(<{len(ids)} ids>)",
            files.delete_many,
            {"_id": {"$in": ids}},
        )
        self._run(
            f"db.{self.bucket}.chunks.deleteMany(<{len(ids)} files>)",
            chunks.delete_many,
            {"files_id": {"$in": ids}},
        )

    def size(self, name: str) -> int:
        return int(self._file(name)["length"])

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """(directories, files) directly under ``path`` ('' is the top level)."""
        prefix = self._clean(path).strip("/")
        prefix = f"{prefix}/" if prefix else ""
        files = self._collection("files")
        query = {"filename": {"$regex": f"^{re.escape(prefix)}"}} if prefix else {}
        names = self._run(
            f"db.{self.bucket}.files.find({query!r}, {{'filename': 1}})",
            lambda: [d["filename"] for d in files.find(query, {"filename": 1, "_id": 0})],
        )
        directories, entries = set(), set()
        for name in names:
            rest = name[len(prefix) :]
            head, sep, _ = rest.partition("/")
            (directories if sep else entries).add(head)
        return sorted(directories), sorted(entries)

    def url(self, name: str) -> str:
        base_url = self.base_url
        if base_url is None:
            raise ValueError("This file is not accessible via a URL: set base_url or MEDIA_URL.")
        url = filepath_to_uri(self._clean(name)).lstrip("/")
        return urljoin(base_url, quote(url, safe="/~!*()'%"))

    @property
    def base_url(self) -> str | None:
        base_url = self._base_url if self._base_url is not None else settings.MEDIA_URL
        if base_url and not base_url.endswith("/"):
            base_url += "/"
        return base_url or None

    def _upload_date(self, name: str) -> datetime:
        value = self._file(name)["uploadDate"]
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        if settings.USE_TZ:
            return value
        return timezone.make_naive(value, timezone.get_default_timezone())

    def get_modified_time(self, name: str) -> datetime:
        """When the newest revision was written (GridFS files are immutable)."""
        return self._upload_date(name)

    def get_created_time(self, name: str) -> datetime:
        return self._upload_date(name)


def serve(request, name: str, using: str = "default", bucket: str = "fs") -> FileResponse:
    """A view streaming a GridFS file, e.g. ``path("media/<path:name>", serve)``.

    Like ``django.views.static.serve``, meant for development and small sites;
    put access control in front of it where files are private.
    """
    storage = GridFSStorage(using=using, bucket=bucket)
    try:
        file = storage.open(name)
    except FileNotFoundError:
        raise Http404(f"No file {name!r}.") from None
    response = FileResponse(file, content_type=file.content_type or "application/octet-stream")
    response["Content-Length"] = str(file.size)
    return response
