"""Faults mid-run, on a real PostgreSQL the test stops and starts: every run still ends with
its own document's results, no event is lost, and nothing is left in the scratch folder.

The documents are people lists whose names say which document they come from, so a run that
got another run's results shows it in its table, its summary and its log.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ade.storage import keys
from ade.worker.service import Worker
from ade.worker.settings import load_settings
from tests.support.postgres import PostgresServer, fresh_database
from tests.support.waiting import wait_for
from tests.support.worker_settings import worker_overrides
from tests.worker.run_queue.queue_support import (
    CHATTY_ENGINE,
    Seed,
    emitted,
    engine_children,
    gate_started,
    local_store,
    migrate,
)


def people(tag: str, rows: int) -> bytes:
    lines = ["First Name,Last Name,E-mail"]
    lines += [f"{tag}{n},Person{n},{tag.lower()}{n}@example.com" for n in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture()
def pg(restartable_postgres: PostgresServer) -> Any:
    with fresh_database(restartable_postgres) as url:
        migrate(url)
        yield url


def start_worker(url: str, seed: Seed, scratch: Path, **settings: Any) -> tuple[Worker, Any]:
    worker = Worker(
        url,
        settings=load_settings(
            **worker_overrides(
                engine=CHATTY_ENGINE, concurrency=1, scratch_dir=str(scratch), **settings
            )
        ),
        store=seed.store,
        drain=True,
    )
    thread = threading.Thread(target=worker.run_forever, name="test-worker")
    thread.start()
    return worker, thread


def finish(worker: Worker, thread: threading.Thread, gate: Path) -> None:
    (gate / "release").touch()
    thread.join(180)
    if thread.is_alive():
        worker.abandon()
        thread.join(60)
        pytest.fail("the worker did not drain the queue")


def assert_own_results(seed: Seed, run_id: uuid.UUID, tag: str, rows: int, name: str) -> None:
    """The run succeeded with the results of *its* document, and its log is about it only."""
    run = seed.run(run_id)
    assert run.status == "succeeded", (tag, run.status, run.error_code, run.error_message)
    assert run.summary["rows"] == rows, tag
    assert run.summary["file"] == name
    events = seed.events(run_id)
    assert [e.payload["file"] for e in events if e.type == "run.started"] == [name]
    assert {e.payload["file"] for e in events if e.type == "test.waiting"} <= {name}
    progress = [e.payload["rows"] for e in events if e.type in ("table.progress", "table.finished")]
    assert progress and max(progress) == rows
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    table = seed.store.read_bytes(keys.run_table_key(seed.workspace_id, run_id, 1)).decode()
    # The e-mail column identifies each row's document (names with digits are no names to the
    # engine, so "Alpha7" is kept as an unmapped column, not normalized into First Name).
    emails = {row["Email"] for row in csv.DictReader(io.StringIO(table))}
    assert emails == {f"{tag.lower()}{n}@example.com" for n in range(1, rows + 1)}
    info = seed.store.stat(run.output_blob_key)
    assert (info.size, info.sha256) == (run.output_byte_size, run.output_sha256)


def test_database_restart_while_a_run_is_in_flight(
    pg: str, restartable_postgres: PostgresServer, gate: Path, tmp_path: Path
) -> None:
    """The database goes away while the engine works on run A and reports progress; it comes
    back; A finishes. Then B and C run on the same slot (the same engine child, had it been
    left busy with A) and each gets its own document's results."""
    seed = Seed.create(pg, local_store(tmp_path / "storage"))
    documents = {"Alpha": 60, "Bravo": 3, "Charlie": 5}
    run_ids = {
        tag: seed.enqueue(seed.document(people(tag, rows), f"{tag.lower()}.csv"))[0]
        for tag, rows in documents.items()
    }
    worker, thread = start_worker(pg, seed, tmp_path / "scratch")
    try:
        wait_for(lambda: gate_started(gate), "the engine to start run A")
        wait_for(
            lambda: "test.waiting" in seed.event_types(run_ids["Alpha"]),
            "A's first progress events to be stored",
        )
        restartable_postgres.stop()
        during = emitted(gate, "alpha.csv")
        wait_for(lambda: worker.health.failing, "the worker to notice the outage")
        wait_for(lambda: emitted(gate, "alpha.csv") >= during + 10, "events during the outage")
        restartable_postgres.start()
    finally:
        finish(worker, thread, gate)

    assert worker.outcomes == {"succeeded": 3}, worker.outcomes
    for tag, rows in documents.items():
        assert_own_results(seed, run_ids[tag], tag, rows, f"{tag.lower()}.csv")
    alpha = seed.events(run_ids["Alpha"])
    assert seed.run(run_ids["Alpha"]).attempt_count == 1  # rode the outage out, no retry
    # Every event the engine sent is stored once, in order, including those sent while the
    # database was down.
    waiting = [e.payload["n"] for e in alpha if e.type == "test.waiting"]
    assert waiting == list(range(1, emitted(gate, "alpha.csv") + 1))
    assert Counter(e.type for e in alpha)["worker.claimed"] == 1
    for tag in ("Bravo", "Charlie"):
        assert "test.waiting" not in seed.event_types(run_ids[tag])
    assert not any((tmp_path / "scratch").iterdir())  # every run folder and the worker's gone


def test_database_down_when_the_run_finishes(
    pg: str, restartable_postgres: PostgresServer, gate: Path, tmp_path: Path
) -> None:
    """The engine finishes while the database is down: the outcome, the events and the
    outputs are written once it is back (the lease is still ours), not given up."""
    seed = Seed.create(pg, local_store(tmp_path / "storage"))
    [run_id] = seed.enqueue(seed.document(people("Delta", 4), "delta.csv"))
    worker, thread = start_worker(pg, seed, tmp_path / "scratch")
    try:
        wait_for(lambda: gate_started(gate), "the engine to start")
        restartable_postgres.stop()
        (gate / "release").touch()
        wait_for(lambda: (gate / "finished-delta.csv").exists(), "the engine to finish")
        wait_for(lambda: worker.health.failing, "the worker to find the database down")
        restartable_postgres.start()
    finally:
        finish(worker, thread, gate)
    assert worker.outcomes == {"succeeded": 1}, worker.outcomes
    assert_own_results(seed, run_id, "Delta", 4, "delta.csv")
    assert seed.run(run_id).attempt_count == 1


def test_outage_longer_than_the_bound_gives_the_attempt_up_cleanly(
    pg: str, restartable_postgres: PostgresServer, gate: Path, tmp_path: Path
) -> None:
    """An outage longer than ADE_WORKER_DATABASE_OUTAGE_SECONDS: the attempt is given up (its
    engine killed), nothing wrong is recorded, and once the database is back the run's lease
    lapses, it is taken up again and succeeds with its own results."""
    seed = Seed.create(pg, local_store(tmp_path / "storage"))
    [run_id] = seed.enqueue(seed.document(people("Echo", 7), "echo.csv"))
    worker, thread = start_worker(
        pg, seed, tmp_path / "scratch", database_outage_seconds=0.5, lease_seconds=2.0
    )
    try:
        wait_for(lambda: gate_started(gate), "the engine to start")
        engines = engine_children(os.getpid())
        assert engines
        restartable_postgres.stop()
        wait_for(lambda: worker.outcomes.get("abandoned"), "the attempt to be given up")
        # Its engine child was killed, not left working on a run nobody waits for.
        assert not engine_children(os.getpid()) & engines
        restartable_postgres.start()
    finally:
        finish(worker, thread, gate)
    assert worker.outcomes == {"abandoned": 1, "succeeded": 1}, worker.outcomes
    assert_own_results(seed, run_id, "Echo", 7, "echo.csv")
    run = seed.run(run_id)
    assert run.attempt_count == 2
    types = seed.event_types(run_id)
    assert types.count("worker.claimed") == 2 and types.count("lease.expired") == 1


def test_killed_engine_child_is_retried_and_the_next_run_gets_its_own(
    pg: str, gate: Path, tmp_path: Path
) -> None:
    """SIGKILL of the engine child mid-run: that attempt fails as engine_crashed (transient,
    retried), the retry succeeds, and the run after it on the same slot is not affected."""
    seed = Seed.create(pg, local_store(tmp_path / "storage"))
    first = seed.enqueue(seed.document(people("Foxtrot", 6), "foxtrot.csv"))[0]
    second = seed.enqueue(seed.document(people("Golf", 2), "golf.csv"))[0]
    worker, thread = start_worker(pg, seed, tmp_path / "scratch")
    try:
        wait_for(lambda: gate_started(gate), "the engine to start")
        [engine] = engine_children(os.getpid())
        os.kill(engine, signal.SIGKILL)
    finally:
        finish(worker, thread, gate)
    assert worker.outcomes == {"retry": 1, "succeeded": 2}, worker.outcomes
    assert_own_results(seed, first, "Foxtrot", 6, "foxtrot.csv")
    assert_own_results(seed, second, "Golf", 2, "golf.csv")
    events = seed.events(first)
    [retry] = [e for e in events if e.type == "worker.retry_scheduled"]
    assert retry.payload["code"] == "engine_crashed"
    assert seed.run(first).attempt_count == 2
