"""Structured progress events: ordered dicts handed to a callback while a run goes.

The engine never writes the log itself: it calls `on_event(event)` and the caller decides where
events go (the worker appends them to the run's log, the CLI to log.ndjson). Every event has a
sequence number `seq` (0, 1, 2... in emission order), a UTC timestamp `ts` and a name `event`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

EventCallback = Callable[[dict[str, Any]], None]


class Emitter:
    """Numbers events and passes them on; without a callback it only counts."""

    def __init__(self, on_event: EventCallback | None) -> None:
        self._on_event = on_event
        self.count = 0

    def emit(self, name: str, **fields: Any) -> None:
        event: dict[str, Any] = {
            "seq": self.count,
            "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "event": name,
            **fields,
        }
        self.count += 1
        if self._on_event is not None:
            self._on_event(event)


class NdjsonLog:
    """Appends one JSON object per line and flushes each, so readers see progress live."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = path.open("a", encoding="utf-8")

    def __call__(self, event: dict[str, Any]) -> None:
        self._handle.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> NdjsonLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
