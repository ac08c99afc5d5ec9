"""The run queue, in the ``runs`` table: claim, lease renewal, guarded state changes, sweep.

Claiming is atomic on both backends, so N workers never take the same run:

- PostgreSQL: ``SELECT id ... FOR UPDATE SKIP LOCKED LIMIT 1`` then ``UPDATE`` in the same
  transaction; competing workers skip the locked row instead of waiting for it.
- SQLite: one conditional ``UPDATE runs ... WHERE id = (SELECT ... LIMIT 1) AND
  status = 'queued' RETURNING ...``; SQLite has a single writer, so the statement is atomic.

Every change after the claim is guarded by ``id = :id AND claimed_by = :me AND status =
'running'``: a worker whose lease expired (and whose run was requeued and claimed by another)
matches no row, so it can neither overwrite the result nor append to the log. Cancelling is the
API setting ``status = 'cancelled'``; the guard then fails too and the heartbeat reports it.

Every attempt leaves a trace in the run's log, whatever happens to the worker afterwards: the
claim writes ``worker.claimed`` in the claim's own transaction, and a sweep that takes a run
away from a silent worker writes ``lease.expired``.

Writes are safe to retry after a dropped connection (a database restart can cut one off
between COMMIT and its reply): every event carries an id fixed when it was created, and a
retried write (``retrying=True``) skips events already stored and recognizes its own earlier
commit instead of reporting the run lost.

Times come from the workers' clocks (UTC): leases are tens of seconds, far above normal skew.
On PostgreSQL, state changes that make a run claimable send ``NOTIFY ade_runs`` (see
:mod:`ade.worker.wakeup`); the API should do the same after inserting a run.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from ade.db.column_types import utcnow
from ade.db.models import Configuration, Document, Run, RunEvent, RunStatus
from ade.db.run_notifications import notify_runs

HeartbeatResult = Literal["ok", "cancelled", "lost"]


@dataclass(frozen=True)
class ClaimedRun:
    """A run this worker now holds, with what is needed to execute it."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    document_id: uuid.UUID
    configuration_id: uuid.UUID
    attempt: int
    max_attempts: int
    document_key: str
    document_name: str
    document_deleted: bool
    spec: dict[str, Any]


@dataclass(frozen=True)
class Event:
    """One log line to append: ``type`` plus a JSON payload."""

    type: str
    payload: dict[str, Any]
    at: datetime | None = None
    """When it happened (default: when it is written)."""
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    """The row's id, fixed at creation so a retried write can tell what is already stored."""


def _mine(run_id: uuid.UUID, worker_id: str) -> list[ColumnElement[bool]]:
    return [Run.id == run_id, Run.claimed_by == worker_id, Run.status == RunStatus.RUNNING.value]


def _claim_values(worker_id: str, now: datetime, lease_seconds: float) -> dict[str, Any]:
    return {
        "status": RunStatus.RUNNING.value,
        "claimed_by": worker_id,
        "claim_expires_at": now + timedelta(seconds=lease_seconds),
        "attempt_count": Run.attempt_count + 1,
        "started_at": now,
        "finished_at": None,
        "error_code": None,
        "error_message": None,
    }


def claim(engine: Engine, worker_id: str, lease_seconds: float) -> ClaimedRun | None:
    """Take the oldest available queued run, or return None when there is none.

    The ``worker.claimed`` event is written in the same transaction, so no attempt can be
    counted without a line in the log saying who made it."""
    now = utcnow()
    available = [Run.status == RunStatus.QUEUED.value, Run.available_at <= now]
    oldest = select(Run.id).where(*available).order_by(Run.available_at, Run.id).limit(1)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            run_id = connection.execute(oldest.with_for_update(skip_locked=True)).scalar()
            if run_id is None:
                return None
            statement = update(Run).where(Run.id == run_id)
        else:
            statement = update(Run).where(
                Run.id == oldest.scalar_subquery(), Run.status == RunStatus.QUEUED.value
            )
        row = connection.execute(
            statement.values(**_claim_values(worker_id, now, lease_seconds)).returning(
                Run.id,
                Run.workspace_id,
                Run.document_id,
                Run.configuration_id,
                Run.attempt_count,
                Run.max_attempts,
            )
        ).first()
        if row is None:
            return None
        claimed = Event(
            "worker.claimed",
            {
                "ts": now.isoformat(timespec="milliseconds"),
                "worker": worker_id,
                "attempt": row.attempt_count,
                "max_attempts": row.max_attempts,
            },
            at=now,
        )
        _insert_events(connection, row.id, [claimed])
        details = connection.execute(
            select(
                Document.blob_key,
                Document.original_filename,
                Document.deleted_at,
                Configuration.spec,
            )
            .select_from(Run)
            .join(Document, Document.id == Run.document_id)
            .join(Configuration, Configuration.id == Run.configuration_id)
            .where(Run.id == row.id)
        ).one()
    return ClaimedRun(
        id=row.id,
        workspace_id=row.workspace_id,
        document_id=row.document_id,
        configuration_id=row.configuration_id,
        attempt=row.attempt_count,
        max_attempts=row.max_attempts,
        document_key=details.blob_key,
        document_name=details.original_filename,
        document_deleted=details.deleted_at is not None,
        spec=dict(details.spec),
    )


def _why_not_mine(connection: Connection, run_id: uuid.UUID) -> HeartbeatResult:
    status = connection.execute(select(Run.status).where(Run.id == run_id)).scalar()
    return "cancelled" if status == RunStatus.CANCELLED.value else "lost"


def heartbeat(
    engine: Engine, run_id: uuid.UUID, worker_id: str, lease_seconds: float
) -> HeartbeatResult:
    """Extend the lease; report ``cancelled`` (by the API) or ``lost`` (no longer ours)."""
    return append_events(engine, run_id, worker_id, (), lease_seconds)


def _stored_ids(connection: Connection, events: Sequence[Event]) -> set[uuid.UUID]:
    if not events:
        return set()
    ids = [event.id for event in events]
    return set(connection.execute(select(RunEvent.id).where(RunEvent.id.in_(ids))).scalars())


def _insert_events(connection: Connection, run_id: uuid.UUID, events: Sequence[Event]) -> None:
    if not events:
        return
    last = connection.execute(
        select(func.coalesce(func.max(RunEvent.seq), 0)).where(RunEvent.run_id == run_id)
    ).scalar_one()
    now = utcnow()
    connection.execute(
        insert(RunEvent),
        [
            {
                "id": event.id,
                "run_id": run_id,
                "seq": last + offset,
                "created_at": event.at or now,
                "type": event.type[:64],
                "payload": event.payload,
            }
            for offset, event in enumerate(events, start=1)
        ],
    )


def append_events(
    engine: Engine,
    run_id: uuid.UUID,
    worker_id: str,
    events: Sequence[Event],
    lease_seconds: float,
    *,
    retrying: bool = False,
) -> HeartbeatResult:
    """Append log lines (and renew the lease) if the run is still ours; else say why not.

    The guarded UPDATE comes first, so it also locks the run row (PostgreSQL) or the database
    (SQLite): ``seq`` numbers computed after it cannot collide with another writer's.
    """
    return transition(
        engine,
        run_id,
        worker_id,
        {"claim_expires_at": utcnow() + timedelta(seconds=lease_seconds)},
        events,
        retrying=retrying,
    )


def transition(
    engine: Engine,
    run_id: uuid.UUID,
    worker_id: str,
    values: dict[str, Any],
    events: Sequence[Event] = (),
    *,
    wake: bool = False,
    retrying: bool = False,
) -> HeartbeatResult:
    """Apply ``values`` to our run and append ``events`` atomically, only if it is still ours.

    ``retrying=True`` after a try whose outcome is unknown (the connection dropped): events
    already stored are not stored again, and if the run is no longer ours *because that try
    did commit* (our events are there), the answer is ``ok``, not ``lost``.
    """
    with engine.begin() as connection:
        changed = connection.execute(
            update(Run).where(*_mine(run_id, worker_id)).values(**values).returning(Run.id)
        ).first()
        stored = _stored_ids(connection, events) if retrying else set()
        if changed is None:
            if events and stored == {event.id for event in events}:
                return "ok"  # our earlier try committed; its reply was lost
            return _why_not_mine(connection, run_id)
        _insert_events(connection, run_id, [e for e in events if e.id not in stored])
        if wake:
            notify_runs(connection, str(run_id))
    return "ok"


def succeed(
    engine: Engine,
    run_id: uuid.UUID,
    worker_id: str,
    *,
    output_key: str,
    output_size: int,
    output_sha256: str,
    summary: dict[str, Any],
    events: Sequence[Event] = (),
    retrying: bool = False,
) -> HeartbeatResult:
    """Mark our run succeeded with its output and summary."""
    return transition(
        engine,
        run_id,
        worker_id,
        {
            "status": RunStatus.SUCCEEDED.value,
            "finished_at": utcnow(),
            "claim_expires_at": None,
            "output_blob_key": output_key,
            "output_byte_size": output_size,
            "output_sha256": output_sha256,
            "summary": summary,
        },
        events,
        retrying=retrying,
    )


def fail(
    engine: Engine,
    run_id: uuid.UUID,
    worker_id: str,
    code: str,
    message: str,
    events: Sequence[Event] = (),
    retrying: bool = False,
) -> HeartbeatResult:
    """Mark our run failed (no retry)."""
    return transition(
        engine,
        run_id,
        worker_id,
        {
            "status": RunStatus.FAILED.value,
            "finished_at": utcnow(),
            "claim_expires_at": None,
            "error_code": code[:64],
            "error_message": message,
        },
        events,
        retrying=retrying,
    )


def retry_later(
    engine: Engine,
    run_id: uuid.UUID,
    worker_id: str,
    code: str,
    message: str,
    delay_seconds: float,
    events: Sequence[Event] = (),
    retrying: bool = False,
) -> HeartbeatResult:
    """Put our run back in the queue, available after ``delay_seconds`` (attempt counted)."""
    return transition(
        engine,
        run_id,
        worker_id,
        {
            "status": RunStatus.QUEUED.value,
            "available_at": utcnow() + timedelta(seconds=delay_seconds),
            "claimed_by": None,
            "claim_expires_at": None,
            "error_code": code[:64],
            "error_message": message,
        },
        events,
        wake=True,
        retrying=retrying,
    )


def release(
    engine: Engine,
    run_id: uuid.UUID,
    worker_id: str,
    events: Sequence[Event] = (),
    retrying: bool = False,
) -> HeartbeatResult:
    """Give our run back untouched (shutdown): queued now, the attempt not counted."""
    return transition(
        engine,
        run_id,
        worker_id,
        {
            "status": RunStatus.QUEUED.value,
            "available_at": utcnow(),
            "claimed_by": None,
            "claim_expires_at": None,
            "started_at": None,
            "attempt_count": Run.attempt_count - 1,
        },
        events,
        wake=True,
        retrying=retrying,
    )


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    failed: int


def sweep_expired(engine: Engine) -> SweepResult:
    """Requeue runs whose lease expired (or fail them, ``lease_expired``, once out of attempts),
    writing a ``lease.expired`` line naming the silent worker into each run's log.

    Any worker may run this: the UPDATEs are conditional on the expiry, so two sweepers (or a
    sweeper racing a late heartbeat) cannot both act on one run.
    """
    now = utcnow()
    expired = [Run.status == RunStatus.RUNNING.value, Run.claim_expires_at < now]
    candidates = select(Run.id, Run.claimed_by, Run.attempt_count, Run.max_attempts).where(*expired)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        rows = {row.id: row for row in connection.execute(candidates).all()}
        if not rows:
            return SweepResult(requeued=0, failed=0)
        retry = [run_id for run_id, row in rows.items() if row.attempt_count < row.max_attempts]
        final = [run_id for run_id, row in rows.items() if row.attempt_count >= row.max_attempts]
        requeued = _update_expired(
            connection,
            retry,
            expired,
            status=RunStatus.QUEUED.value,
            available_at=now,
            claimed_by=None,
            claim_expires_at=None,
            error_code="lease_expired",
            error_message="the worker running this run stopped renewing its lease",
        )
        failed = _update_expired(
            connection,
            final,
            expired,
            status=RunStatus.FAILED.value,
            finished_at=now,
            claim_expires_at=None,
            error_code="lease_expired",
            error_message="the worker running this run stopped renewing its lease, "
            "and the run has no attempts left",
        )
        for run_id in [*requeued, *failed]:
            row = rows[run_id]
            event = Event(
                "lease.expired",
                {
                    "ts": now.isoformat(timespec="milliseconds"),
                    "worker": row.claimed_by,
                    "attempt": row.attempt_count,
                    "requeued": run_id in requeued,
                },
                at=now,
            )
            _insert_events(connection, run_id, [event])
        if requeued:
            notify_runs(connection)
    return SweepResult(requeued=len(requeued), failed=len(failed))


def _update_expired(
    connection: Connection,
    run_ids: list[uuid.UUID],
    expired: list[ColumnElement[bool]],
    **values: Any,
) -> list[uuid.UUID]:
    """Apply ``values`` to those of ``run_ids`` still expired; return the ids changed."""
    if not run_ids:
        return []
    statement = update(Run).where(Run.id.in_(run_ids), *expired).values(**values)
    return list(connection.execute(statement.returning(Run.id)).scalars())


def pending_count(engine: Engine) -> int:
    """Runs not finished yet (queued, also later retries, or running anywhere)."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(Run)
                .where(Run.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value]))
            ).scalar_one()
        )


def enqueue_run(
    connection: Connection,
    *,
    workspace_id: uuid.UUID,
    document_id: uuid.UUID,
    configuration_id: uuid.UUID,
    max_attempts: int = 3,
    available_at: datetime | None = None,
) -> uuid.UUID:
    """Insert a queued run (and NOTIFY on PostgreSQL). For tests, tools and the benchmark;
    the API creates runs its own way but should NOTIFY ``ade_runs`` likewise."""
    run_id = uuid.uuid4()
    now = utcnow()
    connection.execute(
        insert(Run).values(
            id=run_id,
            workspace_id=workspace_id,
            document_id=document_id,
            configuration_id=configuration_id,
            status=RunStatus.QUEUED.value,
            available_at=available_at or now,
            attempt_count=0,
            max_attempts=max_attempts,
            created_at=now,
        )
    )
    notify_runs(connection, str(run_id))
    return run_id


def events_of(connection: Connection, run_id: uuid.UUID) -> list[dict[str, Any]]:
    """The run's log lines in order, as NDJSON-ready dicts."""
    rows = connection.execute(
        select(RunEvent.seq, RunEvent.created_at, RunEvent.type, RunEvent.payload)
        .where(RunEvent.run_id == run_id)
        .order_by(RunEvent.seq)
    ).all()
    return [log_line(r.seq, r.created_at, r.type, dict(r.payload)) for r in rows]


def log_line(seq: int, at: datetime, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One NDJSON log line, the same whether read back from the database or not yet written."""
    return {"seq": seq, "at": at.isoformat(), "event": kind, **payload}
