"""The ADE schema: SQLAlchemy 2 typed models shared by the API and the worker.

One ``MetaData`` with a naming convention, so every constraint and index has a stable name
that migrations can refer to (Alembic: "The Importance of Naming Constraints"). The schema is
portable: UUID keys (``Uuid``: native on PostgreSQL, CHAR(32) on SQLite), aware UTC timestamps
(:class:`~ade.db.column_types.UTCDateTime`), JSON that is JSONB on PostgreSQL, enums stored as
strings guarded by CHECK constraints, and a partial unique index that both backends support.

The migrations in ``ade/db/migrations/versions`` create this schema with explicit DDL; a test
(and ``ade db check``) proves the two never drift.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ade.db.column_types import UTCDateTime, json_type, utcnow

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    metadata = metadata
    # SQLAlchemy declares this a ClassVar on DeclarativeBase.
    type_annotation_map = {  # noqa: RUF012
        datetime: UTCDateTime(),
        dict[str, Any]: json_type(),
    }


class ConfigurationStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_RUN_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})


def _in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(member.value) for member in enum)})"


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4)


def _created_at() -> Mapped[datetime]:
    return mapped_column(default=utcnow)


def _workspace_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))


class Workspace(Base):
    """A tenant: every other row belongs to exactly one workspace."""

    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = _uuid_pk()
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApiKey(Base):
    """An API key. Only a hash of the secret is stored; ``prefix`` (unique, short, shown to
    users) finds the row, then the hash of the presented secret is compared."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_workspace_id", "workspace_id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    workspace_id: Mapped[uuid.UUID] = _workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = _created_at()
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Configuration(Base):
    """A named extraction configuration; ``spec`` is the JSON target-field specification
    (validated by ``ade.db.configuration_spec`` before it is stored). At most one configuration
    per workspace is ``active``, enforced by a partial unique index on both backends."""

    __tablename__ = "configurations"
    __table_args__ = (
        CheckConstraint(_in("status", ConfigurationStatus), name="status"),
        Index("ix_configurations_workspace_id", "workspace_id"),
        Index(
            "uq_configurations_one_active_per_workspace",
            "workspace_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    workspace_id: Mapped[uuid.UUID] = _workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=ConfigurationStatus.DRAFT)
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Document(Base):
    """An uploaded file: its bytes live in blob storage under ``blob_key``. Soft-deleted by
    setting ``deleted_at`` (runs keep pointing at it)."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("byte_size >= 0", name="byte_size_not_negative"),
        Index("ix_documents_workspace_id_created_at", "workspace_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    workspace_id: Mapped[uuid.UUID] = _workspace_fk()
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = _created_at()
    deleted_at: Mapped[datetime | None]


class Run(Base):
    """One extraction of a document with a configuration, and its place in the work queue.

    A worker claims the oldest ``queued`` run whose ``available_at`` has passed (index on
    ``(status, available_at)``) or a ``running`` run whose claim expired (index on
    ``claim_expires_at``), sets ``claimed_by``/``claim_expires_at`` and bumps ``attempt_count``.
    """

    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(_in("status", RunStatus), name="status"),
        CheckConstraint("attempt_count >= 0", name="attempt_count_not_negative"),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
        Index("ix_runs_status_available_at", "status", "available_at"),
        Index("ix_runs_claim_expires_at", "claim_expires_at"),
        Index("ix_runs_workspace_id_created_at", "workspace_id", "created_at"),
        Index("ix_runs_document_id", "document_id"),
        Index("ix_runs_configuration_id", "configuration_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    workspace_id: Mapped[uuid.UUID] = _workspace_fk()
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    configuration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("configurations.id"))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claim_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created_at()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    output_blob_key: Mapped[str | None] = mapped_column(String(1024))
    output_byte_size: Mapped[int | None] = mapped_column(BigInteger)
    output_sha256: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[dict[str, Any] | None]


class RunEvent(Base):
    """An append-only, ordered log line of a run: ``seq`` counts 1, 2, 3... per run (unique
    with ``run_id``), so a reader polling "events after seq N" never misses or repeats one,
    even while the run is still writing."""

    __tablename__ = "run_events"
    __table_args__ = (
        UniqueConstraint("run_id", "seq"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created_at()
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class IdempotencyKey(Base):
    """A client's ``Idempotency-Key`` on a request that creates something (an upload, a run),
    per workspace, so a retry after a lost response gets the first response back instead of
    creating a duplicate (IETF draft-ietf-httpapi-idempotency-key-header).

    While the first request is in progress, ``owner`` names the API process handling it and
    ``locked_until`` is its renewed lease (a retry then gets 409; a lease left by a killed
    process is taken over). Once it succeeded, ``response_status``/``response_body`` hold what
    was answered and ``fingerprint`` what was asked (a different request with the same key gets
    422). Rows expire at ``expires_at``.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    workspace_id: Mapped[uuid.UUID] = _workspace_fk()
    key: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(255))
    locked_until: Mapped[datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime]


class SignInToken(Base):
    """A one-time link that signs a browser in as one API key (``ade start``'s first run).

    Only a hash of the token is stored; it works once (``used_at``) and only until
    ``expires_at``. It acts for its API key, so revoking the key voids it too.
    """

    __tablename__ = "sign_in_tokens"
    __table_args__ = (Index("ix_sign_in_tokens_api_key_id", "api_key_id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: the cookie holds a random secret, the row its hash.

    A session acts for the API key it was opened with and is checked against that key on every
    request, so revoking the key ends its sessions at once; signing out deletes the row.
    """

    __tablename__ = "web_sessions"
    __table_args__ = (
        Index("ix_web_sessions_api_key_id", "api_key_id"),
        Index("ix_web_sessions_expires_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime]
