"""Documents: streamed upload, list, get, streamed download (with Range), soft delete."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from ade.api import lookups
from ade.api.auth import Principal, Scope
from ade.api.dependencies import Services, ServicesDep, WriteSession
from ade.api.downloads import blob_response
from ade.api.idempotency import RENEW_SECONDS, Claim, IdempotencyKeyHeader, Replay, begin
from ade.api.idempotency import fingerprint as request_fingerprint
from ade.api.lookups import documents
from ade.api.openapi import links
from ade.api.pagination import DEFAULT_LIMIT, Cursor, Limit, fetch_page
from ade.api.problems import problems
from ade.api.ranges import RANGE_DESCRIPTION
from ade.api.run_queue import enqueue_run, get_document
from ade.api.schemas import NO_NUL, DocumentOut, Page, RunOut, UploadOut
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

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace}/documents",
    tags=["documents"],
    responses=problems(401, 404, 422, "5XX"),
)

_FILE = {"type": "string", "format": "binary", "minLength": 1}
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file (not empty), streamed: multipart/form-data with one `file` "
        "part (other fields are ignored), or the raw bytes with any other content type (name "
        "it with ?filename=).",
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {"file": _FILE}}
            },
            "application/octet-stream": {"schema": _FILE},
        },
    }
}


_DOCUMENT_ID = {"document_id": "$response.body#/document/id"}
_UPLOAD_LINKS = links(
    get_document=_DOCUMENT_ID,
    download_document=_DOCUMENT_ID,
    delete_document=_DOCUMENT_ID,
    create_run={"requestBody": {"document_id": "$response.body#/document/id"}},
)


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
    responses=problems(400, 409, 413) | {201: _UPLOAD_LINKS},
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
async def list_documents(
    scope: Scope,
    services: ServicesDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    name: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=NO_NUL,
            description="Case-insensitive substring of the name.",
        ),
    ] = None,
) -> Page[DocumentOut]:
    conditions = [documents.c.workspace_id == scope.workspace_id, documents.c.deleted_at.is_(None)]
    if name:
        pattern = f"%{_escape_like(name)}%"
        conditions.append(documents.c.original_filename.ilike(pattern, escape="\\"))
    rows, next_cursor = await services.read(
        lambda connection: fetch_page(connection, documents, conditions, cursor, limit)
    )
    return Page[DocumentOut](
        items=[DocumentOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/{document_id}", response_model=DocumentOut, name="get_document")
async def get_document_route(
    scope: Scope, services: ServicesDep, document_id: uuid.UUID
) -> DocumentOut:
    row = await services.read(
        lambda connection: lookups.document(connection, scope.workspace_id, document_id)
    )
    return DocumentOut.model_validate(row)


@router.get(
    "/{document_id}/content",
    response_class=StreamingResponse,
    responses=problems(416)
    | {
        200: {"content": {"*/*": {}}, "description": "The original bytes, as uploaded."},
        206: {"content": {"*/*": {}}, "description": "The requested byte range."},
    },
)
async def download_document(
    scope: Scope,
    services: ServicesDep,
    document_id: uuid.UUID,
    range_header: Annotated[
        str | None, Header(alias="Range", description=RANGE_DESCRIPTION)
    ] = None,
) -> StreamingResponse:
    document = await services.read(
        lambda connection: lookups.document(connection, scope.workspace_id, document_id)
    )
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
