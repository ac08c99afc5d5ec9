"""Streamed uploads: request body -> (multipart parser) -> blob store, never whole in memory.

Starlette's ``request.form()`` spools files to temporary files and the store would then copy
them again; instead the body is parsed incrementally with python-multipart's low-level
``MultipartParser`` as it arrives, and the file part's bytes are handed straight to
:meth:`BlobStore.write`, which hashes them (sha256), counts them and enforces the size limit.
Memory stays at a few chunks whatever the file size.

``BlobStore.write`` is synchronous (local files, boto3), so the whole pipeline runs in a worker
thread; that thread pulls the next body chunk from the event loop with
``anyio.from_thread.run``. Two body shapes are accepted:

- ``multipart/form-data`` with one part named ``file`` (its ``filename`` and ``Content-Type``
  are kept as metadata; other small form fields are ignored);
- any other content type: the raw body is the file, named by the ``filename`` query parameter.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain

import anyio.from_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from ade.api.filenames import clean_content_type, sanitize_filename
from ade.api.problems import ApiError
from ade.storage.base import BlobInfo, BlobStore, HashingReader
from ade.storage.errors import BlobTooLarge

FILE_FIELD = "file"
_ESCAPED = re.compile(r"%(22|[01][0-9A-F])")
MULTIPART_OVERHEAD = 1024 * 1024
"""Bytes of headers, boundaries and small fields allowed on top of the file size limit."""
MAX_FIELD_BYTES = 64 * 1024
"""Non-file form fields are ignored, but bounded: a huge one must not be a way around limits."""


@dataclass(frozen=True)
class StoredUpload:
    filename: str
    content_type: str
    info: BlobInfo


def too_large(limit: int) -> ApiError:
    return ApiError(
        413, f"upload exceeds the limit of {limit} bytes; nothing was stored", code="too-large"
    )


async def _next_chunk(body: AsyncIterator[bytes]) -> bytes:
    return await body.__anext__()


def _sync_body(body: AsyncIterator[bytes], limit: int) -> Iterator[bytes]:
    """The request body as a blocking iterator (for a worker thread), capped at ``limit``."""
    seen = 0
    while True:
        try:
            chunk: bytes = anyio.from_thread.run(_next_chunk, body)
        except StopAsyncIteration:
            return
        except ClientDisconnect:
            raise ApiError(400, "client disconnected during the upload") from None
        seen += len(chunk)
        if seen > limit:
            raise ApiError(413, "request body too large; nothing was stored", code="too-large")
        if chunk:
            yield chunk


@dataclass
class _MultipartFile:
    """Feeds body chunks to the parser and yields the ``file`` part's data as it appears."""

    boundary: bytes
    body: Iterator[bytes]
    filename: str | None = None
    content_type: str | None = None
    found: bool = False
    _in_file: bool = False
    _finished_file: bool = False
    _ended: bool = False
    _pending: list[bytes] = field(default_factory=list)
    _header_field: bytearray = field(default_factory=bytearray)
    _header_value: bytearray = field(default_factory=bytearray)
    _headers: dict[str, bytes] = field(default_factory=dict)
    _field_bytes: int = 0

    def _on_part_begin(self) -> None:
        self._headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        name = bytes(self._header_field).decode("latin-1").strip().lower()
        self._headers[name] = bytes(self._header_value).strip()
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name != FILE_FIELD:
            self._in_file = False
            return
        if self.found:
            raise ApiError(400, f"only one '{FILE_FIELD}' part is allowed per upload")
        self.found = True
        self._in_file = True
        raw_name = options.get(b"filename")
        self.filename = _html_unescape(raw_name) if raw_name is not None else None
        declared = self._headers.get("content-type")
        self.content_type = declared.decode("latin-1") if declared else None

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pending.append(data[start:end])
            return
        self._field_bytes += end - start
        if self._field_bytes > MAX_FIELD_BYTES:
            raise ApiError(413, "form fields other than 'file' are too large", code="too-large")

    def _on_part_end(self) -> None:
        if self._in_file:
            self._finished_file = True
        self._in_file = False

    def _on_end(self) -> None:
        self._ended = True

    def chunks(self) -> Iterator[bytes]:
        parser = MultipartParser(
            self.boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_end": self._on_end,
            },
        )
        try:
            for raw in self.body:
                parser.write(raw)
                if self._pending:
                    pending, self._pending = self._pending, []
                    yield from pending
            parser.finalize()
        except MultipartParseError:
            raise ApiError(400, "malformed multipart body") from None
        if not self._ended or (self.found and not self._finished_file):
            raise ApiError(400, "truncated multipart body (missing the closing boundary)")


def _html_unescape(raw: bytes) -> str:
    """Undo the escaping browsers (WHATWG HTML) and httpx apply to multipart file names:
    ``"`` -> ``%22`` and control characters -> ``%00``..``%1F``. Other ``%`` sequences are
    literal. (Control characters are then removed by :func:`sanitize_filename`.)"""
    text = raw.decode("utf-8", "replace")
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)


def _first_chunk(chunks: Iterator[bytes]) -> bytes | None:
    for chunk in chunks:
        if chunk:
            return chunk
    return None


def store_upload_sync(
    body: AsyncIterator[bytes],
    content_type_header: str | None,
    query_filename: str | None,
    store: BlobStore,
    key: str,
    max_bytes: int,
) -> StoredUpload:
    """Run in a worker thread: parse and stream the body into ``store`` under ``key``."""

    def write(chunks: Iterator[bytes]) -> BlobInfo:
        return store.write(key, chunks, max_bytes=max_bytes)

    return _receive(body, content_type_header, query_filename, max_bytes, write)


def hash_upload_sync(
    body: AsyncIterator[bytes],
    content_type_header: str | None,
    query_filename: str | None,
    max_bytes: int,
) -> StoredUpload:
    """Like :func:`store_upload_sync`, but only hash the file: what a retried upload (same
    Idempotency-Key) needs to prove it is the same file, without storing it twice."""

    def digest(chunks: Iterator[bytes]) -> BlobInfo:
        reader = HashingReader(chunks, "(not stored)", max_bytes)
        for _ in reader.chunks():
            pass
        return reader.info()

    return _receive(body, content_type_header, query_filename, max_bytes, digest)


def _receive(
    body: AsyncIterator[bytes],
    content_type_header: str | None,
    query_filename: str | None,
    max_bytes: int,
    write: Callable[[Iterator[bytes]], BlobInfo],
) -> StoredUpload:
    media, options = parse_options_header(content_type_header or "")
    multipart = media == b"multipart/form-data"
    if multipart:
        boundary = options.get(b"boundary")
        if not boundary:
            raise ApiError(400, "multipart/form-data without a boundary parameter")
        raw_body = _sync_body(body, max_bytes + MULTIPART_OVERHEAD)
        parsed = _MultipartFile(boundary=boundary, body=raw_body)
        chunks: Iterator[bytes] = parsed.chunks()
    else:
        raw_body = _sync_body(body, max_bytes)
        chunks = raw_body
    first = _first_chunk(chunks)
    if multipart and not parsed.found:
        raise ApiError(422, f"multipart body has no '{FILE_FIELD}' part", code="invalid-request")
    if first is None:
        raise ApiError(400, "the uploaded file is empty", code="empty-upload")
    try:
        info = write(chain([first], chunks))
    except BlobTooLarge:
        raise too_large(max_bytes) from None
    if multipart:
        name, declared = parsed.filename, parsed.content_type
    else:
        name = query_filename
        declared = content_type_header
    filename = sanitize_filename(name)
    return StoredUpload(
        filename=filename, content_type=clean_content_type(declared, filename), info=info
    )
