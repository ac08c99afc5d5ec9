"""Execute one claimed run: document in, engine in a child, outputs and log out, state recorded.

The parts, one job each: :mod:`~ade.worker.lease` keeps the claim alive, :mod:`~ade.worker.scratch`
gives the run a folder that is always removed, :mod:`~ade.worker.artifacts` moves files in and
out of storage, :mod:`~ade.worker.child` runs the engine, :mod:`~ade.worker.run_log` buffers the
events and :mod:`~ade.worker.outcome` records the ending. This module puts them in order.

The order of the final steps is what makes a succeeded run trustworthy: every event is written
and the lease renewed (retried through a database outage), outputs are uploaded, the NDJSON log
blob is written, and only then is the run marked succeeded (a guarded UPDATE that also stores
the output key, size, sha256 and the summary). A crash anywhere before that leaves the run
``running`` until its lease expires, and the next attempt simply overwrites the same keys.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ade.storage.base import BlobStore
from ade.worker import artifacts, queue
from ade.worker.child import EngineJob, EngineProcess
from ade.worker.errors import DatabaseGaveUp, Failure, RunFailed, RunInterrupted, classify, one_line
from ade.worker.lease import Lease
from ade.worker.outage import DatabaseHealth
from ade.worker.outcome import OutcomeRecorder
from ade.worker.run_log import EventBuffer, write_log
from ade.worker.scratch import ScratchSpace
from ade.worker.settings import WorkerSettings

log = logging.getLogger("ade.worker.runner")


class RunExecutor:
    """Runs claimed runs one after another for one worker slot (owns its engine child)."""

    def __init__(
        self,
        db: Engine,
        store: BlobStore,
        settings: WorkerSettings,
        worker_id: str,
        abandon: threading.Event,
        health: DatabaseHealth,
        scratch: ScratchSpace,
    ) -> None:
        self._db = db
        self._store = store
        self._settings = settings
        self._worker_id = worker_id
        self._abandon = abandon
        self._health = health
        self._scratch = scratch
        self._recorder = OutcomeRecorder(db, settings, worker_id, health, abandon)
        self.engine = EngineProcess(settings.engine, settings.engine_limits)

    def close(self) -> None:
        self.engine.close()

    def execute(self, run: queue.ClaimedRun) -> str:
        """Process ``run``; return the outcome: succeeded, failed, retry, released, cancelled,
        lost (another worker owns it now), abandoned (the database stayed out of reach) or
        unrecorded (the final write could not be made)."""
        settings = self._settings
        lease = Lease(
            self._db,
            run.id,
            self._worker_id,
            lease_seconds=settings.lease_seconds,
            interval=settings.heartbeat_seconds,
            health=self._health,
        )
        with lease, self._scratch.run_folder(run.id, run.attempt) as folder:
            events = EventBuffer(self._db, run.id, self._worker_id, lease, settings, self._health)

            def interrupted() -> str | None:
                if lease.interrupted is not None:
                    return lease.interrupted
                return "shutdown" if self._abandon.is_set() else None

            try:
                return self._attempt(run, folder, events, interrupted)
            except RunInterrupted as stop:
                return self._recorder.interrupted(run, stop.reason, events)
            except DatabaseGaveUp as error:
                log.warning("run %s given up: %s", run.id, error)
                return "abandoned"
            except Exception as error:
                failure = classify(error)
                if failure.code == "internal_error":
                    log.exception("run %s failed unexpectedly", run.id)
                return self._recorder.failed(run, failure, events)

    def _attempt(
        self,
        run: queue.ClaimedRun,
        folder: Path,
        events: EventBuffer,
        interrupted: Callable[[], str | None],
    ) -> str:
        started = time.perf_counter()
        if run.document_deleted:
            raise RunFailed(Failure("document_missing", "the document was deleted", False))
        _check_configuration(run.spec)
        source = artifacts.download(self._store, run, folder / "input")
        artifacts.check(interrupted)
        downloaded = time.perf_counter()
        job = EngineJob(f"{run.id}/{run.attempt}", str(source), run.spec, str(folder / "output"))
        result = self.engine.run(job, events.engine_event, interrupted, events.flush_if_due)
        artifacts.check(interrupted)
        engine_done = time.perf_counter()
        # Publish outputs only while the database confirms the run is still ours.
        events.confirm(self._abandon)
        uploaded_artifacts, output = artifacts.upload(
            self._store, run, folder / "output", interrupted
        )
        uploaded = time.perf_counter()
        events.worker_event(
            "worker.finished",
            worker=self._worker_id,
            attempt=run.attempt,
            download_ms=round((downloaded - started) * 1000, 3),
            engine_ms=round(result.engine_seconds * 1000, 3),
            engine_wait_ms=round((engine_done - downloaded) * 1000, 3),
            upload_ms=round((uploaded - engine_done) * 1000, 3),
        )
        artifacts.check(interrupted)
        # The log blob holds every event, including those still pending: they are written in
        # the same transaction that marks the run succeeded (one commit fewer per run).
        pending = events.take_stamped()
        log_blob = write_log(self._db, self._store, self._health, run, pending, self._abandon)
        uploaded_artifacts["log"] = artifacts.blob_info(log_blob)
        summary = {**result.summary, "artifacts": uploaded_artifacts}
        return self._recorder.succeeded(run, output, summary, pending)


def _check_configuration(spec: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from ade.db.configuration_spec import ConfigurationSpec

    try:
        ConfigurationSpec.model_validate(spec)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise RunFailed(
            Failure("invalid_configuration", one_line(f"{where}: {message}"), transient=False)
        ) from None
