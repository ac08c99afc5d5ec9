"""The documents page: list, search, page, upload (with progress, in the page's script), run
and delete. Uploads go through the API's own upload handler, limits and all."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from ade.api.dependencies import Services, ServicesDep
from ade.api.documents import delete_document, list_documents, upload_document
from ade.api.pagination import Cursor
from ade.api.problems import ApiError
from ade.api.schemas import DocumentOut, RunOut
from ade.api.web.pages import (
    CheckedForm,
    WorkspaceUser,
    filesize,
    form_text,
    page_router,
    redirect,
    render,
    workspace_url,
)
from ade.api.web.runs import optional_uuid, start_run
from ade.api.web.security import CSRF_HEADER, csrf_valid
from ade.api.web.sessions import WebUser
from ade.db.models import Run

router = page_router()
DOCUMENTS = "/w/{workspace}/documents"
PAGE_SIZE = 25
SUPPORTED_SUFFIXES = (
    ".csv",
    ".tsv",
    ".txt",
    ".xlsx",
    ".xlsm",
    ".xlsb",
    ".xls",
    ".ods",
    ".html",
    ".htm",
)
"""What the engine reads (``ade.worker.engine.readers``, which decides the format from the
content, never the name): delimited text (comma, semicolon, tab or pipe), Excel workbooks
(.xlsx, .xlsm, .xlsb, 97-2003 .xls), OpenDocument spreadsheets, and the HTML tables web systems
export as "Excel" files. Anything else is refused before a byte is stored."""
FORMATS_SENTENCE = (
    "CSV or text (.csv, .tsv, .txt), Excel (.xlsx, .xlsm, .xlsb, .xls), "
    "OpenDocument (.ods) or a web page's table (.html, .htm)"
)
NOTICES = {"deleted": "The document was deleted. Its past runs and their outputs remain."}


def supported(filename: str) -> bool:
    return PurePosixPath(filename.lower()).suffix in SUPPORTED_SUFFIXES


def _latest_runs(services: Services, ids: list[uuid.UUID]) -> dict[uuid.UUID, RunOut]:
    """The newest run of each listed document (one query for the page)."""
    if not ids:
        return {}
    latest: dict[uuid.UUID, RunOut] = {}
    with services.read_sessions() as session:
        runs = session.scalars(
            select(Run).where(Run.document_id.in_(ids)).order_by(Run.created_at.desc())
        )
        for run in runs:
            latest.setdefault(run.document_id, RunOut.model_validate(run))
    return latest


async def _page(
    services: Services, user: WebUser, q: str | None, cursor: str | None
) -> tuple[list[DocumentOut], str | None, dict[uuid.UUID, RunOut]]:
    found = await list_documents(user.principal, services, cursor, PAGE_SIZE, q or None)
    ids = [d.id for d in found.items]
    return found.items, found.next_cursor, await run_in_threadpool(_latest_runs, services, ids)


@router.get(DOCUMENTS)
async def documents_page(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    notice: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    documents, next_cursor, latest = await _page(services, user, q, cursor)
    return render(
        request,
        "documents.html",
        user=user,
        base=workspace_url(user),
        documents=documents,
        latest=latest,
        q=q or "",
        cursor=cursor,
        next_cursor=next_cursor,
        notice=NOTICES.get(notice or ""),
        max_bytes=services.settings.api_max_upload_bytes,
        accept=",".join(SUPPORTED_SUFFIXES),
        formats=FORMATS_SENTENCE,
    )


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"status": status, "detail": detail}, status_code=status)


@router.post(DOCUMENTS + "/upload")
async def upload(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    filename: Annotated[str, Query(min_length=1, max_length=1000)],
) -> Response:
    """The page's script posts the file's bytes here (raw body, named by ``filename``) and
    shows the progress; the answer is JSON: where the new run is, or what was wrong."""
    if not csrf_valid(request, request.headers.get(CSRF_HEADER)):
        return _problem(403, "This page has expired: reload it and upload again.")
    if not supported(filename):
        return _problem(
            415,
            f"ADE cannot read this kind of file. It reads {FORMATS_SENTENCE}.",
        )
    try:
        uploaded = await upload_document(
            request, user.principal, services, process=True, filename=filename
        )
    except ApiError as refused:
        if refused.code == "no-active-configuration":
            return _problem(409, "No configuration is active: activate one under Configurations.")
        if refused.status == 413:
            limit = filesize(services.settings.api_max_upload_bytes)
            return _problem(
                413, f"The file is larger than the upload limit of {limit}; nothing was stored."
            )
        return _problem(refused.status, refused.detail)
    run_url = workspace_url(user, f"/runs/{uploaded.run.id}") if uploaded.run else None
    return JSONResponse(
        {"document_id": str(uploaded.document.id), "run_url": run_url}, status_code=201
    )


@router.post(DOCUMENTS + "/{document_id}/delete")
async def delete(
    user: WorkspaceUser, services: ServicesDep, document_id: uuid.UUID, _form: CheckedForm
) -> Response:
    def remove() -> None:
        with services.write_sessions() as session:
            delete_document(user.principal, session, document_id)

    await run_in_threadpool(remove)
    return redirect(workspace_url(user, "/documents?notice=deleted"))


@router.post(DOCUMENTS + "/{document_id}/run")
async def run_document(
    user: WorkspaceUser, services: ServicesDep, document_id: uuid.UUID, form: CheckedForm
) -> Response:
    configuration_id = optional_uuid(form_text(form, "configuration_id"))
    run_id = await run_in_threadpool(start_run, services, user, document_id, configuration_id)
    return redirect(workspace_url(user, f"/runs/{run_id}"))
