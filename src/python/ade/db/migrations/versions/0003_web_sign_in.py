"""Web sign-in: one-time sign-in tokens and browser sessions (the web pages of ade.api).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Both tables hold only hashes of their secrets and belong to an API key (deleted with it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key_secret_table(table: str, *extra: sa.Column[object]) -> None:
    """A table of hashed secrets that each act for one API key."""
    op.create_table(
        table,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        *extra,
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.UniqueConstraint("token_hash", name=f"uq_{table}_token_hash"),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=f"fk_{table}_api_key_id_api_keys",
            ondelete="CASCADE",
        ),
    )
    op.create_index(f"ix_{table}_api_key_id", table, ["api_key_id"])


def upgrade() -> None:
    _key_secret_table(
        "sign_in_tokens", sa.Column("used_at", sa.DateTime(timezone=True), nullable=True)
    )
    _key_secret_table("web_sessions")
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("web_sessions")
    op.drop_table("sign_in_tokens")
