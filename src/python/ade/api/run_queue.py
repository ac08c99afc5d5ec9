"""The API's side of the run queue contract with the worker.

The API enqueues a run as a ``runs`` row with ``status='queued'``, ``available_at=now`` and
``attempt_count=0``; a worker claims it. Cancelling a queued run is final at once. The schema
has no "cancel requested" column, so cancelling a *running* run also sets ``cancelled`` (and
``finished_at``) directly: the worker must finish with a conditional update
(``... WHERE status = 'running' AND claimed_by = me``) and discard its result when that update
matches no row.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ade.api.problems import ApiError, not_found
from ade.db.column_types import utcnow
from ade.db.models import (
    Configuration,
    ConfigurationStatus,
    Document,
    Run,
    RunStatus,
)
from ade.db.run_notifications import notify_runs


def get_document(session: Session, workspace_id: uuid.UUID, document_id: uuid.UUID) -> Document:
    document = session.get(Document, document_id)
    if document is None or document.workspace_id != workspace_id or document.deleted_at:
        raise not_found("document")
    return document


def get_configuration(
    session: Session, workspace_id: uuid.UUID, configuration_id: uuid.UUID
) -> Configuration:
    configuration = session.get(Configuration, configuration_id)
    if configuration is None or configuration.workspace_id != workspace_id:
        raise not_found("configuration")
    return configuration


def get_run(session: Session, workspace_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    run = session.get(Run, run_id)
    if run is None or run.workspace_id != workspace_id:
        raise not_found("run")
    return run


def active_configuration(session: Session, workspace_id: uuid.UUID) -> Configuration | None:
    return session.scalars(
        select(Configuration).where(
            Configuration.workspace_id == workspace_id,
            Configuration.status == ConfigurationStatus.ACTIVE,
        )
    ).one_or_none()


def enqueue_run(
    session: Session,
    workspace_id: uuid.UUID,
    document: Document,
    configuration_id: uuid.UUID | None,
) -> Run:
    """Add (not commit) a queued run of ``document``; 409 if no usable configuration."""
    if configuration_id is None:
        configuration = active_configuration(session, workspace_id)
        if configuration is None:
            raise ApiError(
                409,
                "the workspace has no active configuration: pass configuration_id or activate one",
                code="no-active-configuration",
            )
    else:
        configuration = get_configuration(session, workspace_id, configuration_id)
        if configuration.status == ConfigurationStatus.ARCHIVED:
            raise ApiError(409, "configuration is archived", code="configuration-archived")
    now = utcnow()
    run = Run(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        document_id=document.id,
        configuration_id=configuration.id,
        status=RunStatus.QUEUED,
        available_at=now,
        attempt_count=0,
        created_at=now,
    )
    session.add(run)
    # Idle PostgreSQL workers claim it at once instead of at their next poll.
    notify_runs(session.connection(), str(run.id))
    return run


def cancel_run(session: Session, run: Run) -> Run:
    """Cancel (not commit) a queued or running run (see module docstring); 409 if it already
    ended.

    A conditional UPDATE, so a worker finishing at the same moment wins or loses cleanly:
    a run that just succeeded is never overwritten with "cancelled".
    """
    now = utcnow()
    result = session.execute(
        update(Run)
        .where(Run.id == run.id, Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))
        .values(
            status=RunStatus.CANCELLED,
            finished_at=now,
            claim_expires_at=None,
            error_code="cancelled",
            error_message="cancelled through the API",
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(run)
    if getattr(result, "rowcount", 0) == 0:
        raise ApiError(409, f"run already {run.status}", code="run-finished")
    return run
