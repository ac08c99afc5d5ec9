"""Configurations: create (spec validated by ``ade.db.configuration_spec``), list, get,
activate (exactly one active per workspace, atomically) and archive."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ade.api import lookups
from ade.api.auth import Scope
from ade.api.dependencies import ServicesDep, WriteSession
from ade.api.lookups import configurations
from ade.api.openapi import links
from ade.api.pagination import DEFAULT_LIMIT, Cursor, Limit, fetch_page
from ade.api.problems import ApiError, problems
from ade.api.run_queue import get_configuration
from ade.api.schemas import ConfigurationCreate, ConfigurationOut, Page
from ade.db.column_types import utcnow
from ade.db.models import Configuration, ConfigurationStatus, Workspace

router = APIRouter(
    prefix="/api/v1/workspaces/{workspace}/configurations",
    tags=["configurations"],
    responses=problems(401, 404, 422, "5XX"),
)

Status = ConfigurationStatus
_CONFIGURATION_ID = {"configuration_id": "$response.body#/id"}
_CONFIGURATION_LINKS = links(
    get_configuration=_CONFIGURATION_ID,
    activate_configuration=_CONFIGURATION_ID,
    archive_configuration=_CONFIGURATION_ID,
)


def activate(session: Session, workspace_id: uuid.UUID, configuration: Configuration) -> None:
    """Make ``configuration`` the only active one of its workspace (caller commits).

    The workspace row is locked first (``FOR UPDATE`` on PostgreSQL; on SQLite the write
    session's ``BEGIN IMMEDIATE`` already serializes writers), so two concurrent activations
    run one after the other instead of colliding on the one-active unique index.
    """
    session.execute(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())
    session.refresh(configuration)
    if configuration.status == Status.ARCHIVED:
        raise ApiError(409, "an archived configuration cannot be activated", code="archived")
    now = utcnow()
    session.execute(
        update(Configuration)
        .where(
            Configuration.workspace_id == workspace_id,
            Configuration.status == Status.ACTIVE,
            Configuration.id != configuration.id,
        )
        .values(status=Status.DRAFT, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    configuration.status = Status.ACTIVE
    configuration.updated_at = now


@router.post(
    "",
    status_code=201,
    response_model=ConfigurationOut,
    responses=problems(400) | {201: _CONFIGURATION_LINKS},
)
def create_configuration(
    scope: Scope, session: WriteSession, body: ConfigurationCreate
) -> ConfigurationOut:
    now = utcnow()
    configuration = Configuration(
        id=uuid.uuid4(),
        workspace_id=scope.workspace_id,
        name=body.name,
        status=Status.DRAFT,
        spec=body.spec.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
    )
    session.add(configuration)
    session.flush()
    if body.activate:
        activate(session, scope.workspace_id, configuration)
    session.commit()
    return ConfigurationOut.model_validate(configuration)


@router.get("", response_model=Page[ConfigurationOut])
async def list_configurations(
    scope: Scope,
    services: ServicesDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    status: Annotated[ConfigurationStatus | None, Query()] = None,
) -> Page[ConfigurationOut]:
    conditions = [configurations.c.workspace_id == scope.workspace_id]
    if status is not None:
        conditions.append(configurations.c.status == status)
    rows, next_cursor = await services.read(
        lambda connection: fetch_page(connection, configurations, conditions, cursor, limit)
    )
    return Page[ConfigurationOut](
        items=[ConfigurationOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/{configuration_id}", response_model=ConfigurationOut, name="get_configuration")
async def get_configuration_route(
    scope: Scope, services: ServicesDep, configuration_id: uuid.UUID
) -> ConfigurationOut:
    row = await services.read(
        lambda connection: lookups.configuration(connection, scope.workspace_id, configuration_id)
    )
    return ConfigurationOut.model_validate(row)


@router.post(
    "/{configuration_id}/activate", response_model=ConfigurationOut, responses=problems(409)
)
def activate_configuration(
    scope: Scope, session: WriteSession, configuration_id: uuid.UUID
) -> ConfigurationOut:
    configuration = get_configuration(session, scope.workspace_id, configuration_id)
    activate(session, scope.workspace_id, configuration)
    session.commit()
    return ConfigurationOut.model_validate(configuration)


@router.post(
    "/{configuration_id}/archive", response_model=ConfigurationOut, responses=problems(409)
)
def archive_configuration(
    scope: Scope, session: WriteSession, configuration_id: uuid.UUID
) -> ConfigurationOut:
    """Archive a configuration; the active one cannot be archived (activate another first),
    so a workspace never silently loses the configuration its uploads default to."""
    configuration = get_configuration(session, scope.workspace_id, configuration_id)
    if configuration.status == Status.ACTIVE:
        raise ApiError(
            409,
            "the active configuration cannot be archived: activate another one first",
            code="configuration-active",
        )
    if configuration.status != Status.ARCHIVED:
        configuration.status = Status.ARCHIVED
        configuration.updated_at = utcnow()
        session.commit()
    return ConfigurationOut.model_validate(configuration)
