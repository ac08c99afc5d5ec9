"""The queue's SQL on both backends: atomic claims, leases guarded by "still mine", sweeps,
release, and the retry backoff and failure classification rules."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from ade.db.column_types import utcnow
from ade.db.engine import create_engine
from ade.db.errors import DatabaseUnavailable
from ade.db.models import Run
from ade.storage.errors import BlobNotFound, StorageMisconfigured, StorageUnavailable
from ade.worker import queue
from ade.worker.errors import EngineCrashed, Failure, RunFailed, classify, retry_delay
from tests.worker.run_queue.queue_support import Seed


def worker_engine(url: str):
    return create_engine(url, sqlite_begin="BEGIN IMMEDIATE")


def expire(seed: Seed, run_id: uuid.UUID) -> None:
    with seed.engine.begin() as connection:
        connection.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(claim_expires_at=utcnow() - timedelta(seconds=1))
        )


def test_concurrent_claims_never_take_a_run_twice(db_url: str, seed: Seed) -> None:
    run_ids = set(seed.enqueue(seed.document(), count=30))
    engine = worker_engine(db_url)
    claimed: list[tuple[str, uuid.UUID]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def claimer(name: str) -> None:
        barrier.wait()
        while (run := queue.claim(engine, name, 60)) is not None:
            with lock:
                claimed.append((name, run.id))

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [run_id for _, run_id in claimed]
    assert sorted(ids) == sorted(run_ids)  # each exactly once
    for row in seed.runs():
        assert row.status == "running"
        assert row.attempt_count == 1
        assert (row.claimed_by, row.id) in claimed


def test_claim_takes_oldest_available_queued_run_only(db_url: str, seed: Seed) -> None:
    document_id = seed.document()
    first, later, cancelled = seed.enqueue(document_id, count=3)
    seed.set_status(cancelled, "cancelled")
    with seed.engine.begin() as connection:
        connection.execute(
            update(Run).where(Run.id == later).values(available_at=utcnow() + timedelta(hours=1))
        )
    engine = worker_engine(db_url)
    run = queue.claim(engine, "me", 30)
    assert run is not None and run.id == first
    assert run.attempt == 1 and run.document_name == "people.csv"
    assert run.spec["fields"]
    assert queue.claim(engine, "me", 30) is None  # later: not yet; cancelled: never


def test_expired_lease_holder_cannot_overwrite_the_result(db_url: str, seed: Seed) -> None:
    [run_id] = seed.enqueue(seed.document())
    engine = worker_engine(db_url)
    assert queue.claim(engine, "old", 30) is not None
    expire(seed, run_id)
    assert queue.sweep_expired(engine) == queue.SweepResult(requeued=1, failed=0)
    second = queue.claim(engine, "new", 30)
    assert second is not None and second.attempt == 2
    # The old holder wakes up: every write is refused and says why.
    assert queue.heartbeat(engine, run_id, "old", 30) == "lost"
    assert queue.append_events(engine, run_id, "old", [queue.Event("x", {})], 30) == "lost"
    assert (
        queue.succeed(
            engine,
            run_id,
            "old",
            output_key="k",
            output_size=1,
            output_sha256="0" * 64,
            summary={"by": "old"},
        )
        == "lost"
    )
    assert queue.fail(engine, run_id, "old", "boom", "old failure") == "lost"
    assert queue.release(engine, run_id, "old") == "lost"
    row = seed.run(run_id)
    assert (row.status, row.claimed_by, row.summary) == ("running", "new", None)
    # Nothing of the old holder's late writes; each attempt's claim and the takeover are logged.
    trace = ["worker.claimed", "lease.expired", "worker.claimed"]
    assert seed.event_types(run_id) == trace
    claims = [e for e in seed.events(run_id) if e.type != "lease.expired"]
    assert [(e.payload["worker"], e.payload["attempt"]) for e in claims] == [("old", 1), ("new", 2)]
    [expiry] = [e for e in seed.events(run_id) if e.type == "lease.expired"]
    assert expiry.payload | {"ts": None} == {
        "ts": None,
        "worker": "old",
        "attempt": 1,
        "requeued": True,
    }
    # The new holder's result sticks.
    assert (
        queue.append_events(engine, run_id, "new", [queue.Event("a", {}), queue.Event("b", {})], 30)
        == "ok"
    )
    assert (
        queue.succeed(
            engine,
            run_id,
            "new",
            output_key="k2",
            output_size=2,
            output_sha256="1" * 64,
            summary={"by": "new"},
            events=[queue.Event("c", {})],
        )
        == "ok"
    )
    row = seed.run(run_id)
    assert (row.status, row.summary, row.output_blob_key) == ("succeeded", {"by": "new"}, "k2")
    assert seed.event_types(run_id) == [*trace, "a", "b", "c"]
    assert seed.event_seqs(run_id) == [1, 2, 3, 4, 5, 6]
    assert queue.heartbeat(engine, run_id, "new", 30) == "lost"  # finished: nothing to renew


def test_sweep_fails_runs_out_of_attempts(db_url: str, seed: Seed) -> None:
    [run_id] = seed.enqueue(seed.document(), max_attempts=1)
    engine = worker_engine(db_url)
    assert queue.claim(engine, "w", 30) is not None
    assert queue.sweep_expired(engine) == queue.SweepResult(0, 0)  # not expired yet
    expire(seed, run_id)
    assert queue.sweep_expired(engine) == queue.SweepResult(requeued=0, failed=1)
    row = seed.run(run_id)
    assert (row.status, row.error_code, row.attempt_count) == ("failed", "lease_expired", 1)


def test_heartbeat_extends_and_sees_cancel(db_url: str, seed: Seed) -> None:
    [run_id] = seed.enqueue(seed.document())
    engine = worker_engine(db_url)
    assert queue.claim(engine, "w", 1) is not None
    before = seed.run(run_id).claim_expires_at
    assert queue.heartbeat(engine, run_id, "w", 600) == "ok"
    assert seed.run(run_id).claim_expires_at > before
    seed.set_status(run_id, "cancelled")
    assert queue.heartbeat(engine, run_id, "w", 600) == "cancelled"
    assert (
        queue.succeed(
            engine, run_id, "w", output_key="k", output_size=1, output_sha256="0" * 64, summary={}
        )
        == "cancelled"
    )
    assert seed.run(run_id).status == "cancelled"


def test_release_does_not_count_the_attempt(db_url: str, seed: Seed) -> None:
    [run_id] = seed.enqueue(seed.document())
    engine = worker_engine(db_url)
    assert queue.claim(engine, "w", 30) is not None
    assert queue.release(engine, run_id, "w", [queue.Event("worker.released", {})]) == "ok"
    row = seed.run(run_id)
    assert (row.status, row.attempt_count, row.claimed_by, row.claim_expires_at) == (
        "queued",
        0,
        None,
        None,
    )
    again = queue.claim(engine, "w2", 30)
    assert again is not None and again.attempt == 1


def test_retry_later_requeues_in_the_future(db_url: str, seed: Seed) -> None:
    [run_id] = seed.enqueue(seed.document())
    engine = worker_engine(db_url)
    assert queue.claim(engine, "w", 30) is not None
    assert queue.retry_later(engine, run_id, "w", "storage_unavailable", "down", 3600) == "ok"
    row = seed.run(run_id)
    assert (row.status, row.attempt_count, row.error_code) == ("queued", 1, "storage_unavailable")
    assert row.available_at > utcnow() + timedelta(minutes=59)
    assert queue.claim(engine, "w", 30) is None


def test_retry_delay_grows_is_capped_and_deterministic() -> None:
    delays = [retry_delay(attempt, 5, 60, "run") for attempt in range(1, 8)]
    assert delays == [retry_delay(attempt, 5, 60, "run") for attempt in range(1, 8)]
    for attempt, delay in enumerate(delays, start=1):
        nominal = min(60, 5 * 2 ** (attempt - 1))
        assert nominal / 2 <= delay <= nominal
    assert retry_delay(1000, 5, 60, "run") <= 60


@pytest.mark.parametrize(
    ("error", "code", "transient"),
    [
        (StorageUnavailable("S3 down"), "storage_unavailable", True),
        (StorageMisconfigured("no bucket"), "storage_misconfigured", True),
        (BlobNotFound("documents/x"), "document_missing", False),
        (
            OperationalError("SELECT 1", {}, Exception("server closed the connection")),
            "database_unavailable",
            True,
        ),
        (DatabaseUnavailable("cannot connect"), "database_unavailable", True),
        (EngineCrashed("killed"), "engine_crashed", True),
        (RunFailed(Failure("no_table_found", "none", False)), "no_table_found", False),
        (ValueError("bug"), "internal_error", False),
    ],
)
def test_classification(error: BaseException, code: str, transient: bool) -> None:
    failure = classify(error)
    assert (failure.code, failure.transient) == (code, transient)
    assert "\n" not in failure.message


def test_a_retried_write_after_a_lost_reply_neither_duplicates_nor_loses(
    db_url: str, seed: Seed
) -> None:
    """A connection cut between COMMIT and its reply: the worker does not know whether its
    write went through and sends it again. The events are stored once, and a retried ending
    that already committed reports ok, not "lost"."""
    [run_id] = seed.enqueue(seed.document())
    engine = worker_engine(db_url)
    assert queue.claim(engine, "w", 30) is not None
    batch = [queue.Event("a", {}), queue.Event("b", {})]
    assert queue.append_events(engine, run_id, "w", batch, 30) == "ok"  # committed, reply lost
    more = [*batch, queue.Event("c", {})]
    assert queue.append_events(engine, run_id, "w", more, 30, retrying=True) == "ok"
    assert seed.event_types(run_id) == ["worker.claimed", "a", "b", "c"]

    ending = [queue.Event("worker.finished", {})]
    done: dict[str, Any] = {
        "output_key": "k",
        "output_size": 1,
        "output_sha256": "0" * 64,
        "summary": {},
    }
    assert queue.succeed(engine, run_id, "w", events=ending, **done) == "ok"  # reply lost
    assert queue.succeed(engine, run_id, "w", events=ending, retrying=True, **done) == "ok"
    # Without the retry marker the same second write would be told the run is not ours.
    assert queue.succeed(engine, run_id, "w", events=ending, **done) == "lost"
    assert seed.event_types(run_id) == ["worker.claimed", "a", "b", "c", "worker.finished"]
    assert seed.event_seqs(run_id) == [1, 2, 3, 4, 5]
