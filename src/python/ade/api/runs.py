"""Runs: create (queued for a worker), list, get, cancel, download outputs, read the event log.

The event log is served from the ``run_events`` table, whose ``seq`` counts 1, 2, 3... per run:
``?after=N`` resumes exactly after the last line a client saw, as NDJSON, or as a live
Server-Sent Events stream (``/events/stream``) that follows the run until it ends.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Row, select
from starlette.responses import StreamingResponse

from ade.api import lookups
from ade.api.auth import Principal, Scope
from ade.api.dependencies import Services, ServicesDep, WriteSession
from ade.api.downloads import blob_response
from ade.api.idempotency import Claim, IdempotencyKeyHeader, Replay, begin, fingerprint
from ade.api.lookups import runs
from ade.api.openapi import links
from ade.api.pagination import DEFAULT_LIMIT, Cursor, Limit, fetch_page
from ade.api.problems import ApiError, problems
from ade.api.ranges import RANGE_DESCRIPTION
from ade.api.run_queue import cancel_run, enqueue_run, get_document, get_run
from ade.api.schemas import Page, RunCreate, RunOut
from ade.db.models import TERMINAL_RUN_STATUSES, RunEvent, RunStatus
from ade.storage.errors import BlobNotFound
from ade.storage.keys import run_output_key, run_table_key

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace}/runs",
    tags=["runs"],
    responses=problems(401, 404, 422, "5XX"),
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RUN_ID = {"run_id": "$response.body#/id"}
_RUN_LINKS = links(
    get_run=_RUN_ID, cancel_run=_RUN_ID, download_output=_RUN_ID, read_events=_RUN_ID
)
EVENT_BATCH = 500
MAX_SEQ = 2**31 - 1
"""The largest event number (``run_events.seq`` is a 32-bit integer)."""
After = Annotated[
    int, Query(ge=0, le=MAX_SEQ, description="The last event number (seq) already seen.")
]
run_events = RunEvent.__table__
SSE_POLL_SECONDS = 0.5


@router.post(
    "",
    status_code=201,
    response_model=RunOut,
    responses=problems(400, 409) | {201: _RUN_LINKS},
)
def create_run(
    scope: Scope,
    services: ServicesDep,
    session: WriteSession,
    body: RunCreate,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    request = fingerprint("create_run", **body.model_dump(mode="json"))
    claim: Claim | None = None
    if idempotency_key is not None:
        earlier = begin(services, scope.workspace_id, idempotency_key, "create_run", request)
        if isinstance(earlier, Replay):
            earlier.check("create_run", request)
            return earlier.response()
        claim = earlier
    try:
        document = get_document(session, scope.workspace_id, body.document_id)
        run = enqueue_run(session, scope.workspace_id, document, body.configuration_id)
        session.flush()
        result = RunOut.model_validate(run)
        if claim is not None:
            claim.complete(session, request, 201, result.model_dump(mode="json"))
        session.commit()
    except BaseException:
        if claim is not None:
            session.rollback()
            claim.release()
        raise
    if claim is not None:
        claim.done()
    return result


@router.get("", response_model=Page[RunOut])
async def list_runs(
    scope: Scope,
    services: ServicesDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    status: Annotated[RunStatus | None, Query()] = None,
    document_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[RunOut]:
    conditions = [runs.c.workspace_id == scope.workspace_id]
    if status is not None:
        conditions.append(runs.c.status == status)
    if document_id is not None:
        conditions.append(runs.c.document_id == document_id)
    rows, next_cursor = await services.read(
        lambda connection: fetch_page(connection, runs, conditions, cursor, limit)
    )
    return Page[RunOut](items=[RunOut.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get("/{run_id}", response_model=RunOut, name="get_run")
async def get_run_route(scope: Scope, services: ServicesDep, run_id: uuid.UUID) -> RunOut:
    row = await services.read(
        lambda connection: lookups.run(connection, scope.workspace_id, run_id)
    )
    return RunOut.model_validate(row)


@router.post("/{run_id}/cancel", response_model=RunOut, responses=problems(409), name="cancel_run")
def cancel_run_route(scope: Scope, session: WriteSession, run_id: uuid.UUID) -> RunOut:
    """Cancel a queued or running run; 409 if it already finished."""
    run = cancel_run(session, get_run(session, scope.workspace_id, run_id))
    session.commit()  # not reached on 409: nothing changed, the session rolls back
    return RunOut.model_validate(run)


@router.get(
    "/{run_id}/output",
    response_class=StreamingResponse,
    responses=problems(409, 416)
    | {
        200: {"content": {XLSX: {}, "text/csv": {}}, "description": "The run's output."},
        206: {"content": {XLSX: {}, "text/csv": {}}, "description": "The requested byte range."},
    },
)
async def download_output(
    scope: Scope,
    services: ServicesDep,
    run_id: uuid.UUID,
    format: Annotated[Literal["xlsx", "csv"], Query(description="Workbook or one table.")] = "xlsx",
    table: Annotated[int, Query(ge=1, le=100_000, description="Table number for CSV.")] = 1,
    range_header: Annotated[
        str | None, Header(alias="Range", description=RANGE_DESCRIPTION)
    ] = None,
) -> StreamingResponse:
    run = await services.read(
        lambda connection: lookups.run(connection, scope.workspace_id, run_id)
    )
    store = services.store
    if run.status != RunStatus.SUCCEEDED:
        raise ApiError(
            409, f"run is {run.status}; output exists once it succeeded", code="no-output"
        )
    if format == "xlsx":
        key = run.output_blob_key or run_output_key(scope.workspace_id, run.id)
        size = run.output_byte_size
        if size is None:
            size = await run_in_threadpool(store.size, key)
        media, name = XLSX, f"run-{run.id}.xlsx"
    else:
        key = run_table_key(scope.workspace_id, run.id, table)
        try:
            size = await run_in_threadpool(store.size, key)
        except BlobNotFound:
            raise ApiError(404, f"run has no table {table}", code="not-found") from None
        media, name = "text/csv; charset=utf-8", f"run-{run.id}-table-{table}.csv"
    return await blob_response(
        store, key, size=size, content_type=media, filename=name, range_header=range_header
    )


def _event_dict(event: Row[Any]) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "payload": event.payload,
    }


async def _fetch_events(
    services: Services, principal: Principal, run_id: uuid.UUID, after: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Events after ``after`` plus whether the run has ended (read in one transaction)."""

    def fetch(connection: Connection) -> tuple[list[dict[str, Any]], bool]:
        run = lookups.run(connection, principal.workspace_id, run_id)
        events = connection.execute(
            select(run_events)
            .where(run_events.c.run_id == run.id, run_events.c.seq > after)
            .order_by(run_events.c.seq)
            .limit(limit)
        ).all()
        return [_event_dict(event) for event in events], run.status in TERMINAL_RUN_STATUSES

    return await services.read(fetch)


@router.get(
    "/{run_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "One event a line."}},
)
async def read_events(
    scope: Scope,
    services: ServicesDep,
    run_id: uuid.UUID,
    after: After = 0,
) -> StreamingResponse:
    """The event log as NDJSON, from ``seq > after``: poll with the last seq you saw."""
    first, _ended = await _fetch_events(services, scope, run_id, after, EVENT_BATCH)

    async def lines() -> AsyncIterator[bytes]:
        batch = first
        while batch:
            for event in batch:
                yield (json.dumps(event) + "\n").encode()
            if len(batch) < EVENT_BATCH:
                return
            batch, _ = await _fetch_events(services, scope, run_id, batch[-1]["seq"], EVENT_BATCH)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def _sse(event: dict[str, Any]) -> bytes:
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


@router.get(
    "/{run_id}/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Live events (SSE)."}},
)
async def stream_events(
    scope: Scope,
    services: ServicesDep,
    run_id: uuid.UUID,
    after: After = 0,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    """Server-Sent Events: every event after ``after`` (or ``Last-Event-ID`` on reconnect),
    then new ones as the run writes them, until it ends."""
    if last_event_id is not None and last_event_id.isdigit():
        after = max(after, min(int(last_event_id), MAX_SEQ))
    first, ended = await _fetch_events(services, scope, run_id, after, EVENT_BATCH)

    async def events() -> AsyncIterator[bytes]:
        batch, done, seen = first, ended, after
        while True:
            for event in batch:
                seen = event["seq"]
                yield _sse(event)
            if done and len(batch) < EVENT_BATCH:
                yield b"event: end\ndata: {}\n\n"
                return
            if len(batch) < EVENT_BATCH:
                await asyncio.sleep(SSE_POLL_SECONDS)
            batch, done = await _fetch_events(services, scope, run_id, seen, EVENT_BATCH)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
