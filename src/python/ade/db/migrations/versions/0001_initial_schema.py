"""Initial schema: workspaces, api_keys, configurations, documents, runs, run_events.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Explicit DDL, not ``metadata.create_all()``: this file must keep creating the same schema after
the models move on. The types are plain SQLAlchemy types chosen to match ade.db.models exactly
(``ade db check`` compares them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        name, sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=nullable
    )


def _workspace_id() -> sa.Column[object]:
    return sa.Column("workspace_id", sa.Uuid(), nullable=False)


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=f"fk_{table}_workspace_id_workspaces",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.UniqueConstraint("slug", name="uq_workspaces_slug"),
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        _workspace_id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_used_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        _workspace_fk("api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_index("ix_api_keys_workspace_id", "api_keys", ["workspace_id"])

    op.create_table(
        "configurations",
        sa.Column("id", sa.Uuid(), nullable=False),
        _workspace_id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _json("spec"),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_configurations"),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'archived')", name=op.f("ck_configurations_status")
        ),
        _workspace_fk("configurations"),
    )
    op.create_index("ix_configurations_workspace_id", "configurations", ["workspace_id"])
    op.create_index(
        "uq_configurations_one_active_per_workspace",
        "configurations",
        ["workspace_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )

    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        _workspace_id(),
        sa.Column("original_filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("blob_key", sa.String(1024), nullable=False),
        _timestamp("created_at"),
        _timestamp("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.CheckConstraint("byte_size >= 0", name=op.f("ck_documents_byte_size_not_negative")),
        _workspace_fk("documents"),
    )
    op.create_index(
        "ix_documents_workspace_id_created_at", "documents", ["workspace_id", "created_at"]
    )

    op.create_table(
        "runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        _workspace_id(),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("configuration_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _timestamp("available_at"),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        _timestamp("claim_expires_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("output_blob_key", sa.String(1024), nullable=True),
        sa.Column("output_byte_size", sa.BigInteger(), nullable=True),
        sa.Column("output_sha256", sa.String(64), nullable=True),
        _json("summary", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_runs_status"),
        ),
        sa.CheckConstraint("attempt_count >= 0", name=op.f("ck_runs_attempt_count_not_negative")),
        sa.CheckConstraint("max_attempts >= 1", name=op.f("ck_runs_max_attempts_positive")),
        _workspace_fk("runs"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_runs_document_id_documents"
        ),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["configurations.id"],
            name="fk_runs_configuration_id_configurations",
        ),
    )
    op.create_index("ix_runs_status_available_at", "runs", ["status", "available_at"])
    op.create_index("ix_runs_claim_expires_at", "runs", ["claim_expires_at"])
    op.create_index("ix_runs_workspace_id_created_at", "runs", ["workspace_id", "created_at"])
    op.create_index("ix_runs_document_id", "runs", ["document_id"])
    op.create_index("ix_runs_configuration_id", "runs", ["configuration_id"])

    op.create_table(
        "run_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.Column("type", sa.String(64), nullable=False),
        _json("payload"),
        sa.PrimaryKeyConstraint("id", name="pk_run_events"),
        sa.UniqueConstraint("run_id", "seq", name="uq_run_events_run_id_seq"),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_run_events_seq_positive")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_events_run_id_runs", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("run_events")
    op.drop_table("runs")
    op.drop_table("documents")
    op.drop_table("configurations")
    op.drop_table("api_keys")
    op.drop_table("workspaces")
