"""Keyset (cursor) pagination, newest first, over ``(created_at, id)``.

A cursor is the opaque, URL-safe encoding of the last row of a page. Unlike offsets, it stays
correct while rows are inserted (new rows land before the cursor and are never repeated or
skipped), and each page is one index range scan whatever the page number.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import ColumnElement, Connection, FromClause, Row, and_, or_, select

from ade.api.problems import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# The two query parameters of every list route, declared once so the bounds live here.
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the last page.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps({"t": created_at.isoformat(), "id": str(row_id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Parse a cursor; anything that is not one of ours is a 400, never a 500."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        created_at = datetime.fromisoformat(data["t"])
        row_id = uuid.UUID(data["id"])
        if created_at.tzinfo is None:
            raise ValueError("naive timestamp")
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise ApiError(400, "invalid cursor: pass the next_cursor of a previous page") from None
    return created_at, row_id


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
