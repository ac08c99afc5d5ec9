"""The ``Idempotency-Key`` request header on requests that create something (document upload,
run creation), after the IETF draft draft-ietf-httpapi-idempotency-key-header.

A client that sends a key and loses the response (timeout, connection reset, a restarted API)
sends the same request again with the same key and gets the first response back: the same
document and run, not a duplicate. The rules, per workspace:

- First request with a key: processed normally; if it succeeds (2xx), its response is stored
  with the key, in the same transaction as what it created. If it fails, the key is freed and
  may be used again.
- Same key, same request, first one done: the stored response is replayed (same status and
  body, plus ``Idempotent-Replayed: true``).
- Same key, *different* request (another operation, another file, other parameters): 422.
- Same key while the first request is still being processed: 409 with ``Retry-After``. A key
  left "in progress" by an API process that died is taken over by the retry at once when the
  dead process ran on the same host, otherwise once its lease (renewed while the upload
  streams) lapses.
- Keys expire :data:`KEY_TTL` after the first request and are then forgotten.

"Same request" is a fingerprint: the operation and its parameters, and for an upload the
sha256 of the file's bytes and its name. So a retried upload is streamed again and hashed (not
stored) before the stored response is replayed.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ade.api.dependencies import Services
from ade.api.problems import ApiError
from ade.db.column_types import utcnow
from ade.db.models import IdempotencyKey

KEY_TTL = timedelta(hours=24)
"""How long a key is remembered (and its response replayed)."""

LEASE = timedelta(seconds=30)
"""How long an in-progress key stays locked without renewal."""

RENEW_SECONDS = 10.0
"""How often a long upload renews its in-progress lease."""

MAX_KEY_LENGTH = 255

REPLAYED_HEADER = "Idempotent-Replayed"

HEADER_DESCRIPTION = (
    "Makes a retry safe: send a unique value (a UUID) and, if the response is lost, the same "
    "request again with the same key to get the first response back instead of a duplicate. "
    "Same key with a different request: 422; while the first is still in progress: 409. Keys "
    f"are per workspace and expire after {int(KEY_TTL.total_seconds() // 3600)} hours."
)

KEY_PATTERN = (
    r"^(?:[\x21-\x7e]|[\x21\x23-\x7e][\x20-\x7e]*[\x21-\x7e]"
    r'|"[\x20-\x7e]*[\x21\x23-\x7e]|"[\x20-\x7e]+")$'
)
"""Printable ASCII, no blank ends, and not an empty quoted string (``""``): what `parse_key`
accepts, written without look-ahead so both pydantic and JSON Schema read it."""

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=HEADER_DESCRIPTION,
        max_length=MAX_KEY_LENGTH,
        pattern=KEY_PATTERN,
        examples=['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
    ),
]

_PROCESS = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""Who processes a request: host, pid and a per-start nonce (a reused pid is another owner)."""

_active: set[tuple[uuid.UUID, str]] = set()
_active_lock = threading.Lock()
"""Keys a request of this process is processing right now."""


def parse_key(raw: str) -> str:
    """The key from the header: a Structured Field string (``"..."``) or a bare token."""
    value = raw.strip()
    if len(value) > MAX_KEY_LENGTH:
        value = ""  # the header as sent is what is limited (the schema says so)
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not value or not value.isprintable() or not value.isascii():
        raise ApiError(
            400,
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            code="invalid-idempotency-key",
        )
    return value


def fingerprint(operation: str, **request: Any) -> str:
    """sha256 of the operation and what defines its request."""
    canonical = json.dumps({"operation": operation, **request}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _owner_is_gone(owner: str | None) -> bool:
    """True when ``owner`` is a process known to be dead: this process's earlier start, or a
    process of this host that no longer exists (the API was killed and restarted)."""
    if owner is None:
        return True
    host, _, rest = owner.partition(":")
    pid_text, _, _nonce = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner != _PROCESS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class Replay:
    """The stored response of an earlier request with the same key."""

    operation: str
    fingerprint: str | None
    status: int
    body: dict[str, Any]

    def check(self, operation: str, fingerprint: str) -> None:
        """422 unless this request is the one the key was first used for."""
        if operation != self.operation or fingerprint != self.fingerprint:
            raise _reused()

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status, headers={REPLAYED_HEADER: "true"})


@dataclass
class Claim:
    """This request owns the key until it completes (stores its response) or releases it."""

    services: Services
    workspace_id: uuid.UUID
    key: str
    row_id: uuid.UUID

    def renew(self) -> None:
        """Extend the in-progress lease (long uploads); best effort."""
        try:
            with self.services.write_sessions() as session:
                session.execute(
                    update(IdempotencyKey)
                    .where(IdempotencyKey.id == self.row_id, IdempotencyKey.owner == _PROCESS)
                    .values(locked_until=utcnow() + LEASE)
                )
                session.commit()
        except Exception:  # the lease then lapses; complete() still checks
            return

    def complete(
        self, session: Session, fingerprint: str, status: int, body: dict[str, Any]
    ) -> None:
        """Store the response in ``session``'s transaction (with what the request created).

        409 if the key was taken over meanwhile (this request's lease lapsed): the caller's
        transaction is then rolled back and nothing is created twice.
        """
        stored = session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == self.row_id, IdempotencyKey.owner == _PROCESS)
            .values(
                fingerprint=fingerprint,
                response_status=status,
                response_body=body,
                owner=None,
                locked_until=None,
            )
            .returning(IdempotencyKey.id)
        ).first()
        if stored is None:
            raise _in_progress(LEASE)

    def release(self) -> None:
        """Free the key after a failed request, so the client may retry with it; best effort
        (if the database is down, the key is freed when this process has forgotten it)."""
        with _active_lock:
            _active.discard((self.workspace_id, self.key))
        try:
            with self.services.write_sessions() as session:
                session.execute(
                    delete(IdempotencyKey).where(
                        IdempotencyKey.id == self.row_id,
                        IdempotencyKey.owner == _PROCESS,
                        IdempotencyKey.response_status.is_(None),
                    )
                )
                session.commit()
        except Exception:  # see the docstring
            return

    def done(self) -> None:
        with _active_lock:
            _active.discard((self.workspace_id, self.key))


def _reused() -> ApiError:
    return ApiError(
        422,
        "this Idempotency-Key was already used for a different request; "
        "use a new key for a new request",
        code="idempotency-key-reused",
    )


def _in_progress(wait: timedelta) -> ApiError:
    seconds = max(1, int(wait.total_seconds()))
    return ApiError(
        409,
        "a request with this Idempotency-Key is still being processed; retry later",
        code="idempotency-key-in-use",
        headers={"Retry-After": str(seconds)},
    )


def begin(
    services: Services,
    workspace_id: uuid.UUID,
    raw_key: str,
    operation: str,
    request_fingerprint: str | None = None,
) -> Claim | Replay:
    """Claim the key for this request, or return the response to replay. Raises 409 (in
    progress elsewhere), 422 (used for another request) or 400 (malformed key)."""
    key = parse_key(raw_key)
    for _ in range(3):  # a lost race for a new key re-reads it
        try:
            return _begin(services, workspace_id, key, operation, request_fingerprint)
        except IntegrityError:
            continue
    raise _in_progress(LEASE)


def _begin(
    services: Services,
    workspace_id: uuid.UUID,
    key: str,
    operation: str,
    request_fingerprint: str | None,
) -> Claim | Replay:
    now = utcnow()
    with services.write_sessions() as session:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
        row = session.scalars(
            select(IdempotencyKey).where(
                IdempotencyKey.workspace_id == workspace_id, IdempotencyKey.key == key
            )
        ).one_or_none()
        if row is None:
            row = IdempotencyKey(
                id=uuid.uuid4(),
                workspace_id=workspace_id,
                key=key,
                operation=operation,
                fingerprint=request_fingerprint,
                owner=_PROCESS,
                locked_until=now + LEASE,
                created_at=now,
                expires_at=now + KEY_TTL,
            )
            session.add(row)
            session.commit()
            return _claimed(services, workspace_id, key, row.id)
        if row.response_status is not None and row.response_body is not None:
            return Replay(row.operation, row.fingerprint, row.response_status, row.response_body)
        if operation != row.operation or (
            request_fingerprint is not None
            and row.fingerprint is not None
            and request_fingerprint != row.fingerprint
        ):
            raise _reused()
        with _active_lock:
            busy_here = (workspace_id, key) in _active
        locked = row.locked_until is not None and row.locked_until > now
        # A key this process holds but no request of it processes was left by a request that
        # failed while the database was down (its release could not be written).
        left_here = row.owner == _PROCESS and not busy_here
        if busy_here or (locked and not left_here and not _owner_is_gone(row.owner)):
            wait = (row.locked_until - now) if row.locked_until is not None else LEASE
            raise _in_progress(wait)
        # The request that held the key died (or released nothing): take it over, if nobody
        # else just did.
        taken = session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row.id, IdempotencyKey.response_status.is_(None))
            .where(
                IdempotencyKey.owner.is_(None)
                if row.owner is None
                else IdempotencyKey.owner == row.owner
            )
            .values(
                owner=_PROCESS,
                locked_until=now + LEASE,
                fingerprint=request_fingerprint,
                operation=operation,
            )
            .returning(IdempotencyKey.id)
        ).first()
        session.commit()
        if taken is None:
            raise _in_progress(LEASE)
        return _claimed(services, workspace_id, key, row.id)


def _claimed(services: Services, workspace_id: uuid.UUID, key: str, row_id: uuid.UUID) -> Claim:
    with _active_lock:
        _active.add((workspace_id, key))
    return Claim(services, workspace_id, key, row_id)
