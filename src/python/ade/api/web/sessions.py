"""Browser sign-in: sessions opened with an API key, and one-time sign-in links.

A session cookie holds 32 random bytes; the database keeps only their SHA-256 (the reasoning of
``ade.api.keys``: a fast hash is right for a 256-bit random secret). A session acts for the API
key that opened it, and every request joins the key, so revoking the key (``ade apikey revoke``)
ends its sessions at the very next request; signing out deletes the row.

A sign-in token is the same kind of secret, printed once by ``ade start`` inside a link: it
works for a few minutes, once, and opens a session for its API key.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ade.api.auth import Principal
from ade.db.column_types import utcnow
from ade.db.models import ApiKey, SignInToken, WebSession, Workspace

SESSION_LIFETIME = timedelta(hours=12)
"""A signed-in browser stays signed in this long (from sign-in), then signs in again."""

SIGN_IN_TOKEN_LIFETIME = timedelta(minutes=15)
"""A sign-in link printed by ``ade start`` works this long, and once."""


@dataclass(frozen=True)
class WebUser:
    """Who is signed in: the API key's principal plus what the pages show."""

    principal: Principal
    workspace_name: str
    session_hash: str


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def open_session(session: Session, api_key_id: uuid.UUID) -> str:
    """Add (caller commits) a session for ``api_key_id``; returns the cookie's secret.

    Expired sessions are swept here, the one moment a new row is written anyway."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    secret = new_secret()
    session.add(
        WebSession(
            id=uuid.uuid4(),
            api_key_id=api_key_id,
            token_hash=hash_secret(secret),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return secret


def find_user(session: Session, secret: str) -> WebUser | None:
    """The live session for a cookie's secret: unexpired, and its key not revoked."""
    token_hash = hash_secret(secret)
    row = session.execute(
        select(ApiKey.id, ApiKey.workspace_id, Workspace.slug, Workspace.name)
        .select_from(WebSession)
        .join(ApiKey, ApiKey.id == WebSession.api_key_id)
        .join(Workspace, Workspace.id == ApiKey.workspace_id)
        .where(
            WebSession.token_hash == token_hash,
            WebSession.expires_at > utcnow(),
            ApiKey.revoked_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        return None
    principal = Principal(key_id=row.id, workspace_id=row.workspace_id, workspace_slug=row.slug)
    return WebUser(principal=principal, workspace_name=row.name, session_hash=token_hash)


def close_session(session: Session, session_hash: str) -> None:
    """Delete (caller commits) the session whose cookie hashes to ``session_hash``."""
    session.execute(delete(WebSession).where(WebSession.token_hash == session_hash))


def create_sign_in_token(
    session: Session, api_key_id: uuid.UUID, lifetime: timedelta = SIGN_IN_TOKEN_LIFETIME
) -> str:
    """Add (caller commits) a one-time sign-in token for ``api_key_id``; returns the token."""
    now = utcnow()
    token = new_secret()
    session.add(
        SignInToken(
            id=uuid.uuid4(),
            api_key_id=api_key_id,
            token_hash=hash_secret(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


class SignInLinkInvalid(Exception):
    """The link is unknown, used, expired or its key revoked; the message says which."""


def redeem_sign_in_token(session: Session, token: str) -> uuid.UUID:
    """Mark the token used (caller commits) and return its API key's id.

    The conditional UPDATE (``used_at IS NULL``) makes "usable once" hold even when two
    browsers present the same link at the same moment: one update matches, the other none.
    """
    now = utcnow()
    row = session.execute(
        select(SignInToken.id, SignInToken.api_key_id, SignInToken.expires_at, ApiKey.revoked_at)
        .join(ApiKey, ApiKey.id == SignInToken.api_key_id)
        .where(SignInToken.token_hash == hash_secret(token))
    ).one_or_none()
    if row is None:
        raise SignInLinkInvalid("this sign-in link is not valid")
    if row.revoked_at is not None:
        raise SignInLinkInvalid("the API key behind this sign-in link has been revoked")
    if row.expires_at <= now:
        raise SignInLinkInvalid("this sign-in link has expired")
    used = session.execute(
        update(SignInToken)
        .where(SignInToken.id == row.id, SignInToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(used, "rowcount", 0) != 1:
        raise SignInLinkInvalid("this sign-in link has already been used")
    return uuid.UUID(str(row.api_key_id))
