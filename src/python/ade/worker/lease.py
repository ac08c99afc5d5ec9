"""The heartbeat: a thread per in-flight run that keeps its lease alive and watches for cancel.

It runs beside every phase of a run (download, engine, upload), not only while the engine child
works, so a large upload never lets the lease lapse. When the heartbeat finds the run is no
longer ours (``cancelled`` by the API, or ``lost`` because the lease expired and another worker
took over) it records why; the executor polls :attr:`Lease.interrupted` and stops the run.

A database outage during a heartbeat is retried at the next beat: a restart must not kill a
healthy run. If the lease lapsed meanwhile, nothing is lost as long as nobody took the run over:
the next beat that gets through renews it (the guarded UPDATE checks ownership, not the clock),
and sweepers hold back right after an outage to give owners that chance
(:meth:`ade.worker.outage.DatabaseHealth.recently_failed`). If someone did take it over, that
beat says ``lost`` and the run stops. An outage longer than
``ADE_WORKER_DATABASE_OUTAGE_SECONDS`` stops the run with ``database_unavailable``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from sqlalchemy import Engine

from ade.worker import queue
from ade.worker.errors import is_database_outage, one_line
from ade.worker.outage import DatabaseHealth

log = logging.getLogger("ade.worker.lease")


class Lease:
    """Renews one run's claim every ``interval`` seconds until stopped."""

    def __init__(
        self,
        engine: Engine,
        run_id: uuid.UUID,
        worker_id: str,
        *,
        lease_seconds: float,
        interval: float,
        health: DatabaseHealth,
    ) -> None:
        self._engine = engine
        self._health = health
        self._run_id = run_id
        self._worker_id = worker_id
        self._lease_seconds = lease_seconds
        self._interval = interval
        self._stop = threading.Event()
        self._reason: str | None = None
        self._renewed = time.monotonic()  # the claim was just made
        self._thread = threading.Thread(
            target=self._beat, name=f"ade-heartbeat-{run_id}", daemon=True
        )

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def interrupted(self) -> str | None:
        """``cancelled`` or ``lost`` once the heartbeat saw the run is no longer ours, or
        ``database_unavailable`` once it could not reach the database for too long."""
        return self._reason

    def renewed(self) -> None:
        """A guarded write just went through: the run is ours for another lease period."""
        self._renewed = time.monotonic()

    @property
    def surely_ours(self) -> bool:
        """True while the last renewal is less than half a lease old: no sweeper can have
        taken the run since (it only takes expired leases), so no write is needed to know."""
        return self._reason is None and time.monotonic() - self._renewed < self._lease_seconds / 2

    def mark(self, reason: str) -> None:
        """Record that a guarded write found the run not ours (same meaning as a heartbeat)."""
        if self._reason is None:
            self._reason = reason

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                result = queue.heartbeat(
                    self._engine, self._run_id, self._worker_id, self._lease_seconds
                )
            except Exception as error:  # keep beating: the outage may be brief
                if is_database_outage(error):
                    self._health.failed(error, f"heartbeat of run {self._run_id}")
                    if self._health.exceeded():
                        self.mark("database_unavailable")
                        return
                else:
                    log.error("heartbeat for run %s failed: %s", self._run_id, one_line(str(error)))
                continue
            self._health.succeeded()
            if result == "ok":
                self.renewed()
            elif not self._stop.is_set():
                log.info("run %s is no longer ours: %s", self._run_id, result)
                self.mark(result)
                return
