"""Workspace and API key management (used by the ``ade workspace`` / ``ade apikey`` commands).

Plain functions over a SQLAlchemy session: the caller owns the transaction (they commit).
Errors are :class:`AdminError` with one line a person can act on.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ade.api.keys import generate_key
from ade.db.column_types import utcnow
from ade.db.configuration_spec import default_configuration
from ade.db.models import ApiKey, Configuration, ConfigurationStatus, Workspace

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
MAX_NAME = 200


class AdminError(ValueError):
    """Bad input or a conflict (duplicate slug, unknown key); one-line message."""


@dataclass(frozen=True)
class CreatedKey:
    id: uuid.UUID
    prefix: str
    workspace_slug: str
    secret: str
    """The whole key: print it once; only its hash is stored."""


def slugify(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:63].strip("-")
    return slug


def create_workspace(session: Session, name: str, slug: str | None = None) -> Workspace:
    """A new workspace whose default configuration (``ade.db``'s) is already active."""
    name = " ".join(name.split())
    if not name:
        raise AdminError("workspace name is empty")
    if len(name) > MAX_NAME:
        raise AdminError(f"workspace name is longer than {MAX_NAME} characters")
    slug = slug.strip() if slug is not None else slugify(name)
    if not SLUG.match(slug):
        raise AdminError(
            f"invalid slug {slug!r}: use 1-63 lowercase letters, digits and '-' (not at the ends)"
        )
    try:
        uuid.UUID(slug)
    except ValueError:
        pass
    else:
        raise AdminError("a slug cannot look like a UUID (paths accept ids too)")
    if session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        raise AdminError(f"a workspace with slug {slug!r} already exists")
    now = utcnow()
    workspace = Workspace(id=uuid.uuid4(), slug=slug, name=name, created_at=now, updated_at=now)
    session.add(workspace)
    session.flush()  # no ORM relationships: parents are flushed before their children
    spec = default_configuration()
    session.add(
        Configuration(
            id=uuid.uuid4(),
            workspace_id=workspace.id,
            name=spec.name,
            status=ConfigurationStatus.ACTIVE,
            spec=spec.model_dump(mode="json"),
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return workspace


def list_workspaces(session: Session) -> list[Workspace]:
    return list(session.scalars(select(Workspace).order_by(Workspace.created_at, Workspace.slug)))


def find_workspace(session: Session, slug_or_id: str) -> Workspace:
    condition = Workspace.slug == slug_or_id
    with contextlib.suppress(ValueError):
        condition = or_(condition, Workspace.id == uuid.UUID(slug_or_id))
    workspace = session.scalars(select(Workspace).where(condition)).first()
    if workspace is None:
        raise AdminError(f"no workspace {slug_or_id!r} (see `ade workspace list`)")
    return workspace


def create_api_key(session: Session, workspace: Workspace, name: str = "default") -> CreatedKey:
    new = generate_key()
    key = ApiKey(
        id=uuid.uuid4(),
        workspace_id=workspace.id,
        name=name[:MAX_NAME] or "default",
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    return CreatedKey(
        id=key.id, prefix=new.prefix, workspace_slug=workspace.slug, secret=new.secret
    )


def revoke_api_key(session: Session, prefix_or_id: str) -> ApiKey:
    """Revoke by prefix (the 12 hex characters after ``ade_``), whole key, or id. Idempotent."""
    text = prefix_or_id.strip()
    if text.startswith("ade_"):
        text = text[4:16]
    condition = ApiKey.prefix == text
    with contextlib.suppress(ValueError):
        condition = or_(condition, ApiKey.id == uuid.UUID(text))
    key = session.scalars(select(ApiKey).where(condition)).first()
    if key is None:
        raise AdminError(f"no API key with prefix or id {prefix_or_id.strip()[:40]!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    session.flush()
    return key
