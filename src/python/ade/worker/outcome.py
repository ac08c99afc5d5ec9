"""Recording how an attempt ended: succeeded, failed, retry later, or released (shutdown).

Every ending is one guarded write (:func:`ade.worker.queue.transition`) carrying the events
still buffered, retried through a database outage until it goes through or the outage outlasts
``ADE_WORKER_DATABASE_OUTAGE_SECONDS``. Once the database answers, the guard decides: if the run
is still ours the ending is stored; if it was cancelled or taken over meanwhile, the ending is
dropped and the run's new owner starts clean. If the database never answers, the ending is given
up ("unrecorded"): the lease lapses and another attempt takes the run up. A database outage is
never itself recorded as the run's failure.

Writes are always sent with ``retrying=True``: an earlier flush of the same events may have
committed without its reply arriving, and the queue then neither stores them twice nor
mistakes its own commit for a lost run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from ade.storage.base import BlobInfo
from ade.worker import queue
from ade.worker.errors import DatabaseGaveUp, Failure, retry_delay
from ade.worker.outage import DatabaseHealth, retry_database
from ade.worker.run_log import EventBuffer
from ade.worker.settings import WorkerSettings

log = logging.getLogger("ade.worker.outcome")


class OutcomeRecorder:
    """Writes attempts' endings for one worker; returns the outcome names the service counts:
    succeeded, failed, retry, released, cancelled, lost, abandoned or unrecorded."""

    def __init__(
        self,
        db: Engine,
        settings: WorkerSettings,
        worker_id: str,
        health: DatabaseHealth,
        abandon: threading.Event,
    ) -> None:
        self._db = db
        self._settings = settings
        self._worker_id = worker_id
        self._health = health
        self._abandon = abandon

    def _write(
        self, run: queue.ClaimedRun, what: str, call: Callable[[], queue.HeartbeatResult]
    ) -> queue.HeartbeatResult | None:
        try:
            return retry_database(call, self._health, f"record run {run.id} {what}", self._abandon)
        except DatabaseGaveUp as error:
            log.warning("run %s: %s; its lease will lapse and it will run again", run.id, error)
            return None

    def succeeded(
        self,
        run: queue.ClaimedRun,
        output: BlobInfo,
        summary: dict[str, Any],
        events: list[queue.Event],
    ) -> str:
        result = self._write(
            run,
            "succeeded",
            lambda: queue.succeed(
                self._db,
                run.id,
                self._worker_id,
                output_key=output.key,
                output_size=output.size,
                output_sha256=output.sha256,
                summary=summary,
                events=events,
                retrying=True,
            ),
        )
        if result is None:
            return "unrecorded"
        if result != "ok":
            log.info("run %s finished but is no longer ours (%s): result dropped", run.id, result)
            return result
        return "succeeded"

    def failed(self, run: queue.ClaimedRun, failure: Failure, events: EventBuffer) -> str:
        """Retry later (transient, attempts left) or fail for good."""
        settings = self._settings
        if failure.transient and run.attempt < run.max_attempts:
            delay = retry_delay(
                run.attempt, settings.retry_base_seconds, settings.retry_max_seconds, str(run.id)
            )
            events.worker_event(
                "worker.retry_scheduled",
                code=failure.code,
                message=failure.message,
                attempt=run.attempt,
                delay_seconds=round(delay, 3),
            )
            pending = events.take()
            outcome = "retry"
            result = self._write(
                run,
                "for a retry",
                lambda: queue.retry_later(
                    self._db,
                    run.id,
                    self._worker_id,
                    failure.code,
                    failure.message,
                    delay,
                    pending,
                    retrying=True,
                ),
            )
        else:
            events.worker_event(
                "worker.failed",
                code=failure.code,
                message=failure.message,
                attempt=run.attempt,
                transient=failure.transient,
            )
            pending = events.take()
            outcome = "failed"
            result = self._write(
                run,
                "failed",
                lambda: queue.fail(
                    self._db,
                    run.id,
                    self._worker_id,
                    failure.code,
                    failure.message,
                    pending,
                    retrying=True,
                ),
            )
        if result is None:
            return "unrecorded"
        if result != "ok":
            return result
        log.info("run %s %s: %s %s", run.id, outcome, failure.code, failure.message)
        return outcome

    def interrupted(self, run: queue.ClaimedRun, reason: str, events: EventBuffer) -> str:
        """The attempt stopped early: release the run on shutdown; otherwise it is not ours
        (cancelled, lost) or the database is out of reach, and there is nothing to write."""
        if reason == "database_unavailable":
            log.warning("run %s given up: the database stayed unavailable", run.id)
            return "abandoned"
        if reason != "shutdown":
            log.info("run %s stopped: %s", run.id, reason)
            return reason
        events.worker_event("worker.released", worker=self._worker_id, attempt=run.attempt)
        pending = events.take()
        result = self._write(
            run,
            "released",
            lambda: queue.release(self._db, run.id, self._worker_id, pending, retrying=True),
        )
        if result is None:
            return "unrecorded"
        return "released" if result == "ok" else result
