"""The run page: live while the run works, then what it found, mapped and produced."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from starlette.responses import Response

from ade.api.dependencies import Services, ServicesDep
from ade.api.filenames import content_disposition, sanitize_filename
from ade.api.problems import not_found
from ade.api.run_queue import cancel_run, enqueue_run, get_document, get_run
from ade.api.runs import download_output, stream_events
from ade.api.schemas import RunOut
from ade.api.web.pages import (
    CheckedForm,
    WorkspaceUser,
    form_text,
    page_router,
    redirect,
    render,
    workspace_url,
)
from ade.api.web.run_view import (
    explain_failure,
    issues_by_field,
    mapping_rows,
    read_preview,
    unmapped_columns,
)
from ade.api.web.security import SESSION_COOKIE
from ade.api.web.sessions import WebUser, find_user
from ade.db.models import (
    TERMINAL_RUN_STATUSES,
    Configuration,
    ConfigurationStatus,
    Document,
)
from ade.storage.keys import run_table_key

router = page_router()
RUN = "/w/{workspace}/runs/{run_id}"
NOTICES = {
    "corrected-active": "Corrections saved as a new configuration, now the active one: the next "
    "upload with these headers is mapped this way. This is the document's new run.",
    "corrected": "Corrections saved as a new configuration; it is not active, because the "
    "corrected run did not use the active configuration. This is the document's new run.",
}
PREVIEW_TABLES = 10
"""Tables whose first rows the page shows (each read costs up to 1 MiB of storage reads)."""


def run_context(services: Services, user: WebUser, run_id: uuid.UUID) -> dict[str, Any]:
    """Everything the run page and its live panel show, read in one transaction."""
    workspace_id = user.principal.workspace_id
    with services.read_sessions() as session:
        run = RunOut.model_validate(get_run(session, workspace_id, run_id))
        document = session.get(Document, run.document_id)
        configuration = session.get(Configuration, run.configuration_id)
        choices = session.scalars(
            select(Configuration)
            .where(
                Configuration.workspace_id == workspace_id,
                Configuration.status != ConfigurationStatus.ARCHIVED,
            )
            .order_by(Configuration.status != ConfigurationStatus.ACTIVE, Configuration.name)
        ).all()
        choices_view = [(str(c.id), c.name, c.status) for c in choices]
        fields = [
            (str(item["name"]), str(item.get("label") or ""))
            for item in (configuration.spec.get("fields") or [] if configuration else [])
        ]
    summary = run.summary or {}
    tables = []
    if run.status == "succeeded":
        for table in summary.get("tables") or []:
            number = int(table.get("number") or 0)
            preview = None
            if 1 <= number <= PREVIEW_TABLES:
                preview = read_preview(services.store, run_table_key(workspace_id, run.id, number))
            tables.append(
                {
                    "table": table,
                    "number": number,
                    "mapping": mapping_rows(table),
                    "unmapped": unmapped_columns(table),
                    "preview": preview,
                }
            )
    return {
        "user": user,
        "run": run,
        "base": workspace_url(user),
        "document_name": document.original_filename if document else summary.get("file", ""),
        "document_deleted": document is None or document.deleted_at is not None,
        "configuration_name": configuration.name if configuration else "",
        "choices": choices_view,
        "fields": fields,
        # Every key of a workspace may create and activate its configurations (the API has no
        # narrower permission), so whoever may re-run the document may correct its mapping.
        "can_correct": (
            run.status == "succeeded"
            and bool(fields)
            and document is not None
            and document.deleted_at is None
        ),
        "finished": run.status in TERMINAL_RUN_STATUSES,
        "failure": (
            explain_failure(run.error_code, run.status)
            if run.status in ("failed", "cancelled")
            else None
        ),
        "summary": summary,
        "tables": tables,
        "issues": issues_by_field(summary),
    }


@router.get(RUN)
async def run_page(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    run_id: uuid.UUID,
    notice: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    context = await run_in_threadpool(run_context, services, user, run_id)
    return render(request, "run.html", notice=NOTICES.get(notice or ""), **context)


@router.get(RUN + "/panel")
async def run_panel(
    request: Request, user: WorkspaceUser, services: ServicesDep, run_id: uuid.UUID
) -> Response:
    """The part of the run page that changes, for the page's script to swap in."""
    context = await run_in_threadpool(run_context, services, user, run_id)
    return render(request, "run_panel.html", **context)


def _session_alive(services: Services, secret: str) -> bool:
    with services.read_sessions() as session:
        return find_user(session, secret) is not None


@router.get(RUN + "/events")
async def run_events(
    request: Request, user: WorkspaceUser, services: ServicesDep, run_id: uuid.UUID
) -> Response:
    """The API's Server-Sent Events stream, for the signed-in browser.

    The session is checked again before each message, so signing out or revoking the key
    also ends a stream that is already open (the page then sends the browser to sign in).
    """
    response = await stream_events(
        user.principal,
        services,
        run_id,
        after=0,
        last_event_id=request.headers.get("last-event-id", "")[:20] or None,
    )
    secret = request.cookies.get(SESSION_COOKIE, "")
    messages = response.body_iterator

    async def while_signed_in() -> AsyncIterator[str | bytes | memoryview]:
        async for message in messages:
            if not await run_in_threadpool(_session_alive, services, secret):
                return
            yield message

    response.body_iterator = while_signed_in()
    return response


def download_name(document_name: str, suffix: str) -> str:
    """A download named after the uploaded file: "roster.csv" gives "roster.normalized.xlsx" and
    "roster.table-1.csv". The stored name is already clean (``ade.api.filenames``); it is
    cleaned again with the suffix on, and Content-Disposition quotes it."""
    stem = PurePosixPath(sanitize_filename(document_name)).stem or "run"
    return sanitize_filename(f"{stem}.{suffix}")


def _document_name(services: Services, user: WebUser, run_id: uuid.UUID) -> str:
    with services.read_sessions() as session:
        run = get_run(session, user.principal.workspace_id, run_id)
        document = session.get(Document, run.document_id)
        return document.original_filename if document else ""


async def _named(
    response: Response, services: Services, user: WebUser, run_id: uuid.UUID, suffix: str
) -> Response:
    name = await run_in_threadpool(_document_name, services, user, run_id)
    if name:
        response.headers["content-disposition"] = content_disposition(download_name(name, suffix))
    return response


@router.get(RUN + "/download/workbook")
async def download_workbook(
    request: Request, user: WorkspaceUser, services: ServicesDep, run_id: uuid.UUID
) -> Response:
    response = await download_output(
        user.principal, services, run_id, "xlsx", 1, request.headers.get("range")
    )
    return await _named(response, services, user, run_id, "normalized.xlsx")


@router.get(RUN + "/download/tables/{table}")
async def download_table(
    request: Request,
    user: WorkspaceUser,
    services: ServicesDep,
    run_id: uuid.UUID,
    table: Annotated[int, Path(ge=1, le=100_000)],
) -> Response:
    response = await download_output(
        user.principal, services, run_id, "csv", table, request.headers.get("range")
    )
    return await _named(response, services, user, run_id, f"table-{table}.csv")


def _cancel(services: Services, user: WebUser, run_id: uuid.UUID) -> None:
    with services.write_sessions() as session:
        cancel_run(session, get_run(session, user.principal.workspace_id, run_id))
        session.commit()


@router.post(RUN + "/cancel")
async def cancel(
    user: WorkspaceUser, services: ServicesDep, run_id: uuid.UUID, _form: CheckedForm
) -> Response:
    await run_in_threadpool(_cancel, services, user, run_id)
    return redirect(workspace_url(user, f"/runs/{run_id}"))


def start_run(
    services: Services,
    user: WebUser,
    document_id: uuid.UUID,
    configuration_id: uuid.UUID | None,
) -> uuid.UUID:
    """Queue a run of a document, exactly as ``POST /api/v1/.../runs`` does."""
    workspace_id = user.principal.workspace_id
    with services.write_sessions() as session:
        document = get_document(session, workspace_id, document_id)
        run = enqueue_run(session, workspace_id, document, configuration_id)
        session.commit()
        return run.id


def optional_uuid(text: str) -> uuid.UUID | None:
    """A form's id field: empty means "the default"; garbage is a 404 (no such thing)."""
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise not_found("configuration") from None


@router.post(RUN + "/rerun")
async def rerun(
    user: WorkspaceUser, services: ServicesDep, run_id: uuid.UUID, form: CheckedForm
) -> Response:
    def load_document() -> uuid.UUID:
        with services.read_sessions() as session:
            return get_run(session, user.principal.workspace_id, run_id).document_id

    document_id = await run_in_threadpool(load_document)
    configuration_id = optional_uuid(form_text(form, "configuration_id"))
    new_run = await run_in_threadpool(start_run, services, user, document_id, configuration_id)
    return redirect(workspace_url(user, f"/runs/{new_run}"))
