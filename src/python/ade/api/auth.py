"""Authentication (``X-API-Key``) and workspace scoping for every ``/api/v1`` route.

The key is looked up on every request (no cache), so revoking it takes effect on the very next
request. A key sees exactly one workspace; a path naming any other workspace answers 404 (the
same as a workspace that does not exist), so keys cannot probe for other tenants.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path
from fastapi.security import APIKeyHeader
from sqlalchemy import select, update

from ade.api import keys
from ade.api.dependencies import ReadSession, ServicesDep
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


def authenticate(
    session: ReadSession,
    services: ServicesDep,
    api_key: Annotated[str | None, Depends(api_key_header)],
) -> Principal:
    if not api_key:
        raise _unauthorized("missing API key: send it in the X-API-Key header")
    presented = api_key.strip()
    prefix = keys.parse_prefix(presented)
    row = None
    if prefix is not None:
        # Plain columns, not ORM objects: one indexed query, nothing to expire or reload.
        row = session.execute(
            select(
                ApiKey.id,
                ApiKey.workspace_id,
                ApiKey.secret_hash,
                ApiKey.revoked_at,
                ApiKey.last_used_at,
                Workspace.slug,
            )
            .join(Workspace, Workspace.id == ApiKey.workspace_id)
            .where(ApiKey.prefix == prefix)
        ).one_or_none()
    if not keys.verify(presented, row.secret_hash if row is not None else None) or row is None:
        raise _unauthorized("invalid API key")
    if row.revoked_at is not None:
        raise _unauthorized("API key has been revoked")
    session.rollback()  # end the read transaction before any write below
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        with services.write_sessions() as writer:
            writer.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
            writer.commit()
    return Principal(key_id=row.id, workspace_id=row.workspace_id, workspace_slug=row.slug)


AuthPrincipal = Annotated[Principal, Depends(authenticate)]


async def workspace_scope(
    principal: AuthPrincipal,
    workspace: Annotated[str, Path(description="Workspace slug or id.", max_length=100)],
) -> Principal:
    """The caller's principal if the path names the caller's workspace (slug or id), else 404."""
    if workspace == principal.workspace_slug:
        return principal
    try:
        if uuid.UUID(workspace) == principal.workspace_id:
            return principal
    except ValueError:
        pass
    raise not_found("workspace")


Scope = Annotated[Principal, Depends(workspace_scope)]
