"""Storage settings: the one module that reads the storage part of the environment.

Everything else receives a :class:`StorageSettings` instance, so tests and tools can build one
explicitly instead of patching the environment. :func:`load_settings` turns pydantic's
multi-line ``ValidationError`` into a one-line :class:`StorageMisconfigured` that names the
environment variable to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ade.storage.errors import StorageMisconfigured

MiB = 1024 * 1024

# S3 multipart rules: parts are 5 MiB..5 GiB (the last one may be smaller), at most 10,000 parts.
_S3_MIN_PART_MIB = 5
_S3_MAX_PART_MIB = 5 * 1024


class StorageSettings(BaseSettings):
    """Blob-storage configuration (environment prefix ``ADE_``)."""

    model_config = SettingsConfigDict(env_prefix="ADE_", extra="ignore", frozen=True)

    storage_backend: Literal["local", "s3"] = "local"
    """``local`` (default: no server needed) or ``s3`` (AWS or any S3-compatible store)."""

    data_dir: Path = Path("./data")
    """Root of all local state; relative paths are relative to the current directory."""

    storage_path: Path | None = None
    """Local backend root; defaults to ``<data_dir>/storage``."""

    storage_max_object_bytes: int | None = Field(default=None, gt=0)
    """Store-wide cap on one blob's size; a write's own ``max_bytes`` can only lower it."""

    s3_bucket: str | None = None
    s3_prefix: str = ""
    """Key prefix inside the bucket, so several deployments can share one bucket."""

    s3_endpoint_url: str | None = None
    """For S3-compatible stores (MinIO, Ceph...); unset means AWS."""

    s3_region: str | None = None
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    """``path`` is what most self-hosted S3-compatible stores need."""

    s3_part_size_mib: int = Field(default=5, ge=_S3_MIN_PART_MIB, le=_S3_MAX_PART_MIB)
    """Multipart part size (5 MiB x 10,000 parts: blobs up to ~48 GiB).

    A write holds about (concurrency + 2) part-sized buffers, so the defaults keep a write
    under 30 MiB on top of the ~60 MiB a process with boto3 loaded already uses (measured by
    benchmarks/storage_throughput.py). Raise both for more throughput to AWS if memory allows.
    """

    s3_max_concurrency: int = Field(default=3, ge=1, le=64)
    """Parts uploaded in parallel."""

    s3_max_attempts: int = Field(default=5, ge=1, le=20)
    """Total attempts per request (botocore "standard" retry mode) before giving up."""

    s3_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    s3_read_timeout_seconds: float = Field(default=60.0, gt=0)

    @field_validator("s3_bucket", "s3_endpoint_url", "s3_region", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `ADE_S3_BUCKET=` in a .env or compose file means "not set", not "bucket named ''".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("s3_bucket")
    @classmethod
    def _check_bucket(cls, value: str | None) -> str | None:
        if value is not None and not 3 <= len(value) <= 63:
            raise ValueError("must be 3 to 63 characters (S3 bucket naming rules)")
        if value is not None and ("/" in value or value != value.strip()):
            raise ValueError("must be a bare bucket name (no '/', no spaces)")
        return value

    @field_validator("s3_endpoint_url")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("s3_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        # The prefix is operator input, not user input, but it is still joined to keys: keep it
        # to the same safe alphabet and normalize it to "" or "segment/.../".
        from ade.storage.keys import validate_key

        value = value.strip().strip("/")
        if not value:
            return ""
        validate_key(value)
        return value + "/"

    @model_validator(mode="after")
    def _check_backend(self) -> StorageSettings:
        if self.storage_backend == "s3" and self.s3_bucket is None:
            raise ValueError("ADE_S3_BUCKET is required when ADE_STORAGE_BACKEND=s3")
        return self

    @property
    def local_root(self) -> Path:
        """The local backend's root folder (not created here)."""
        return self.storage_path if self.storage_path is not None else self.data_dir / "storage"

    @property
    def part_size_bytes(self) -> int:
        return self.s3_part_size_mib * MiB


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(loc) for loc in item["loc"])
        where = f"ADE_{field.upper()}: " if field else ""
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}{message}")
    return "; ".join(parts)


def load_settings(**overrides: Any) -> StorageSettings:
    """Read settings from the environment (plus explicit overrides).

    Raises :class:`StorageMisconfigured` with one line naming each bad variable.
    """
    try:
        return StorageSettings(**overrides)
    except ValidationError as error:
        raise StorageMisconfigured(f"invalid storage settings: {_describe(error)}") from None
