"""``/api/v1/workspaces``: the workspaces the caller's key can see (exactly its own)."""

from __future__ import annotations

from fastapi import APIRouter

from ade.api import lookups
from ade.api.auth import AuthPrincipal, Scope
from ade.api.dependencies import ServicesDep
from ade.api.problems import problems
from ade.api.schemas import Page, WorkspaceOut

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"], responses=problems(401, "5XX"))


@router.get("", response_model=Page[WorkspaceOut])
async def list_workspaces(principal: AuthPrincipal, services: ServicesDep) -> Page[WorkspaceOut]:
    row = await services.read(
        lambda connection: lookups.workspace(connection, principal.workspace_id)
    )
    return Page[WorkspaceOut](items=[WorkspaceOut.model_validate(row)], next_cursor=None)


@router.get("/{workspace}", response_model=WorkspaceOut, responses=problems(404, 422))
async def get_workspace(scope: Scope, services: ServicesDep) -> WorkspaceOut:
    row = await services.read(lambda connection: lookups.workspace(connection, scope.workspace_id))
    return WorkspaceOut.model_validate(row)
