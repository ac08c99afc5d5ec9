"""The schema's guarantees, on real databases: constraints, time zones, JSON, pragmas."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from ade.db import migrate
from ade.db.engine import create_engine, create_session_factory
from ade.db.models import (
    ApiKey,
    Configuration,
    ConfigurationStatus,
    Document,
    Run,
    RunEvent,
    RunStatus,
    Workspace,
)


@pytest.fixture()
def engine(db_url: str) -> Iterator[Engine]:
    migrate.upgrade(db_url, echo=lambda _m: None)
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def session(engine: Engine) -> Iterator[Session]:
    with create_session_factory(engine)() as session:
        yield session


def _workspace(session: Session, slug: str = "acme") -> Workspace:
    workspace = Workspace(slug=slug, name=slug.title())
    session.add(workspace)
    session.flush()
    return workspace


def _configuration(session: Session, workspace: Workspace, status: str) -> Configuration:
    configuration = Configuration(
        workspace_id=workspace.id, name=f"c-{uuid.uuid4().hex[:6]}", status=status, spec={}
    )
    session.add(configuration)
    session.flush()
    return configuration


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(ApiKey(workspace_id=uuid.uuid4(), name="k", prefix="ade_x", secret_hash="h"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_one_active_configuration_per_workspace(session: Session) -> None:
    acme, other = _workspace(session, "acme"), _workspace(session, "other")
    _configuration(session, acme, ConfigurationStatus.ACTIVE)
    _configuration(session, acme, ConfigurationStatus.DRAFT)
    _configuration(session, acme, ConfigurationStatus.ARCHIVED)
    _configuration(session, other, ConfigurationStatus.ACTIVE)
    session.commit()
    with pytest.raises(IntegrityError):
        _configuration(session, acme, ConfigurationStatus.ACTIVE)


def test_status_values_are_checked(session: Session) -> None:
    acme = _workspace(session)
    with pytest.raises(IntegrityError):
        _configuration(session, acme, "published")


def test_timestamps_come_back_aware_utc(session: Session) -> None:
    paris = timezone(timedelta(hours=2))
    moment = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=paris)
    workspace = Workspace(slug="tz", name="Tz", created_at=moment)
    session.add(workspace)
    session.commit()
    session.expunge_all()
    loaded = session.scalars(select(Workspace).where(Workspace.slug == "tz")).one()
    assert loaded.created_at == moment
    assert loaded.created_at.tzinfo is UTC
    assert loaded.created_at.hour == 12
    assert loaded.updated_at.tzinfo is UTC


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(Workspace(slug="naive", name="N", created_at=datetime(2026, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_run_queue_columns_json_and_event_order(session: Session) -> None:
    acme = _workspace(session)
    configuration = _configuration(session, acme, ConfigurationStatus.ACTIVE)
    document = Document(
        workspace_id=acme.id,
        original_filename="input.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        byte_size=1234,
        sha256="0" * 64,
        blob_key="documents/x",
    )
    session.add(document)
    session.flush()
    run = Run(workspace_id=acme.id, document_id=document.id, configuration_id=configuration.id)
    session.add(run)
    session.flush()
    assert run.status == RunStatus.QUEUED
    assert run.attempt_count == 0
    assert run.available_at.tzinfo is UTC
    run.summary = {"rows": 3, "fields": {"email": 0.9}, "names": ["é", "ü"]}
    session.add_all(
        [RunEvent(run_id=run.id, seq=1, type="started"), RunEvent(run_id=run.id, seq=2, type="x")]
    )
    session.commit()
    session.expunge_all()
    loaded = session.get(Run, run.id)
    assert loaded is not None
    assert loaded.summary == {"rows": 3, "fields": {"email": 0.9}, "names": ["é", "ü"]}
    session.add(RunEvent(run_id=run.id, seq=2, type="duplicate"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_sqlite_connections_get_the_pragmas(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        engine.dispose()
