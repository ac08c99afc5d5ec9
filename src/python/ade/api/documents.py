"""Documents: streamed upload, list, get, streamed download (with Range), soft delete."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from starlette.responses import StreamingResponse

from ade.api.auth import Principal, Scope
from ade.api.dependencies import ReadSession, Services, ServicesDep, WriteSession
from ade.api.downloads import blob_response
from ade.api.idempotency import RENEW_SECONDS, Claim, IdempotencyKeyHeader, Replay, begin
from ade.api.idempotency import fingerprint as request_fingerprint
from ade.api.pagination import DEFAULT_LIMIT, Cursor, Limit, fetch_page
from ade.api.run_queue import enqueue_run, get_document
from ade.api.schemas import DocumentOut, Page, RunOut, UploadOut
from ade.api.uploads import (
    MULTIPART_OVERHEAD,
    StoredUpload,
    hash_upload_sync,
    store_upload_sync,
    too_large,
)
from ade.db.column_types import utcnow
from ade.db.models import Document, Run
from ade.storage.keys import document_key

router = APIRouter(prefix="/api/v1/workspaces/{workspace}/documents", tags=["documents"])

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file, streamed: multipart/form-data with a `file` part, or the raw "
        "bytes with any other content type (name it with ?filename=).",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _upload_fingerprint(upload: StoredUpload, process: bool) -> str:
    return request_fingerprint(
        "upload_document", sha256=upload.info.sha256, filename=upload.filename, process=process
    )


async def _renewing(body: AsyncIterator[bytes], claim: Claim) -> AsyncIterator[bytes]:
    """The request body, renewing the Idempotency-Key's lease while a long upload streams."""
    renewed = time.monotonic()
    async for chunk in body:
        if time.monotonic() - renewed > RENEW_SECONDS:
            await run_in_threadpool(claim.renew)
            renewed = time.monotonic()
        yield chunk


def _record_upload(
    services: Services,
    principal: Principal,
    document_id: uuid.UUID,
    upload: StoredUpload,
    process: bool,
    claim: Claim | None = None,
) -> UploadOut:
    with services.write_sessions() as session:
        document = Document(
            id=document_id,
            workspace_id=principal.workspace_id,
            original_filename=upload.filename,
            content_type=upload.content_type,
            byte_size=upload.info.size,
            sha256=upload.info.sha256,
            blob_key=upload.info.key,
            created_at=utcnow(),
        )
        session.add(document)
        session.flush()  # no ORM relationships: the document row must exist before its run
        run: Run | None = None
        if process:
            run = enqueue_run(session, principal.workspace_id, document, None)
        session.flush()
        result = UploadOut(
            document=DocumentOut.model_validate(document),
            run=RunOut.model_validate(run) if run is not None else None,
        )
        if claim is not None:
            claim.complete(
                session, _upload_fingerprint(upload, process), 201, result.model_dump(mode="json")
            )
        session.commit()
        return result


@router.post(
    "",
    status_code=201,
    response_model=UploadOut,
    openapi_extra=_UPLOAD_BODY,
    responses={
        409: {"description": "A request with the same Idempotency-Key is still in progress."},
        413: {"description": "Larger than the upload limit; nothing stored."},
        422: {"description": "The Idempotency-Key was used for a different request."},
    },
)
async def upload_document(
    request: Request,
    scope: Scope,
    services: ServicesDep,
    process: Annotated[
        bool, Query(description="Queue a run with the active configuration.")
    ] = False,
    filename: Annotated[
        str | None, Query(max_length=1000, description="File name for raw (non-multipart) bodies.")
    ] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    limit = services.settings.api_max_upload_bytes
    content_type = request.headers.get("content-type")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise too_large(limit)  # refuse before reading a byte
    claim: Claim | None = None
    body: AsyncIterator[bytes] = request.stream()
    if idempotency_key is not None:
        earlier = await run_in_threadpool(
            begin, services, scope.workspace_id, idempotency_key, "upload_document"
        )
        if isinstance(earlier, Replay):
            again = await run_in_threadpool(hash_upload_sync, body, content_type, filename, limit)
            earlier.check("upload_document", _upload_fingerprint(again, process))
            return earlier.response()
        claim = earlier
        body = _renewing(body, claim)
    document_id = uuid.uuid4()
    key = document_key(scope.workspace_id, document_id)
    try:
        upload = await run_in_threadpool(
            store_upload_sync, body, content_type, filename, services.store, key, limit
        )
        try:
            result = await run_in_threadpool(
                _record_upload, services, scope, document_id, upload, process, claim
            )
        except BaseException:
            # no orphan blob on a failed insert
            await run_in_threadpool(services.store.delete, key)
            raise
    except BaseException:
        if claim is not None:
            await run_in_threadpool(claim.release)
        raise
    if claim is not None:
        claim.done()
    return result


@router.get("", response_model=Page[DocumentOut])
def list_documents(
    scope: Scope,
    session: ReadSession,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    name: Annotated[
        str | None, Query(max_length=200, description="Case-insensitive substring of the name.")
    ] = None,
) -> Page[DocumentOut]:
    query = select(Document).where(
        Document.workspace_id == scope.workspace_id, Document.deleted_at.is_(None)
    )
    if name:
        query = query.where(
            Document.original_filename.ilike(f"%{_escape_like(name)}%", escape="\\")
        )
    rows, next_cursor = fetch_page(session, query, Document.created_at, Document.id, cursor, limit)
    return Page[DocumentOut](
        items=[DocumentOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/{document_id}", response_model=DocumentOut)
def get_document_route(scope: Scope, session: ReadSession, document_id: uuid.UUID) -> DocumentOut:
    return DocumentOut.model_validate(get_document(session, scope.workspace_id, document_id))


@router.get(
    "/{document_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The original bytes."},
        206: {"description": "The requested byte range."},
        416: {"description": "Range not satisfiable."},
    },
)
async def download_document(
    scope: Scope,
    services: ServicesDep,
    document_id: uuid.UUID,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> StreamingResponse:
    def load() -> Document:
        with services.read_sessions() as session:
            return get_document(session, scope.workspace_id, document_id)

    document = await run_in_threadpool(load)
    return await blob_response(
        services.store,
        document.blob_key,
        size=document.byte_size,
        content_type=document.content_type,
        filename=document.original_filename,
        range_header=range_header,
        etag=document.sha256,
    )


@router.delete("/{document_id}", status_code=204, response_class=Response)
def delete_document(scope: Scope, session: WriteSession, document_id: uuid.UUID) -> Response:
    """Soft delete: the document disappears from the API; runs that used it keep working."""
    document = get_document(session, scope.workspace_id, document_id)
    document.deleted_at = utcnow()
    session.commit()
    return Response(status_code=204)
