"""API settings: the one module that reads the API part of the environment (prefix ``ADE_``).

Database and storage settings are read by ``ade.db.settings`` and ``ade.storage.settings``; this
module only knows what is specific to serving HTTP.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


class ApiSettings(BaseSettings):
    """HTTP service configuration."""

    model_config = SettingsConfigDict(env_prefix="ADE_", extra="ignore", frozen=True)

    api_host: str = "127.0.0.1"
    """Interface to bind; loopback by default so a fresh install is not exposed."""

    api_port: int = Field(default=8000, ge=0, le=65535)

    api_workers: int = Field(default=1, ge=1, le=64)

    api_max_upload_bytes: int = Field(default=1024 * MiB, gt=0)
    """Largest document accepted; bigger uploads are refused with 413 and nothing is stored."""

    log_format: Literal["text", "json"] = "text"
    """``json`` writes one JSON object per log line (for log shippers)."""

    log_level: Literal["debug", "info", "warning", "error"] = "info"


class ApiSettingsError(ValueError):
    """Invalid API settings; the message is one line naming the variables to fix."""


def load_settings(**overrides: Any) -> ApiSettings:
    """Read settings from the environment plus explicit overrides; one-line errors."""
    try:
        return ApiSettings(**overrides)
    except ValidationError as error:
        fields = ", ".join(
            "ADE_" + ".".join(str(loc) for loc in item["loc"]).upper() for item in error.errors()
        )
        raise ApiSettingsError(f"invalid API settings: check {fields}") from None
