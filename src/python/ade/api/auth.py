"""Authentication (``X-API-Key``) and workspace scoping for every ``/api/v1`` route.

The key is looked up in the database on every request (no cache of keys or their validity), so
revoking it takes effect on the very next request, in every server process and on every
machine; the lookup is one indexed query, cheaper than keeping a cache honest. A key sees
exactly one workspace; a path naming any other workspace answers 404 (the same as a workspace
that does not exist), so keys cannot probe for other tenants.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from ade.api import keys
from ade.api.dependencies import Services
from ade.api.problems import ApiError, not_found
from ade.db.column_types import utcnow
from ade.db.models import ApiKey, Workspace

LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is refreshed at most this often: a write per request would serialize
every read on SQLite for a timestamp nobody needs to the second."""

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A workspace API key (`ade apikey create --workspace SLUG`).",
)

_CHALLENGE = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key and the one workspace it belongs to."""

    key_id: uuid.UUID
    workspace_id: uuid.UUID
    workspace_slug: str


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, code="unauthorized", headers=_CHALLENGE)


_keys, _workspaces = ApiKey.__table__, Workspace.__table__
_KEY_LOOKUP = (
    select(
        _keys.c.id,
        _keys.c.workspace_id,
        _keys.c.secret_hash,
        _keys.c.revoked_at,
        _keys.c.last_used_at,
        _workspaces.c.slug,
    )
    .join(_workspaces, _workspaces.c.id == _keys.c.workspace_id)
    .where(_keys.c.prefix == bindparam("prefix"))
)
"""Core and built once, like ``ade.api.lookups``: compiled once, no ORM on the way."""


@dataclass(frozen=True)
class KeyCheck:
    """A valid, unrevoked key: who it is, and when it was last recorded as used."""

    principal: Principal
    last_used_at: datetime | None


def check_key(connection: Connection | Session, api_key: str | None) -> KeyCheck:
    """Look the presented key up (one indexed query); 401 unless it exists and is not revoked."""
    if not api_key:
        raise _unauthorized("missing API key: send it in the X-API-Key header")
    presented = api_key.strip()
    prefix = keys.parse_prefix(presented)
    row = None
    if prefix is not None:
        row = connection.execute(_KEY_LOOKUP, {"prefix": prefix}).one_or_none()
    if not keys.verify(presented, row.secret_hash if row is not None else None) or row is None:
        raise _unauthorized("invalid API key")
    if row.revoked_at is not None:
        raise _unauthorized("API key has been revoked")
    principal = Principal(key_id=row.id, workspace_id=row.workspace_id, workspace_slug=row.slug)
    return KeyCheck(principal=principal, last_used_at=row.last_used_at)


def _use_is_stale(check: KeyCheck, now: datetime) -> bool:
    return check.last_used_at is None or now - check.last_used_at > LAST_USED_RESOLUTION


def _claim_use(services: Services, key_id: uuid.UUID, now: datetime) -> bool:
    """True for one request per key and resolution in this process: concurrent requests that
    all see a stale ``last_used_at`` would otherwise all queue for the write lock."""
    last = services.recorded_key_uses.get(key_id)
    if last is not None and now - last <= LAST_USED_RESOLUTION:
        return False
    services.recorded_key_uses[key_id] = now
    return True


def record_use(session: Session, key_id: uuid.UUID, now: datetime) -> None:
    """Set ``last_used_at`` (and commit): a write, so callers run it in a worker thread."""
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    session.commit()


def authenticate(session: Session, services: Services, api_key: str | None) -> Principal:
    """Check a key and record its use, synchronously (for code already in a worker thread)."""
    check = check_key(session, api_key)
    session.rollback()  # end the read transaction before the write below
    now = utcnow()
    if _use_is_stale(check, now):
        with services.write_sessions() as writer:
            record_use(writer, check.principal.key_id, now)
    return check.principal


async def _authenticate(services: Services, api_key: str | None) -> Principal:
    """The key is checked against the database on every request: a revoked key is refused on
    the very next request, in every process (no cache to invalidate)."""
    check = await services.read(partial(check_key, api_key=api_key))
    now = utcnow()
    if _use_is_stale(check, now) and _claim_use(services, check.principal.key_id, now):
        await services.write(partial(record_use, key_id=check.principal.key_id, now=now))
    return check.principal


async def workspace_scope(principal: Principal, workspace: str) -> Principal:
    """The caller's principal if ``workspace`` names the caller's workspace (slug or id),
    else 404 (the same answer as for a workspace that does not exist)."""
    if workspace == principal.workspace_slug:
        return principal
    try:
        if uuid.UUID(workspace) == principal.workspace_id:
            return principal
    except ValueError:
        pass
    raise not_found("workspace")


# The two dependencies below are deliberately flat (the request, the header, the path): each
# nested dependency is one more round of FastAPI's resolver on every request.

ApiKeyHeader = Annotated[str | None, Depends(api_key_header)]


async def require_api_key(request: Request, api_key: ApiKeyHeader) -> Principal:
    """Routes outside a workspace (``GET /api/v1/workspaces``): any valid key."""
    return await _authenticate(request.app.state.services, api_key)


async def require_workspace_key(
    request: Request,
    api_key: ApiKeyHeader,
    workspace: Annotated[str, Path(description="Workspace slug or id.", max_length=100)],
) -> Principal:
    """Routes under ``/api/v1/workspaces/{workspace}``: a valid key of that workspace."""
    principal = await _authenticate(request.app.state.services, api_key)
    return await workspace_scope(principal, workspace)


AuthPrincipal = Annotated[Principal, Depends(require_api_key)]
Scope = Annotated[Principal, Depends(require_workspace_key)]
