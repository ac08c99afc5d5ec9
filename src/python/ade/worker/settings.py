"""Worker settings: the one module that reads the ``ADE_WORKER_*`` part of the environment.

Everything else receives a :class:`WorkerSettings` instance, so tests and the benchmark build one
explicitly (short leases, tiny backoff) instead of patching the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ENGINE = "ade.worker.engine.pipeline:extract"


class WorkerSettingsError(ValueError):
    """Invalid ``ADE_WORKER_*`` settings; the message is one line naming the variables."""


class WorkerSettings(BaseSettings):
    """Queue and service knobs (environment prefix ``ADE_WORKER_``)."""

    model_config = SettingsConfigDict(env_prefix="ADE_WORKER_", extra="ignore", frozen=True)

    concurrency: int = Field(default=1, ge=1, le=64)
    """Runs processed at once by one worker process (one slot thread + engine child each)."""

    lease_seconds: float = Field(default=30.0, gt=0)
    """How long a claim stays valid without a heartbeat; a dead worker's runs wait this long."""

    heartbeat_seconds: float = Field(default=2.0, gt=0)
    """Lease renewal period; also how quickly a cancel request is noticed."""

    poll_seconds: float = Field(default=0.05, gt=0)
    """First idle wait after finding the queue empty (doubles up to ``poll_max_seconds``)."""

    poll_max_seconds: float = Field(default=2.0, gt=0)
    """Longest idle wait; with PostgreSQL LISTEN/NOTIFY a new run wakes the worker earlier."""

    sweep_seconds: float = Field(default=5.0, gt=0)
    """How often this worker requeues or fails runs whose lease expired (any worker may)."""

    retry_base_seconds: float = Field(default=5.0, ge=0)
    """Backoff after the first transient failure; doubles per attempt."""

    retry_max_seconds: float = Field(default=600.0, ge=0)
    """Backoff cap."""

    grace_seconds: float = Field(default=30.0, ge=0)
    """On SIGTERM/SIGINT: time in-flight runs get to finish before they are released."""

    event_flush_seconds: float = Field(default=0.5, gt=0)
    """Longest delay before an engine event becomes visible in the run's log."""

    database_outage_seconds: float = Field(default=300.0, gt=0)
    """How long the worker rides out an unreachable database (restart, failover): its writes
    (outcome, events, heartbeats, sweeps, claims) are retried with backoff and events stay
    buffered meanwhile. A run whose database writes still fail after this long is given up
    unrecorded; its lease lapses and another attempt takes it up."""

    data_dir: Path = Field(
        default=Path("./data"), validation_alias=AliasChoices("ADE_DATA_DIR", "data_dir")
    )
    """``ADE_DATA_DIR``, the root of all local state (shared with ade.db and ade.storage)."""

    scratch_dir: Path | None = None
    """Where runs keep their local files (downloaded document, engine output) while they
    execute: one locked sub-folder per worker process, one folder per run inside it, removed
    after the run and, for workers that died, at the next worker's start. Default
    ``<ADE_DATA_DIR>/worker``. Use a local disk: the locks are ``flock``s."""

    gc_interval_seconds: float = Field(default=3600.0, ge=0)
    """How often the worker removes orphan blobs and stale temporary uploads from storage (the
    same pass as ``ade storage gc``; one worker at a time on PostgreSQL); 0 turns it off."""

    gc_older_than_seconds: float = Field(default=86400.0, gt=0)
    """Only blobs and temporary uploads older than this are collected, so an upload whose
    database row is being written is never touched."""

    listen: bool = True
    """Use PostgreSQL LISTEN ade_runs for prompt wake-ups (ignored on SQLite)."""

    engine: str = DEFAULT_ENGINE
    """``module:function`` run in the engine child; replaceable for tests and experiments."""

    @model_validator(mode="after")
    def _check(self) -> WorkerSettings:
        if self.heartbeat_seconds >= self.lease_seconds:
            raise ValueError(
                "ADE_WORKER_HEARTBEAT_SECONDS must be smaller than ADE_WORKER_LEASE_SECONDS"
            )
        if ":" not in self.engine:
            raise ValueError("ADE_WORKER_ENGINE must look like 'package.module:function'")
        return self

    @property
    def scratch_root(self) -> Path:
        """The scratch folder actually used (absolute, not created here)."""
        root = self.scratch_dir if self.scratch_dir is not None else self.data_dir / "worker"
        return root.absolute()


def load_settings(**overrides: Any) -> WorkerSettings:
    """Read settings from the environment (plus explicit overrides), one-line errors."""
    try:
        return WorkerSettings(**overrides)
    except ValidationError as error:
        parts = []
        for item in error.errors():
            field = ".".join(str(loc) for loc in item["loc"])
            where = f"ADE_WORKER_{field.upper()}: " if field else ""
            parts.append(where + item["msg"].removeprefix("Value error, "))
        raise WorkerSettingsError("invalid worker settings: " + "; ".join(parts)) from None
