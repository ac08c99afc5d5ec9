"""Riding out database outages: one tracker per worker process, and a retry loop for writes.

A PostgreSQL restart or failover makes every query fail for seconds to minutes, then the server
is back. Nothing a worker does during that time is a run's fault, so nothing is recorded as a
failure: claims and sweeps wait, heartbeats keep trying, events stay buffered, and the writes
that settle a run (its outcome, the events before its uploads) are retried with backoff until
they go through or the outage has lasted longer than ``ADE_WORKER_DATABASE_OUTAGE_SECONDS``.

Every database call of the worker reports to one :class:`DatabaseHealth`, so all of them agree
on when the outage began (the bound counts from the first failure in a row, whoever saw it) and
the sweeper knows when the database last failed (it holds back after an outage; see
:meth:`DatabaseHealth.recently_failed`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ade.worker.errors import DatabaseGaveUp, is_database_outage, one_line

log = logging.getLogger("ade.worker.outage")

T = TypeVar("T")

FIRST_RETRY_SECONDS = 0.1
"""First wait after a failed write; doubles up to :data:`MAX_RETRY_SECONDS`."""

MAX_RETRY_SECONDS = 2.0
"""Longest wait between two tries: a restarted database is noticed within this."""


class DatabaseHealth:
    """What this worker process has seen of the database: since when it keeps failing."""

    def __init__(self, outage_seconds: float) -> None:
        self.outage_seconds = outage_seconds
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self._last_failure: float | None = None

    def succeeded(self) -> None:
        with self._lock:
            since, self._failing_since = self._failing_since, None
        if since is not None:
            log.warning("database reachable again after %.1fs", time.monotonic() - since)

    def failed(self, error: BaseException, what: str) -> None:
        now = time.monotonic()
        with self._lock:
            first = self._failing_since is None
            if first:
                self._failing_since = now
            self._last_failure = now
        if first:
            log.warning(
                "database unavailable (%s): %s; retrying for up to %.0fs",
                what,
                one_line(str(error), 300),
                self.outage_seconds,
            )

    @property
    def failing(self) -> bool:
        """True while the last database call failed and none has succeeded since."""
        with self._lock:
            return self._failing_since is not None

    def exceeded(self) -> bool:
        """True once the current outage has lasted longer than the worker may wait."""
        with self._lock:
            since = self._failing_since
        return since is not None and time.monotonic() - since > self.outage_seconds

    def recently_failed(self, window: float) -> bool:
        """True if a database call failed within the last ``window`` seconds."""
        with self._lock:
            last = self._last_failure
        return last is not None and time.monotonic() - last < window


def retry_database(
    call: Callable[[], T],
    health: DatabaseHealth,
    what: str,
    stop: threading.Event | None = None,
) -> T:
    """``call()`` until it succeeds, retrying database outages with capped exponential backoff.

    Raises :class:`DatabaseGaveUp` once the outage has lasted longer than the bound, or when
    ``stop`` is set while waiting (shutdown: the lease will lapse and the run is taken up
    again). Errors that are not outages (a bug, a constraint violation) propagate at once.
    """
    delay = FIRST_RETRY_SECONDS
    while True:
        try:
            result = call()
        except Exception as error:
            if not is_database_outage(error):
                raise
            health.failed(error, what)
            if health.exceeded():
                raise DatabaseGaveUp(
                    f"cannot {what}: the database has been unavailable for more than "
                    f"{health.outage_seconds:.0f}s"
                ) from None
            if stop is not None and stop.wait(delay):
                raise DatabaseGaveUp(f"cannot {what}: the worker is shutting down") from None
            if stop is None:
                time.sleep(delay)
            delay = min(MAX_RETRY_SECONDS, delay * 2)
            continue
        health.succeeded()
        return result
