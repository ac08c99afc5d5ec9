"""The worker service: N slots claiming and executing runs, a sweeper, wake-ups and shutdown.

Threads, not processes, for slots: the CPU work happens in each slot's engine child process;
a slot thread only waits on I/O (database, storage, its child's pipe). One worker process with
``concurrency`` N therefore runs N extractions in parallel.

Shutdown (SIGTERM/SIGINT, or :meth:`Worker.stop`): slots stop claiming at once; in-flight runs
get ``grace_seconds`` to finish; after that (or on a second signal) they are abandoned: their
engine child is killed and the run released (queued again, claim cleared, attempt not counted).
Every child is gone before :meth:`Worker.run_forever` returns.

``drain=True``: process until no run is queued or running anywhere, then return (batch jobs,
tests). Runs waiting for a retry count as queued, and a run held by a dead worker is swept and
taken over, so a drain finishes everything that can finish.

Database outages: claims and sweeps simply try again later, and in-flight runs ride the outage
out (see :mod:`ade.worker.outage`). Right after an outage every lease in the database looks
expired, though the workers holding them are alive and about to renew; so a worker that saw the
database fail holds its sweep back for one lease period, and only runs whose owner really went
silent are taken over.

Scratch space: the service claims its folder under ``ADE_WORKER_SCRATCH_DIR`` before anything
else, removing what dead workers left there, and removes its own folder on the way out.

Storage garbage: every ``ADE_WORKER_GC_INTERVAL_SECONDS`` a background thread runs the same pass
as ``ade storage gc`` (:mod:`ade.worker.storage_gc`).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from types import FrameType
from typing import Any

from sqlalchemy import URL, Engine

from ade.db.engine import create_engine, resolve_database_url
from ade.storage.base import BlobStore
from ade.worker import queue
from ade.worker.errors import WorkerStartError, is_database_outage, one_line
from ade.worker.identity import new_worker_id
from ade.worker.outage import DatabaseHealth
from ade.worker.runner import RunExecutor
from ade.worker.scratch import ScratchSpace
from ade.worker.settings import WorkerSettings, load_settings
from ade.worker.wakeup import Backoff, Listener, Waker

log = logging.getLogger("ade.worker")

SignalHandler = Callable[[int, FrameType | None], Any] | int | None


class Worker:
    """A worker process's service loop; see the module docstring."""

    def __init__(
        self,
        database_url: str | URL | None = None,
        *,
        settings: WorkerSettings | None = None,
        store: BlobStore | None = None,
        drain: bool = False,
        worker_id: str | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.url = resolve_database_url(database_url)
        self.worker_id = worker_id or new_worker_id()
        self.drain = drain
        self._store = store
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._waker = Waker()
        self.outcomes: dict[str, int] = {}
        self._outcomes_lock = threading.Lock()
        self._slot_crashed = False
        self.health = DatabaseHealth(self.settings.database_outage_seconds)
        self.scratch = ScratchSpace(self.settings.scratch_root, self.worker_id)

    # -- control -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop claiming; in-flight runs get the grace period."""
        self._stop.set()
        self._waker.wake()

    def abandon(self) -> None:
        """Stop now: kill engine children and release in-flight runs."""
        self._abandon.set()
        self.stop()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._stop.is_set():
            log.warning("second %s: releasing in-flight runs now", signal.Signals(signum).name)
            self.abandon()
        else:
            log.info(
                "%s: finishing in-flight runs (up to %ss), claiming no more",
                signal.Signals(signum).name,
                self.settings.grace_seconds,
            )
            self.stop()

    # -- main loop -----------------------------------------------------------------------------

    def run_forever(self) -> int:
        """Serve until stopped (or drained); return the exit code (0, or 1 if a slot crashed)."""
        settings = self.settings
        try:
            self.scratch.open()
        except OSError as error:
            raise WorkerStartError(
                f"cannot use the scratch folder {settings.scratch_root} "
                f"(ADE_WORKER_SCRATCH_DIR): {error.strerror or error}"
            ) from None
        db = create_engine(self.url, sqlite_begin="BEGIN IMMEDIATE")
        store = self._store
        if store is None:
            from ade.storage.factory import open_store

            store = open_store()
        previous: dict[int, SignalHandler] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        listener: Listener | None = None
        if settings.listen and db.dialect.name == "postgresql":
            listener = Listener(self.url, self._waker, self._stop)
            listener.start()
        log.info(
            "worker %s started: concurrency %d%s",
            self.worker_id,
            settings.concurrency,
            ", drain mode" if self.drain else "",
        )
        slots = [
            threading.Thread(target=self._slot, args=(db, store), name=f"ade-slot-{n}")
            for n in range(settings.concurrency)
        ]
        for slot in slots:
            slot.start()
        collector: threading.Thread | None = None
        if settings.gc_interval_seconds > 0:
            collector = threading.Thread(
                target=self._collect_garbage, args=(db, store), name="ade-gc", daemon=True
            )
            collector.start()
        try:
            next_sweep = 0.0
            while not self._stop.is_set() and any(slot.is_alive() for slot in slots):
                if time.monotonic() >= next_sweep:
                    self._sweep(db)
                    next_sweep = time.monotonic() + settings.sweep_seconds
                self._stop.wait(min(0.5, settings.sweep_seconds))
        finally:
            self.stop()
            deadline = time.monotonic() + settings.grace_seconds
            for slot in slots:
                slot.join(max(0.0, deadline - time.monotonic()))
            if any(slot.is_alive() for slot in slots):
                log.warning("grace period over: releasing in-flight runs")
                self._abandon.set()
            for slot in slots:
                slot.join()
            if listener is not None:
                listener.join(2.0)
            if collector is not None:
                collector.join(5.0)
            for number, handler in previous.items():
                signal.signal(number, handler)
            db.dispose()
            self.scratch.close()
        log.info("worker %s stopped: %s", self.worker_id, self.outcomes or "no runs")
        return 1 if self._slot_crashed else 0

    def _sweep(self, db: Engine) -> None:
        if self.health.recently_failed(self.settings.lease_seconds):
            return  # owners of runs still need their chance to renew after the outage
        try:
            result = queue.sweep_expired(db)
        except Exception as error:
            self._database_error(error, "lease sweep")
            return
        self.health.succeeded()
        if result.requeued or result.failed:
            log.info(
                "expired leases: %d run(s) requeued, %d failed", result.requeued, result.failed
            )
            self._waker.wake()

    def _collect_garbage(self, db: Engine, store: BlobStore) -> None:
        from ade.worker.storage_gc import periodic_pass

        older_than = timedelta(seconds=self.settings.gc_older_than_seconds)
        while not self._stop.wait(self.settings.gc_interval_seconds):
            try:
                report = periodic_pass(db, store, older_than, self._stop)
            except Exception as error:
                log.warning("storage garbage collection failed: %s", one_line(str(error)))
                continue
            if report is not None and report.removed:
                log.info(
                    "storage garbage collection: removed %d orphan blob(s) and %d leftover(s) "
                    "of interrupted writes (%d bytes)",
                    len(report.orphans),
                    len(report.leftovers),
                    report.garbage_bytes,
                )

    def _slot(self, db: Engine, store: BlobStore) -> None:
        try:
            self._serve(db, store)
        except Exception:
            # E.g. the engine child cannot start: stop the service and exit non-zero rather
            # than idle with a dead slot.
            log.exception("worker slot crashed; stopping")
            self._slot_crashed = True
            self.stop()

    def _serve(self, db: Engine, store: BlobStore) -> None:
        settings = self.settings
        executor = RunExecutor(
            db, store, settings, self.worker_id, self._abandon, self.health, self.scratch
        )
        backoff = Backoff(settings.poll_seconds, settings.poll_max_seconds)
        try:
            # Start the engine child before claiming: a claimed run should not wait for it.
            executor.engine.start()
            while not self._stop.is_set():
                try:
                    run = queue.claim(db, self.worker_id, settings.lease_seconds)
                except Exception as error:
                    self._database_error(error, "claim")
                    self._waker.wait(backoff.next())
                    continue
                self.health.succeeded()
                if run is not None:
                    backoff.reset()
                    outcome = executor.execute(run)
                    with self._outcomes_lock:
                        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
                    continue
                if self.drain and self._queue_empty(db):
                    self.stop()
                    break
                self._waker.wait(backoff.next())
        finally:
            executor.close()

    def _queue_empty(self, db: Engine) -> bool:
        try:
            return queue.pending_count(db) == 0
        except Exception as error:
            self._database_error(error, "count pending runs")
            return False

    def _database_error(self, error: Exception, what: str) -> None:
        if is_database_outage(error):
            self.health.failed(error, what)
        else:
            log.warning("%s failed: %s", what, one_line(str(error)))


def run_worker_process(
    database_url: str,
    worker_overrides: dict[str, Any] | None = None,
    storage_overrides: dict[str, Any] | None = None,
    drain: bool = False,
    log_level: int = logging.INFO,
) -> None:
    """Entry point for worker processes started with multiprocessing (tests, benchmark).

    Exits the process with the service's exit code.
    """
    import sys

    from ade.storage.factory import open_store
    from ade.storage.settings import load_settings as load_storage_settings

    logging.basicConfig(level=log_level, format="%(asctime)s %(name)s %(message)s")
    worker = Worker(
        database_url,
        settings=load_settings(**(worker_overrides or {})),
        store=open_store(load_storage_settings(**(storage_overrides or {}))),
        drain=drain,
    )
    sys.exit(worker.run_forever())
