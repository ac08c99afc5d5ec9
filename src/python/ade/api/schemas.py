"""Response and request bodies (pydantic), i.e. the API's public JSON shapes.

Responses are built from table rows with ``from_attributes``; internal columns (blob keys,
claim bookkeeping, key hashes) are deliberately absent.

Request bodies are strict: JSON types exactly as the schema states them (``true`` is a boolean,
``"true"`` and ``1`` are not), so whatever the schema allows is accepted and nothing else is
guessed at.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ade.db.configuration_spec import ConfigurationSpec

T = TypeVar("T")

JsonUuid = Annotated[uuid.UUID, Field(strict=False)]
"""A UUID in a strict request body: JSON has no UUID type, so it arrives as a string."""

STORABLE_TEXT = "^[^\\x00\\ud800-\\udfff]*$"
"""Text every database can store: no NUL (PostgreSQL's text and JSONB refuse it) and no
unpaired surrogate (not Unicode text: it has no UTF-8 form). Every string in a request body must
match, keys included, whatever the backend; ``ade.api.openapi`` states it on each of them."""
_UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")
NO_NUL = "^[^\\x00]*$"
"""STORABLE_TEXT for text that arrives percent-encoded (query strings): decoded from UTF-8, it
cannot hold a surrogate, and pydantic's regex engine refuses to name them."""


def unstorable_text(value: Any, where: str = "body") -> str | None:
    """Where the first string (or object key) that does not match STORABLE_TEXT is, or None."""
    if isinstance(value, str):
        return where if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_text(key, where) or unstorable_text(item, f"{where}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_text(item, f"{where}[{index}]")
            if found:
                return found
    return None


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WorkspaceOut(Out):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime


class DocumentOut(Out):
    id: uuid.UUID
    workspace_id: uuid.UUID
    filename: str = Field(validation_alias="original_filename")
    content_type: str
    byte_size: int
    sha256: str
    created_at: datetime


class ConfigurationOut(Out):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    status: Literal["draft", "active", "archived"]
    spec: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class RunOut(Out):
    id: uuid.UUID
    workspace_id: uuid.UUID
    document_id: uuid.UUID
    configuration_id: uuid.UUID
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    attempt_count: int
    max_attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error_code: str | None
    error_message: str | None
    output_byte_size: int | None
    output_sha256: str | None
    summary: dict[str, Any] | None


class UploadOut(BaseModel):
    document: DocumentOut
    run: RunOut | None = None


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page."
    )


class ConfigurationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200)
    spec: ConfigurationSpec = Field(
        description="Also refused (422), as JSON Schema cannot state rules across fields: two "
        "fields with one name; a name, label or alias that normalizes (case, accents and "
        "punctuation ignored) like another field's; derive_names naming a field that does not "
        "exist, or a full_name field whose type is not full_name; header_overrides naming a "
        "field that does not exist, or two headers that normalize alike."
    )
    activate: bool = Field(default=False, description="Make it the workspace's active one.")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        where = unstorable_text(data)
        if where is not None:
            raise ValueError(f"{where}: text may not contain NUL or unpaired surrogates")
        return data


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    document_id: JsonUuid
    configuration_id: JsonUuid | None = Field(
        default=None, description="Default: the workspace's active configuration."
    )


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: str
    storage: str
