"""Waking idle slots: short polling with exponential backoff, plus PostgreSQL LISTEN/NOTIFY.

Idle slots wait on one shared :class:`Waker`. The wait starts at ``poll_seconds`` and doubles
up to ``poll_max_seconds`` while the queue stays empty, so an idle worker costs a few queries a
second at most. On PostgreSQL a listener thread holds a dedicated connection with ``LISTEN
ade_runs`` and wakes every slot as soon as a notification arrives (runs enqueued through
:func:`ade.worker.queue.enqueue_run`, retries, releases and sweeps send one; the API should
``NOTIFY ade_runs`` in the transaction that creates a run). Polling stays on as the safety net,
so a missed notification only costs latency, never a run.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import URL

from ade.db.run_notifications import RUNS_CHANNEL

log = logging.getLogger("ade.worker.wakeup")


class Waker:
    """An event idle slots wait on; set by notifications, new work or shutdown."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def wake(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class Backoff:
    """Idle wait that doubles from ``first`` to ``cap`` and resets when work is found."""

    def __init__(self, first: float, cap: float) -> None:
        self._first = first
        self._cap = max(first, cap)
        self._next = first

    def next(self) -> float:
        current = self._next
        self._next = min(self._cap, self._next * 2)
        return current

    def reset(self) -> None:
        self._next = self._first


class Listener:
    """A daemon thread that LISTENs on PostgreSQL and wakes the :class:`Waker`."""

    def __init__(self, url: URL, waker: Waker, stop: threading.Event) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._waker = waker
        self._stop = stop
        self._thread = threading.Thread(target=self._loop, name="ade-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {RUNS_CHANNEL}")
                    # Anything committed before LISTEN took effect is found by the next poll.
                    self._waker.wake()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self._waker.wake()
            except Exception as error:
                log.warning("LISTEN %s failed, polling only for now: %s", RUNS_CHANNEL, error)
                self._stop.wait(2.0)
