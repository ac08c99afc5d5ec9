"""Keyset (cursor) pagination, newest first, over ``(created_at, id)``.

A cursor names the last row of a page (its creation time and id). Unlike offsets, it stays
correct while rows are inserted (new rows land before the cursor and are never repeated or
skipped), and each page is one index range scan whatever the page number.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import ColumnElement, Connection, FromClause, Row, and_, or_, select

from ade.api.problems import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# The two query parameters of every list route, declared once so the bounds live here.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR_PATTERN = "^([0-9]{1,17}-[0-9a-f]{32})?$"
"""``<microseconds since 1970>-<id as 32 hex digits>`` (or empty: the first page). Every string
of this shape is a valid position, so the schema's pattern is exactly what the API accepts
(17 digits stay below the year 9999)."""
Cursor = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        description="The `next_cursor` of the previous page: the page starts after it.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    micros = (created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{row_id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names; 422 for anything that does not match the pattern (the
    route's validation has refused those already)."""
    if re.match(CURSOR_PATTERN, cursor) is None:
        raise ApiError(422, "invalid cursor: pass the next_cursor of a previous page")
    micros, _, hex_id = cursor.partition("-")
    return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex_id)


def fetch_page(
    connection: Connection,
    table: FromClause,
    conditions: Sequence[ColumnElement[bool]],
    cursor: str | None,
    limit: int,
) -> tuple[list[Row[Any]], str | None]:
    """One page of ``table``'s rows matching ``conditions``, newest first, and the cursor of the
    next page (None on the last one). One row more than the page is fetched to know that."""
    created_at, row_id = table.c.created_at, table.c.id
    query = select(table).where(*conditions)
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        query = query.where(
            or_(created_at < after_time, and_(created_at == after_time, row_id < after_id))
        )
    query = query.order_by(created_at.desc(), row_id.desc()).limit(limit + 1)
    rows = list(connection.execute(query).all())
    if len(rows) <= limit:
        return rows, None
    del rows[limit:]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id)
