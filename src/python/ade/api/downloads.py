"""Streamed blob downloads with ``Content-Disposition`` and single-range support."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from ade.api.filenames import content_disposition
from ade.api.problems import ApiError
from ade.api.ranges import parse_range
from ade.storage.base import BlobStore, ChunkStream
from ade.storage.errors import BlobNotFound


async def _chunks(stream: ChunkStream) -> AsyncIterator[bytes]:
    try:
        while True:
            chunk = await run_in_threadpool(next, stream, None)
            if chunk is None:
                return
            yield chunk
    finally:
        # Also on client disconnect: release the file handle / HTTP connection at once.
        stream.close()


async def blob_response(
    store: BlobStore,
    key: str,
    *,
    size: int,
    content_type: str,
    filename: str,
    range_header: str | None,
    etag: str | None = None,
) -> StreamingResponse:
    selected = parse_range(range_header, size)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
    }
    if etag:
        headers["ETag"] = f'"{etag}"'
    if selected is None:
        offset, length, status = 0, size, 200
    else:
        start, end = selected
        offset, length, status = start, end - start + 1, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(length)
    try:
        stream = await run_in_threadpool(store.open, key, offset, length)
    except BlobNotFound:
        raise ApiError(404, "stored content not found", code="not-found") from None
    return StreamingResponse(
        _chunks(stream), status_code=status, media_type=content_type, headers=headers
    )
