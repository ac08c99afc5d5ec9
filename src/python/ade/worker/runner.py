"""Execute one claimed run: document in, engine in a child, outputs and log out, state recorded.

The order of the final steps is what makes a succeeded run trustworthy: outputs are uploaded,
every event is flushed, the NDJSON log blob is written from the database, and only then is the
run marked succeeded (a guarded UPDATE that also stores the output key, size, sha256 and the
summary). A crash anywhere before that leaves the run ``running`` until its lease expires, and
the next attempt simply overwrites the same keys.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ade.storage import keys
from ade.storage.base import BlobInfo, BlobStore
from ade.worker import queue
from ade.worker.child import EngineProcess
from ade.worker.engine.output import SUMMARY_NAME, TABLES_DIR, XLSX_NAME
from ade.worker.errors import (
    Failure,
    RunFailed,
    RunInterrupted,
    classify,
    one_line,
    retry_delay,
)
from ade.worker.lease import Lease
from ade.worker.settings import WorkerSettings

log = logging.getLogger("ade.worker.runner")

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def safe_filename(name: str) -> str:
    """A local file name for the downloaded document that keeps its extension for humans."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:120]
    return cleaned or "document"


class EventBuffer:
    """Collects log events and writes them in batches, at most ``flush_seconds`` late."""

    def __init__(
        self, db: Engine, run_id: Any, worker_id: str, lease: Lease, settings: WorkerSettings
    ) -> None:
        self._db = db
        self._run_id = run_id
        self._worker_id = worker_id
        self._lease = lease
        self._settings = settings
        self._pending: list[queue.Event] = []
        self._last_flush = time.monotonic()

    def engine_event(self, event: dict[str, Any]) -> None:
        name = str(event.get("event", "engine"))
        payload = {k: v for k, v in event.items() if k not in ("seq", "event")}
        self._pending.append(queue.Event(name, payload))

    def worker_event(self, name: str, **payload: Any) -> None:
        self._pending.append(queue.Event(name, {"ts": _now(), **payload}))

    def flush_if_due(self) -> None:
        if (
            self._pending
            and time.monotonic() - self._last_flush >= self._settings.event_flush_seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Append pending events; a run that is no longer ours marks the lease interrupted."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        result = queue.append_events(
            self._db, self._run_id, self._worker_id, self._pending, self._settings.lease_seconds
        )
        self._pending = []
        if result != "ok":
            self._lease.mark(result)

    def take_stamped(self) -> list[queue.Event]:
        """Pending events with their write time fixed now (so the log blob and rows agree)."""
        now = dt.datetime.now(dt.UTC)
        return [queue.Event(e.type, e.payload, e.at or now) for e in self.take()]

    def take(self) -> list[queue.Event]:
        pending, self._pending = self._pending, []
        return pending


class RunExecutor:
    """Runs claimed runs one after another for one worker slot (owns its engine child)."""

    def __init__(
        self,
        db: Engine,
        store: BlobStore,
        settings: WorkerSettings,
        worker_id: str,
        abandon: threading.Event,
    ) -> None:
        self._db = db
        self._store = store
        self._settings = settings
        self._worker_id = worker_id
        self._abandon = abandon
        self.engine = EngineProcess(settings.engine)

    def close(self) -> None:
        self.engine.close()

    def execute(self, run: queue.ClaimedRun) -> str:
        """Process ``run``; return the outcome: succeeded, failed, retry, released, cancelled,
        lost (another worker owns it now) or unrecorded (the final write failed)."""
        settings = self._settings
        lease = Lease(
            self._db,
            run.id,
            self._worker_id,
            lease_seconds=settings.lease_seconds,
            interval=settings.heartbeat_seconds,
        )
        with lease:
            events = EventBuffer(self._db, run.id, self._worker_id, lease, settings)

            def interrupted() -> str | None:
                if lease.interrupted is not None:
                    return lease.interrupted
                return "shutdown" if self._abandon.is_set() else None

            try:
                return self._attempt(run, events, interrupted)
            except RunInterrupted as stop:
                return self._interrupted(run, stop.reason, events)
            except Exception as error:
                failure = classify(error)
                if failure.code == "internal_error":
                    log.exception("run %s failed unexpectedly", run.id)
                return self._failed(run, failure, events)

    # -- the attempt ---------------------------------------------------------------------------

    def _attempt(
        self,
        run: queue.ClaimedRun,
        events: EventBuffer,
        interrupted: Callable[[], str | None],
    ) -> str:
        started = time.perf_counter()
        events.worker_event(
            "worker.claimed",
            worker=self._worker_id,
            attempt=run.attempt,
            max_attempts=run.max_attempts,
        )
        if run.document_deleted:
            raise RunFailed(Failure("document_missing", "the document was deleted", False))
        _check_configuration(run.spec)
        with tempfile.TemporaryDirectory(prefix="ade-run-") as temporary:
            folder = Path(temporary)
            source = self._download(run, folder / "input")
            _check(interrupted)
            downloaded = time.perf_counter()
            result = self.engine.run(
                str(source),
                run.spec,
                str(folder / "output"),
                events.engine_event,
                interrupted,
                events.flush_if_due,
            )
            _check(interrupted)
            engine_done = time.perf_counter()
            artifacts, output = self._upload(run, folder / "output", interrupted)
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
        _check(interrupted)
        # The log blob holds every event, including those still pending: they are written in
        # the same transaction that marks the run succeeded (one commit fewer per run).
        pending = events.take_stamped()
        artifacts["log"] = _info(self._write_log(run, pending))
        summary = {**result.summary, "artifacts": artifacts}
        outcome = queue.succeed(
            self._db,
            run.id,
            self._worker_id,
            output_key=output.key,
            output_size=output.size,
            output_sha256=output.sha256,
            summary=summary,
            events=pending,
        )
        if outcome != "ok":
            return self._interrupted(run, outcome, events)
        return "succeeded"

    def _download(self, run: queue.ClaimedRun, folder: Path) -> Path:
        folder.mkdir()
        target = folder / safe_filename(run.document_name)
        with self._store.open(run.document_key) as chunks, target.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        return target

    def _upload(
        self, run: queue.ClaimedRun, folder: Path, interrupted: Callable[[], str | None]
    ) -> tuple[dict[str, Any], BlobInfo]:
        workspace, run_id = run.workspace_id, run.id
        plan: list[tuple[str, Path, str]] = []
        tables = sorted(
            (p for p in (folder / TABLES_DIR).glob("*.csv") if p.stem.isdigit()),
            key=lambda p: int(p.stem),
        )
        for path in tables:
            plan.append(("table", path, keys.run_table_key(workspace, run_id, int(path.stem))))
        xlsx = folder / XLSX_NAME
        if xlsx.exists():
            plan.append(("xlsx", xlsx, keys.run_output_key(workspace, run_id)))
        plan.append(("summary", folder / SUMMARY_NAME, keys.run_summary_key(workspace, run_id)))
        artifacts: dict[str, Any] = {"tables": []}
        output: BlobInfo | None = None
        for kind, path, key in plan:
            _check(interrupted)
            with path.open("rb") as handle:
                info = self._store.write(key, handle)
            if kind == "table":
                artifacts["tables"].append({"number": int(path.stem), **_info(info)})
            else:
                artifacts[kind] = _info(info)
            if kind == "xlsx" or (kind == "summary" and output is None):
                output = info
        assert output is not None
        return artifacts, output

    def _write_log(self, run: queue.ClaimedRun, pending: list[queue.Event]) -> BlobInfo:
        with self._db.connect() as connection:
            lines = queue.events_of(connection, run.id)
        seq = lines[-1]["seq"] if lines else 0
        for offset, event in enumerate(pending, start=1):
            assert event.at is not None
            lines.append(queue.log_line(seq + offset, event.at, event.type, event.payload))
        body = "".join(json.dumps(line, ensure_ascii=False, default=str) + "\n" for line in lines)
        return self._store.write(
            keys.run_log_key(run.workspace_id, run.id), io.BytesIO(body.encode("utf-8"))
        )

    # -- endings -------------------------------------------------------------------------------

    def _failed(self, run: queue.ClaimedRun, failure: Failure, events: EventBuffer) -> str:
        settings = self._settings
        try:
            if failure.transient and run.attempt < run.max_attempts:
                delay = retry_delay(
                    run.attempt,
                    settings.retry_base_seconds,
                    settings.retry_max_seconds,
                    str(run.id),
                )
                events.worker_event(
                    "worker.retry_scheduled",
                    code=failure.code,
                    message=failure.message,
                    attempt=run.attempt,
                    delay_seconds=round(delay, 3),
                )
                result = queue.retry_later(
                    self._db,
                    run.id,
                    self._worker_id,
                    failure.code,
                    failure.message,
                    delay,
                    events.take(),
                )
                outcome = "retry"
            else:
                events.worker_event(
                    "worker.failed",
                    code=failure.code,
                    message=failure.message,
                    attempt=run.attempt,
                    transient=failure.transient,
                )
                result = queue.fail(
                    self._db,
                    run.id,
                    self._worker_id,
                    failure.code,
                    failure.message,
                    events.take(),
                )
                outcome = "failed"
        except Exception as error:
            # The database itself is failing: the lease will lapse and a sweep requeues the run.
            log.warning("cannot record the failure of run %s: %s", run.id, one_line(str(error)))
            return "unrecorded"
        if result != "ok":
            return result
        log.info("run %s %s: %s %s", run.id, outcome, failure.code, failure.message)
        return outcome

    def _interrupted(self, run: queue.ClaimedRun, reason: str, events: EventBuffer) -> str:
        if reason != "shutdown":
            log.info("run %s stopped: %s", run.id, reason)
            return reason
        events.worker_event("worker.released", worker=self._worker_id, attempt=run.attempt)
        try:
            result = queue.release(self._db, run.id, self._worker_id, events.take())
        except Exception as error:
            log.warning("cannot release run %s: %s", run.id, one_line(str(error)))
            return "unrecorded"
        return "released" if result == "ok" else result


def _check(interrupted: Callable[[], str | None]) -> None:
    reason = interrupted()
    if reason is not None:
        raise RunInterrupted(reason)


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


def _info(info: BlobInfo) -> dict[str, Any]:
    return {"key": info.key, "size": info.size, "sha256": info.sha256}
