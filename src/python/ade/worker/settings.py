"""Worker settings: the one module that reads the ``ADE_WORKER_*`` part of the environment.

Everything else receives a :class:`WorkerSettings` instance, so tests and the benchmark build one
explicitly (short leases, tiny backoff) instead of patching the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ade.worker.engine.zip_limits import MiB, ZipLimits

DEFAULT_ENGINE = "ade.worker.engine.pipeline:extract"


@dataclass(frozen=True)
class EngineLimits:
    """Limits of one engine child, so that one file cannot take the worker's host down:
    ``memory_bytes`` (0: none) and ``timeout_seconds`` per run (0: none), and the ZIP limits
    of :mod:`ade.worker.engine.zip_limits`. Picklable: it is handed to the spawned child."""

    memory_bytes: int = 0
    timeout_seconds: float = 0.0
    zip: ZipLimits = field(default_factory=ZipLimits)


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

    engine_memory_mib: int = Field(default=448, ge=0)
    """Memory ceiling of each engine child (and of its workbook writer), as the data segment
    the kernel lets it map (``RLIMIT_DATA``: heap and private mappings, what it can fill; the
    ~40 MiB of library code it maps come on top, so the default keeps an engine under 512 MiB
    resident). A run that needs more fails with ``too_large`` and the child is replaced; the
    worker and its other runs go on. Inputs within the ZIP limits below stay well under it
    (the heaviest measured, 20,000 columns, peaks at ~315 MiB), so this is the backstop for
    what those limits do not foresee. 0: no ceiling."""

    engine_timeout_seconds: float = Field(default=1800.0, ge=0)
    """Wall-clock limit of one run's extraction: past it the engine child is killed and the run
    fails with ``too_large``. ~30 minutes is several times what the largest accepted upload
    takes (1 GiB of CSV runs in a few minutes). 0: no limit."""

    zip_max_ratio: float = Field(default=100.0, gt=1)
    """A workbook part (XLSX/XLSB/ODS are ZIP archives) larger than 1 MiB unzipped may unzip to
    at most this many times its zipped size; real workbooks compress 5-20x, bombs ~1,000x."""

    zip_max_part_mib: int = Field(default=4096, gt=0)
    """Largest unzipped XLSX worksheet (streamed row by row: costs time, not memory)."""

    zip_max_whole_part_mib: int = Field(default=160, gt=0)
    """Largest unzipped part that is read whole into memory (shared strings, XLSB sheets, ODS
    content): what keeps such a run's memory bounded."""

    zip_max_sheet_text_mib: int = Field(default=256, gt=0)
    """Most cell text an XLSX sheet read whole may expand to through its shared strings (each
    cell holds a copy of the string it points to: a long string behind many cells is a bomb
    that no ZIP ratio shows)."""

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
    def engine_limits(self) -> EngineLimits:
        """What the engine child is held to (see :mod:`ade.worker.child`)."""
        return EngineLimits(
            memory_bytes=self.engine_memory_mib * MiB,
            timeout_seconds=self.engine_timeout_seconds,
            zip=ZipLimits(
                max_ratio=self.zip_max_ratio,
                max_part_bytes=self.zip_max_part_mib * MiB,
                max_whole_part_bytes=self.zip_max_whole_part_mib * MiB,
                max_sheet_text_bytes=self.zip_max_sheet_text_mib * MiB,
            ),
        )

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
