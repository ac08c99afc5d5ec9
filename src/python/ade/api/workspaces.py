"""``/api/v1/workspaces``: the workspaces the caller's key can see (exactly its own)."""

from __future__ import annotations

from fastapi import APIRouter

from ade.api.auth import AuthPrincipal, Scope
from ade.api.dependencies import ReadSession
from ade.api.problems import not_found
from ade.api.schemas import Page, WorkspaceOut
from ade.db.models import Workspace

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


@router.get("", response_model=Page[WorkspaceOut])
def list_workspaces(principal: AuthPrincipal, session: ReadSession) -> Page[WorkspaceOut]:
    workspace = session.get(Workspace, principal.workspace_id)
    items = [WorkspaceOut.model_validate(workspace)] if workspace is not None else []
    return Page[WorkspaceOut](items=items, next_cursor=None)


@router.get("/{workspace}", response_model=WorkspaceOut)
def get_workspace(scope: Scope, session: ReadSession) -> WorkspaceOut:
    workspace = session.get(Workspace, scope.workspace_id)
    if workspace is None:
        raise not_found("workspace")
    return WorkspaceOut.model_validate(workspace)
