"""A run's log while it executes: events buffered in memory, written in batches, never lost to
a database outage; and the NDJSON log blob written when the run succeeds.

While the engine works, a failed batch write (the database restarting) keeps the events in the
buffer and is tried again later with backoff; the engine is not disturbed. Before the run's
outputs are published, :meth:`EventBuffer.confirm` insists: it writes everything pending and
renews the lease, retrying through the outage, so outputs only go out while the database says
the run is still this worker's.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
from typing import Any

from sqlalchemy import Engine

from ade.storage import keys
from ade.storage.base import BlobInfo, BlobStore
from ade.worker import queue
from ade.worker.errors import RunInterrupted, is_database_outage
from ade.worker.lease import Lease
from ade.worker.outage import MAX_RETRY_SECONDS, DatabaseHealth, retry_database
from ade.worker.settings import WorkerSettings


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class EventBuffer:
    """Collects log events and writes them in batches, at most ``flush_seconds`` late while the
    database is up, all of them once it is back."""

    def __init__(
        self,
        db: Engine,
        run_id: Any,
        worker_id: str,
        lease: Lease,
        settings: WorkerSettings,
        health: DatabaseHealth,
    ) -> None:
        self._db = db
        self._run_id = run_id
        self._worker_id = worker_id
        self._lease = lease
        self._settings = settings
        self._health = health
        self._pending: list[queue.Event] = []
        self._last_flush = time.monotonic()
        self._retry_at = 0.0
        self._retry_delay = settings.event_flush_seconds
        self._uncertain = False
        """A write failed part-way: its events may be stored already (see queue.transition)."""

    def engine_event(self, event: dict[str, Any]) -> None:
        name = str(event.get("event", "engine"))
        payload = {k: v for k, v in event.items() if k not in ("seq", "event")}
        self._pending.append(queue.Event(name, payload))

    def worker_event(self, name: str, **payload: Any) -> None:
        self._pending.append(queue.Event(name, {"ts": _now(), **payload}))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush_if_due(self) -> None:
        """Write pending events if the last write is ``flush_seconds`` old. A database outage
        keeps them buffered (retried with backoff); one that outlasts the bound stops the run
        (``database_unavailable``). Never raises for an outage."""
        now = time.monotonic()
        if not self._pending or now < self._retry_at:
            return
        if now - self._last_flush < self._settings.event_flush_seconds:
            return
        try:
            self._write()
        except Exception as error:
            if not is_database_outage(error):
                raise
            self._health.failed(error, f"append events of run {self._run_id}")
            self._retry_at = time.monotonic() + self._retry_delay
            self._retry_delay = min(MAX_RETRY_SECONDS, self._retry_delay * 2)
            if self._health.exceeded():
                self._lease.mark("database_unavailable")
            return
        self._health.succeeded()
        self._retry_delay = self._settings.event_flush_seconds

    def confirm(self, stop: threading.Event) -> None:
        """Make sure the run is still ours before its outputs are published.

        If the lease was renewed recently and no write is in doubt, that is known without a
        query (the common case: one commit fewer per run). Otherwise every pending event is
        written and the lease renewed now, retrying through an outage. Raises
        :class:`RunInterrupted` if the run is not ours (cancelled, lost) and
        :class:`~ade.worker.errors.DatabaseGaveUp` if the outage outlasts the bound.
        """
        if not self._lease.surely_ours or self._uncertain:
            what = f"write the log of run {self._run_id}"
            retry_database(self._write, self._health, what, stop)
        if self._lease.interrupted is not None:
            raise RunInterrupted(self._lease.interrupted)

    def _write(self) -> None:
        self._last_flush = time.monotonic()
        batch = list(self._pending)
        retrying, self._uncertain = self._uncertain, True
        result = queue.append_events(
            self._db,
            self._run_id,
            self._worker_id,
            batch,
            self._settings.lease_seconds,
            retrying=retrying,
        )
        self._uncertain = False
        del self._pending[: len(batch)]
        if result == "ok":
            self._lease.renewed()
        else:
            self._lease.mark(result)

    def take_stamped(self) -> list[queue.Event]:
        """Pending events with their write time fixed now (so the log blob and rows agree)."""
        now = dt.datetime.now(dt.UTC)
        return [queue.Event(e.type, e.payload, e.at or now, e.id) for e in self.take()]

    def take(self) -> list[queue.Event]:
        pending, self._pending = self._pending, []
        return pending


def write_log(
    db: Engine,
    store: BlobStore,
    health: DatabaseHealth,
    run: queue.ClaimedRun,
    pending: list[queue.Event],
    stop: threading.Event,
) -> BlobInfo:
    """The run's NDJSON log blob: every stored event, then ``pending`` (not stored yet)."""

    def read() -> list[dict[str, Any]]:
        with db.connect() as connection:
            return queue.events_of(connection, run.id)

    lines = retry_database(read, health, f"read the log of run {run.id}", stop)
    seq = lines[-1]["seq"] if lines else 0
    for offset, event in enumerate(pending, start=1):
        assert event.at is not None
        lines.append(queue.log_line(seq + offset, event.at, event.type, event.payload))
    body = "".join(json.dumps(line, ensure_ascii=False, default=str) + "\n" for line in lines)
    return store.write(keys.run_log_key(run.workspace_id, run.id), io.BytesIO(body.encode("utf-8")))
