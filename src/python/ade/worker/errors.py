"""Failure classification: which failures are worth retrying, and which fail a run at once.

A run's failure is *transient* when the same attempt could succeed later without anybody
changing the input: storage or database unreachable, the engine child killed from outside.
Those are retried with exponential backoff, bounded by the run's ``max_attempts``. A failure is
*deterministic* when running again gives the same answer (unreadable file, no table, invalid
configuration, document gone): it fails the run on the first attempt, so a bad upload never
causes a retry storm.

Storage that is *misconfigured* (missing bucket, refused credentials) is an operator problem,
not a property of the run: it is treated as transient, so runs survive until it is fixed, but
still end (failed) once their attempts are used up.

The *database* is different again: while it is unreachable the worker cannot record anything,
so a database outage never becomes a run's failure at all. The worker retries its writes
(:mod:`ade.worker.outage`) and, if the outage outlasts the bound, gives the attempt up unrecorded;
the lease then lapses and the run is taken up again (:class:`DatabaseGaveUp`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    """What the worker records on a run that did not succeed."""

    code: str
    message: str
    transient: bool


class WorkerError(Exception):
    """Base class of the worker's own exceptions."""


class WorkerStartError(WorkerError):
    """The worker cannot start (e.g. its scratch folder is not writable); one-line message."""


class RunFailed(WorkerError):
    """A failure already classified (e.g. the engine child reported an EngineError)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.code}: {failure.message}")
        self.failure = failure


class EngineCrashed(WorkerError):
    """The engine child process died without reporting a result (killed, out of memory)."""


class RunInterrupted(WorkerError):
    """The run must stop now: ``reason`` is ``cancelled``, ``lost`` (lease), ``shutdown`` or
    ``database_unavailable`` (an outage longer than the worker may wait)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"run interrupted: {reason}")
        self.reason = reason


class DatabaseGaveUp(WorkerError):
    """The database stayed unreachable for longer than ``ADE_WORKER_DATABASE_OUTAGE_SECONDS``
    (or the worker is shutting down): what was being written is given up, unrecorded."""


INFRASTRUCTURE_ENGINE_CODES = frozenset({"file_not_found"})
"""Engine error codes that, inside the worker, can only mean the environment failed: the worker
downloaded the input into its own scratch folder just before, so a missing input file says the
scratch space was removed underneath the run, not that the document is bad."""


def one_line(text: str, limit: int = 2000) -> str:
    """Collapse whitespace (error messages are stored and shown as single lines)."""
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= limit else collapsed[: limit - 3] + "..."


def classify(error: BaseException) -> Failure:
    """Map an exception raised while executing a run to a :class:`Failure`."""
    from ade.storage.errors import (
        BlobNotFound,
        BlobTooLarge,
        InvalidKey,
        StorageError,
        StorageMisconfigured,
        StorageUnavailable,
    )

    message = one_line(str(error)) or type(error).__name__
    if isinstance(error, RunFailed):
        return error.failure
    if is_database_outage(error):
        return Failure("database_unavailable", _db_message(error), transient=True)
    if isinstance(error, EngineCrashed):
        return Failure("engine_crashed", message, transient=True)
    if isinstance(error, BlobNotFound):
        return Failure("document_missing", f"the document's file is gone: {message}", False)
    if isinstance(error, BlobTooLarge | InvalidKey):
        return Failure("storage_rejected", message, transient=False)
    if isinstance(error, StorageUnavailable):
        return Failure("storage_unavailable", message, transient=True)
    if isinstance(error, StorageMisconfigured):
        return Failure("storage_misconfigured", message, transient=True)
    if isinstance(error, StorageError):
        return Failure("storage_error", message, transient=True)
    if isinstance(error, OSError):
        # Local temp space (ENOSPC...) or the network: environment, not input.
        return Failure("io_error", message, transient=True)
    return Failure("internal_error", f"{type(error).__name__}: {message}", transient=False)


def is_database_outage(error: BaseException) -> bool:
    """True for errors that mean "the database cannot be reached right now" (server restarting,
    connection dropped, failover, SQLite locked), as opposed to a bug or a constraint violation:
    the worker retries these instead of failing a run."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from ade.db.errors import DatabaseUnavailable

    if isinstance(error, DatabaseUnavailable | OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def engine_failure(code: str, message: str) -> Failure:
    """The failure the worker records for an :class:`EngineError` reported by the child."""
    if code in INFRASTRUCTURE_ENGINE_CODES:
        return Failure("scratch_missing", f"the run's scratch files vanished: {message}", True)
    return Failure(code, message, transient=False)


def _db_message(error: BaseException) -> str:
    from sqlalchemy.exc import DBAPIError

    original = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return one_line(str(original)) or type(original).__name__


def retry_delay(attempt: int, base: float, cap: float, key: str) -> float:
    """Seconds to wait before attempt ``attempt + 1``: ``base * 2**(attempt-1)``, capped, with a
    deterministic jitter in [50%, 100%] derived from ``key`` (the run id).

    Deterministic jitter spreads runs that failed together (a storage outage) without making
    tests or replays random.
    """
    import hashlib

    exponent = max(0, attempt - 1)
    delay = min(cap, base * (2.0 ** min(exponent, 32)))
    fraction = int.from_bytes(hashlib.sha256(f"{key}:{attempt}".encode()).digest()[:2], "big")
    return delay * (0.5 + 0.5 * fraction / 0xFFFF)
