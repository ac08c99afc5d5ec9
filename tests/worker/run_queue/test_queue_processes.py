"""Real worker processes on both backends: several draining one queue, one SIGKILL-ed mid-run
(its run taken over, its stranded scratch files removed), SIGTERM with a run in flight
(finished within the grace period, or released after it)."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

from tests.support.processes import alive, children
from tests.support.waiting import wait_for
from tests.worker.run_queue.queue_support import (
    GATED_ENGINE,
    Seed,
    gate_started,
    local_storage_overrides,
    start_worker_process,
)


def test_several_workers_drain_the_queue_without_doing_a_run_twice(
    db_url: str, seed: Seed, storage_root: Path
) -> None:
    run_ids = seed.enqueue(seed.document(), count=12)
    storage = local_storage_overrides(storage_root)
    workers = [start_worker_process(db_url, storage, concurrency=2) for _ in range(3)]
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    rows = seed.runs()
    assert {row.id for row in rows} == set(run_ids)
    assert {(row.status, row.attempt_count) for row in rows} == {("succeeded", 1)}
    for run_id in run_ids:
        counts = Counter(seed.event_types(run_id))
        assert counts["worker.claimed"] == 1
        assert counts["run.started"] == 1
        assert counts["worker.finished"] == 1


def test_killed_worker_is_taken_over_after_its_lease_expires(
    db_url: str, seed: Seed, storage_root: Path, gate: Path, tmp_path: Path
) -> None:
    [run_id] = seed.enqueue(seed.document())
    storage = local_storage_overrides(storage_root)
    scratch = tmp_path / "scratch"
    doomed = start_worker_process(
        db_url, storage, engine=GATED_ENGINE, lease_seconds=2.0, scratch_dir=str(scratch)
    )
    wait_for(lambda: gate_started(gate), "the engine to start")
    assert doomed.pid is not None
    engines = children(doomed.pid)
    assert engines
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(30)
    # Its engine child notices the dead parent and exits: no orphan.
    wait_for(lambda: not any(alive(pid) for pid in engines), "the engine child to exit")
    row = seed.run(run_id)
    assert row.status == "running"  # still leased to the dead worker
    # The kill stranded the run's downloaded document in the dead worker's scratch folder.
    assert [path.name for path in scratch.glob(f"*/{run_id}-1/input/*")] == ["people.csv"]
    (gate / "release").touch()
    rescuer = start_worker_process(db_url, storage, engine=GATED_ENGINE, scratch_dir=str(scratch))
    rescuer.join(120)
    assert rescuer.exitcode == 0
    row = seed.run(run_id)
    assert (row.status, row.attempt_count) == ("succeeded", 2)
    counts = Counter(seed.event_types(run_id))
    assert counts["worker.claimed"] == 2
    assert counts["worker.finished"] == 1
    assert counts["lease.expired"] == 1
    # The rescuer removed what the dead worker left, and its own folder when it stopped.
    assert list(scratch.iterdir()) == []


def test_sigterm_finishes_the_run_within_the_grace_period(
    db_url: str, seed: Seed, storage_root: Path, gate: Path
) -> None:
    [run_id] = seed.enqueue(seed.document())
    process = start_worker_process(
        db_url,
        local_storage_overrides(storage_root),
        drain=False,
        engine=GATED_ENGINE,
        grace_seconds=120,
    )
    wait_for(lambda: gate_started(gate), "the engine to start")
    assert process.pid is not None
    engines = children(process.pid)
    os.kill(process.pid, signal.SIGTERM)
    (gate / "release").touch()
    process.join(120)
    assert process.exitcode == 0
    assert seed.run(run_id).status == "succeeded"
    assert not [pid for pid in engines if alive(pid)]


def test_sigterm_releases_the_run_after_the_grace_period(
    db_url: str, seed: Seed, storage_root: Path, gate: Path
) -> None:
    [run_id] = seed.enqueue(seed.document())
    storage = local_storage_overrides(storage_root)
    process = start_worker_process(
        db_url, storage, drain=False, engine=GATED_ENGINE, grace_seconds=0.2
    )
    wait_for(lambda: gate_started(gate), "the engine to start")
    assert process.pid is not None
    engines = children(process.pid)
    assert engines
    os.kill(process.pid, signal.SIGTERM)
    process.join(120)
    assert process.exitcode == 0
    assert not [pid for pid in engines if alive(pid)]
    row = seed.run(run_id)
    assert (row.status, row.attempt_count, row.claimed_by) == ("queued", 0, None)
    assert "worker.released" in seed.event_types(run_id)
    # Released, not lost: the next worker runs it as its first attempt.
    (gate / "release").touch()
    again = start_worker_process(db_url, storage)
    again.join(120)
    assert again.exitcode == 0
    row = seed.run(run_id)
    assert (row.status, row.attempt_count) == ("succeeded", 1)
