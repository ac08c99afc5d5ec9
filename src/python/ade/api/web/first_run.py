"""The first start of a new installation: a workspace to work in and a way into it.

``ade start`` on a database without any workspace creates one (with its default configuration
active), an API key for the browser, and a one-time sign-in link for it, so a newcomer opens a
single URL and is in. Later starts find the workspace and make nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ade.api.admin import create_api_key, create_workspace
from ade.api.web.sessions import SIGN_IN_TOKEN_LIFETIME, create_sign_in_token
from ade.db.models import Workspace

DEFAULT_WORKSPACE_NAME = "Default"
BROWSER_KEY_NAME = "web sign-in (created by ade start)"


@dataclass(frozen=True)
class FirstRun:
    workspace_slug: str
    sign_in_token: str
    minutes_valid: int


def prepare_first_run(session: Session) -> FirstRun | None:
    """Create (and commit) the default workspace and a sign-in token, unless any workspace
    already exists (then None: nothing to do)."""
    if session.scalar(select(Workspace.id).limit(1)) is not None:
        return None
    workspace = create_workspace(session, DEFAULT_WORKSPACE_NAME)
    key = create_api_key(session, workspace, BROWSER_KEY_NAME)
    token = create_sign_in_token(session, key.id)
    session.commit()
    return FirstRun(
        workspace_slug=workspace.slug,
        sign_in_token=token,
        minutes_valid=int(SIGN_IN_TOKEN_LIFETIME.total_seconds() // 60),
    )
