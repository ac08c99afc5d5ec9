"""Database settings: the one module that reads the database part of the environment.

``ADE_DATABASE_URL`` selects the database. When it is unset the default is an embedded SQLite
file under the data directory (``ADE_DATA_DIR``, default ``./data``), ``<data>/db/ade.sqlite``,
so a fresh clone needs no server. The file and its folder are created on demand by
:func:`ade.db.engine.create_engine`, not here: reading settings never touches the disk.

This module imports pydantic, which costs a noticeable share of a CLI start-up, so callers that
already hold an explicit URL (``--database-url``) use :func:`resolve_database_url`, which only
imports this module when it has to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ade.db.errors import InvalidDatabaseUrl


class DatabaseSettings(BaseSettings):
    """Database configuration (environment prefix ``ADE_``)."""

    model_config = SettingsConfigDict(env_prefix="ADE_", extra="ignore", frozen=True)

    database_url: str | None = None
    """SQLAlchemy URL; ``postgresql+psycopg://user:pass@host/db`` in production."""

    data_dir: Path = Path("./data")
    """Root of all local state; relative paths are relative to the current directory."""

    @field_validator("database_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `ADE_DATABASE_URL=` in a .env or compose file means "use the default".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def default_sqlite_path(self) -> Path:
        """Where the embedded SQLite database lives when no URL is configured."""
        return self.data_dir / "db" / "ade.sqlite"

    @property
    def url(self) -> str:
        """The configured URL, or the default SQLite file URL (absolute path)."""
        if self.database_url is not None:
            return self.database_url.strip()
        return f"sqlite:///{self.default_sqlite_path.absolute()}"


def load_settings(**overrides: Any) -> DatabaseSettings:
    """Read settings from the environment (plus explicit overrides), one-line errors."""
    try:
        return DatabaseSettings(**overrides)
    except ValidationError as error:
        fields = ", ".join(
            "ADE_" + ".".join(str(loc) for loc in item["loc"]).upper() for item in error.errors()
        )
        raise InvalidDatabaseUrl(f"invalid database settings: check {fields}") from None
