"""One file cannot take the worker down: the engine child's memory ceiling and wall-clock limit.

A run that reaches either limit fails with ``too_large`` and a reason that names the limit (not
a retry: the same file would fail the same way); the child is replaced and the same slot's next
run succeeds. No test depends on timing: the runs that hit a limit would never end without it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ade.db.configuration_spec import default_configuration
from ade.worker.child import EngineJob, EngineProcess
from ade.worker.engine.zip_limits import MiB, ZipLimits
from ade.worker.errors import RunFailed
from ade.worker.service import Worker
from ade.worker.settings import EngineLimits, load_settings
from tests.support.processes import rss
from tests.support.waiting import wait_for
from tests.support.worker_settings import worker_overrides
from tests.support.xlsx_stream import shared_strings_xml, sheet_xml, write_xlsx_stream
from tests.worker.run_queue.limit_engines import CYCLIC_BYTES, MISBEHAVING_ENGINE
from tests.worker.run_queue.queue_support import TINY_CSV, Seed, local_store, migrate

SPEC = default_configuration().model_dump(mode="json")
CEILING = EngineLimits(memory_bytes=384 * MiB)


@pytest.fixture()
def engine() -> Iterator[EngineProcess]:
    process = EngineProcess(MISBEHAVING_ENGINE, CEILING)
    yield process
    process.close()


def job(tmp_path: Path, name: str) -> EngineJob:
    source = tmp_path / name
    if not source.exists():
        source.write_text("First Name,Last Name\nAda,Lovelace\nAlan,Turing\n")
    return EngineJob(f"run-{name}/1", str(source), SPEC, str(tmp_path / f"out-{name}"))


def run(engine: EngineProcess, job: EngineJob) -> Any:
    return engine.run(job, lambda _event: None, lambda: None, lambda: None, poll_seconds=0.02)


def failure_of(engine: EngineProcess, job: EngineJob) -> Any:
    with pytest.raises(RunFailed) as caught:
        run(engine, job)
    return caught.value.failure


def test_a_run_that_outgrows_the_memory_ceiling_fails_and_the_next_run_succeeds(
    engine: EngineProcess, tmp_path: Path
) -> None:
    failure = failure_of(engine, job(tmp_path, "hungry.csv"))
    assert (failure.code, failure.transient) == ("too_large", False)
    assert "more memory than the engine's limit of 384 MiB" in failure.message
    assert run(engine, job(tmp_path, "next.csv")).summary["rows"] == 2


def test_a_runs_garbage_is_freed_when_it_ends_not_during_the_next_run(
    engine: EngineProcess, tmp_path: Path
) -> None:
    """Garbage in reference cycles left by a run is collected as soon as the run has replied:
    left for a later run's allocations to collect, it would count against that run's ceiling
    (the long-lived child kept ~200 MiB after a 20,000-column CSV)."""
    assert run(engine, job(tmp_path, "cyclic.csv")).summary["rows"] == 2
    pid = engine.pid
    assert pid is not None
    wait_for(lambda: rss(pid) < CYCLIC_BYTES // 2, "the run's garbage to be freed", timeout=30)


def test_a_child_that_aborts_under_the_ceiling_fails_its_run_as_too_large(
    engine: EngineProcess, tmp_path: Path
) -> None:
    """Rust code (calamine) cannot raise MemoryError: an allocation that fails aborts."""
    failure = failure_of(engine, job(tmp_path, "abort.csv"))
    assert (failure.code, failure.transient) == ("too_large", False)
    assert "(SIGABRT)" in failure.message and "384 MiB" in failure.message
    assert run(engine, job(tmp_path, "next.csv")).summary["rows"] == 2


def test_a_real_workbook_beyond_the_ceiling_fails_clearly(
    engine: EngineProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the ZIP limits opened wide, the ceiling alone stops a shared-strings bomb: calamine
    aborts when its string table cannot grow (9 million strings need a 384 MiB vector)."""
    monkeypatch.setenv("RUST_BACKTRACE", "0")  # a symbolized backtrace takes seconds to print
    engine.limits = dataclasses.replace(
        CEILING, zip=ZipLimits(max_ratio=1e9, max_whole_part_bytes=1 << 40)
    )
    bomb = write_xlsx_stream(
        tmp_path / "strings.xlsx",
        sheet_xml([["First Name", "Last Name"], ["Ada", "Lovelace"]]),
        shared_strings_xml(9_000_000),
    )
    failure = failure_of(engine, job(tmp_path, bomb.name))
    assert (failure.code, failure.transient) == ("too_large", False)
    assert "384 MiB" in failure.message
    assert run(engine, job(tmp_path, "next.csv")).summary["rows"] == 2


def test_a_run_past_the_wall_clock_limit_is_stopped_and_the_next_run_succeeds(
    engine: EngineProcess, tmp_path: Path
) -> None:
    engine.limits = dataclasses.replace(CEILING, timeout_seconds=0.5)
    failure = failure_of(engine, job(tmp_path, "hang.csv"))
    assert (failure.code, failure.transient) == ("too_large", False)
    assert "took longer than the engine's limit of 0.5 s" in failure.message
    engine.limits = CEILING  # the next run is not timed: nothing here depends on speed
    assert run(engine, job(tmp_path, "next.csv")).summary["rows"] == 2


def test_the_limits_come_from_the_worker_settings() -> None:
    limits = load_settings(
        engine_memory_mib=700, engine_timeout_seconds=60, zip_max_ratio=50, zip_max_part_mib=10
    ).engine_limits
    assert (limits.memory_bytes, limits.timeout_seconds) == (700 * MiB, 60)
    assert (limits.zip.max_ratio, limits.zip.max_part_bytes) == (50, 10 * MiB)
    defaults = load_settings().engine_limits
    assert (defaults.memory_bytes, defaults.timeout_seconds) == (448 * MiB, 1800)


def test_the_worker_fails_a_run_over_the_ceiling_once_and_goes_on_with_the_next(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Through the whole worker: the run is failed at its first attempt (no retry storm), with
    the reason stored on it, and the run queued after it on the same slot succeeds."""
    migrate(sqlite_url)
    seed = Seed.create(sqlite_url, local_store(tmp_path / "storage"))
    [hungry] = seed.enqueue(seed.document(TINY_CSV, "hungry.csv"), max_attempts=3)
    [after] = seed.enqueue(seed.document(TINY_CSV, "after.csv"))
    settings = worker_overrides(
        engine=MISBEHAVING_ENGINE, engine_memory_mib=384, scratch_dir=str(tmp_path / "scratch")
    )
    worker = Worker(sqlite_url, settings=load_settings(**settings), store=seed.store, drain=True)
    assert worker.run_forever() == 0
    assert worker.outcomes == {"failed": 1, "succeeded": 1}
    failed = seed.run(hungry)
    assert (failed.status, failed.error_code, failed.attempt_count) == ("failed", "too_large", 1)
    assert "limit of 384 MiB" in failed.error_message
    assert seed.run(after).status == "succeeded"
