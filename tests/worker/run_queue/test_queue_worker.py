"""A Worker in this process, drain mode: success, deterministic and transient failures,
cancellation of queued and running runs, and the log written as ordered events."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ade.storage import keys
from ade.storage.factory import open_store
from ade.storage.settings import load_settings as load_storage_settings
from ade.worker.service import Worker
from ade.worker.settings import load_settings
from tests.support.s3 import AWS_TEST_ENV
from tests.support.waiting import wait_for
from tests.support.worker_settings import worker_overrides
from tests.worker.run_queue.queue_support import (
    GATED_ENGINE,
    Seed,
    gate_started,
)


def drain(url: str, seed: Seed, **settings: object) -> Worker:
    worker = Worker(
        url, settings=load_settings(**worker_overrides(**settings)), store=seed.store, drain=True
    )
    assert worker.run_forever() == 0
    return worker


def test_drain_processes_a_run_and_stores_everything(db_url: str, seed: Seed) -> None:
    [run_id] = seed.enqueue(seed.document())
    worker = drain(db_url, seed)
    assert worker.outcomes == {"succeeded": 1}
    run = seed.run(run_id)
    assert run.status == "succeeded"
    assert run.attempt_count == 1
    assert run.error_code is None
    assert run.output_blob_key == keys.run_output_key(seed.workspace_id, run_id)
    info = seed.store.stat(run.output_blob_key)
    assert (info.size, info.sha256) == (run.output_byte_size, run.output_sha256)
    assert run.summary["tables_found"] == 1
    assert run.summary["rows"] == 2
    table_key = keys.run_table_key(seed.workspace_id, run_id, 1)
    assert b"Ada" in seed.store.read_bytes(table_key)
    stored_summary = json.loads(
        seed.store.read_bytes(keys.run_summary_key(seed.workspace_id, run_id))
    )
    assert stored_summary["tables_found"] == 1
    # The log: ordered seq 1..n in the database, the same lines in the NDJSON blob.
    seqs = seed.event_seqs(run_id)
    assert seqs == list(range(1, len(seqs) + 1))
    types = seed.event_types(run_id)
    assert types[0] == "worker.claimed"
    assert "run.started" in types and "run.finished" in types
    lines = seed.store.read_bytes(keys.run_log_key(seed.workspace_id, run_id)).decode().splitlines()
    assert [json.loads(line)["event"] for line in lines] == types
    assert [json.loads(line)["seq"] for line in lines] == seqs


def test_corrupt_file_fails_at_once_without_retry(db_url: str, seed: Seed) -> None:
    corrupt = b"PK\x03\x04 this is not really a zip archive" * 10
    [run_id] = seed.enqueue(seed.document(corrupt, "broken.xlsx"), max_attempts=5)
    worker = drain(db_url, seed)
    assert worker.outcomes == {"failed": 1}
    run = seed.run(run_id)
    assert run.status == "failed"
    assert run.attempt_count == 1
    assert run.error_code == "unreadable_file"
    assert run.error_message and "\n" not in run.error_message
    assert run.output_blob_key is None
    assert "worker.failed" in seed.event_types(run_id)


def test_file_without_table_fails_with_its_code(db_url: str, seed: Seed) -> None:
    [run_id] = seed.enqueue(seed.document(b"just some notes\n\nnothing else\n", "notes.csv"))
    drain(db_url, seed)
    run = seed.run(run_id)
    assert (run.status, run.attempt_count, run.error_code) == ("failed", 1, "no_table_found")


def test_invalid_configuration_fails_at_once(db_url: str, storage_root: Path) -> None:
    from tests.worker.run_queue.queue_support import local_store

    seed = Seed.create(db_url, local_store(storage_root), spec={"fields": []})
    [run_id] = seed.enqueue(seed.document())
    drain(db_url, seed)
    run = seed.run(run_id)
    assert (run.status, run.attempt_count, run.error_code) == ("failed", 1, "invalid_configuration")


def test_missing_document_blob_is_deterministic(db_url: str, seed: Seed) -> None:
    document_id = seed.document()
    seed.store.delete(keys.document_key(seed.workspace_id, document_id))
    [run_id] = seed.enqueue(document_id)
    drain(db_url, seed)
    run = seed.run(run_id)
    assert (run.status, run.attempt_count, run.error_code) == ("failed", 1, "document_missing")


def test_storage_unavailable_is_retried_with_backoff_then_fails(
    db_url: str, seed: Seed, unused_tcp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 at a closed port: every attempt fails with storage_unavailable; retried until
    max_attempts, never failed early."""
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    [run_id] = seed.enqueue(seed.document(), max_attempts=3)
    down = open_store(
        load_storage_settings(
            storage_backend="s3",
            s3_bucket="ade-down",
            s3_endpoint_url=f"http://127.0.0.1:{unused_tcp_port}",
            s3_region="us-east-1",
            s3_max_attempts=1,
            s3_connect_timeout_seconds=1,
        )
    )
    worker = Worker(db_url, settings=load_settings(**worker_overrides()), store=down, drain=True)
    assert worker.run_forever() == 0
    assert worker.outcomes == {"retry": 2, "failed": 1}
    run = seed.run(run_id)
    assert (run.status, run.attempt_count, run.error_code) == ("failed", 3, "storage_unavailable")
    types = seed.event_types(run_id)
    assert types.count("worker.retry_scheduled") == 2
    assert types.count("worker.failed") == 1


def test_cancelled_while_queued_never_starts(db_url: str, seed: Seed) -> None:
    document_id = seed.document()
    cancelled, kept = seed.enqueue(document_id, count=2)
    seed.set_status(cancelled, "cancelled")
    worker = drain(db_url, seed)
    assert worker.outcomes == {"succeeded": 1}
    run = seed.run(cancelled)
    assert (run.status, run.attempt_count, run.started_at) == ("cancelled", 0, None)
    assert seed.event_types(cancelled) == []
    assert seed.run(kept).status == "succeeded"


def test_cancelled_while_running_stops_the_engine(db_url: str, seed: Seed, gate: Path) -> None:
    [run_id] = seed.enqueue(seed.document())
    worker = Worker(
        db_url,
        settings=load_settings(**worker_overrides(engine=GATED_ENGINE)),
        store=seed.store,
        drain=True,
    )
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    try:
        wait_for(lambda: gate_started(gate), "the engine to start")
        seed.set_status(run_id, "cancelled")
        thread.join(60)
        assert not thread.is_alive()
    finally:
        (gate / "release").touch()
        worker.abandon()
        thread.join(60)
    assert worker.outcomes == {"cancelled": 1}, worker.outcomes
    run = seed.run(run_id)
    assert run.status == "cancelled"
    assert run.output_blob_key is None
    assert not seed.store.exists(keys.run_output_key(seed.workspace_id, run_id))


def test_the_worker_collects_storage_garbage_periodically(
    db_url: str, seed: Seed, storage_root: Path
) -> None:
    """An upload the API never recorded (a blob without a row) is removed by the worker's
    periodic pass once it is older than ADE_WORKER_GC_OLDER_THAN_SECONDS; a recent one stays."""
    import os
    import time
    import uuid

    stale = keys.document_key(seed.workspace_id, uuid.uuid4())
    recent = keys.document_key(seed.workspace_id, uuid.uuid4())
    referenced = keys.document_key(seed.workspace_id, seed.document())
    for key in (stale, recent):
        seed.store.write(key, b"a,b\n1,2\n")
    an_hour_ago = time.time() - 3600
    for key in (stale, referenced):
        os.utime(storage_root / key, (an_hour_ago, an_hour_ago))
    worker = Worker(
        db_url,
        settings=load_settings(
            **worker_overrides(gc_interval_seconds=0.2, gc_older_than_seconds=600)
        ),
        store=seed.store,
    )
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    try:
        wait_for(lambda: not seed.store.exists(stale), "the stale orphan to be collected")
    finally:
        worker.stop()
        thread.join(60)
    assert seed.store.exists(recent) and seed.store.exists(referenced)
