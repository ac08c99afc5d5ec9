"""Portable column types shared by the models and the migrations.

They exist so that SQLite and PostgreSQL behave the same from Python's point of view:
timestamps always come back timezone-aware in UTC (SQLite has no time zone storage), and JSON
is ``JSONB`` on PostgreSQL (indexable, compact) but plain JSON text on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the only kind of datetime ADE stores)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that only accepts aware datetimes and returns aware UTC.

    Naive datetimes are refused on the way in: guessing their zone is how off-by-hours bugs
    start. On SQLite the value is stored as UTC text and re-tagged as UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_type() -> TypeEngine[Any]:
    """JSON, stored as JSONB on PostgreSQL."""
    return JSON().with_variant(JSONB(), "postgresql")
