"""The engine child's protocol: a reply can only belong to its own job.

A child left working on an abandoned job is killed before its slot takes another; a reused
(idle) child is kept; a message carrying another job's token is never read as this job's; and
a child that hits the machine's limits (disk full) reports a transient failure.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ade.db.configuration_spec import default_configuration
from ade.worker.child import EngineJob, EngineProcess, EngineResult
from ade.worker.errors import RunFailed
from tests.support.processes import alive
from tests.support.waiting import wait_for
from tests.worker.run_queue.queue_support import (
    CHATTY_ENGINE,
    DISK_FULL_ENGINE,
    gate_started,
)

SPEC = default_configuration().model_dump(mode="json")


@pytest.fixture()
def engine() -> Iterator[EngineProcess]:
    process = EngineProcess(CHATTY_ENGINE)
    yield process
    process.close()


def job(tmp_path: Path, name: str, rows: int) -> EngineJob:
    source = tmp_path / name
    lines = ["First Name,Last Name"] + [f"{name}-{n},Person" for n in range(rows)]
    source.write_text("\n".join(lines) + "\n")
    return EngineJob(f"run-{name}/1", str(source), SPEC, str(tmp_path / f"out-{name}"))


def run(
    engine: EngineProcess,
    job: EngineJob,
    events: list[dict[str, Any]],
    tick: Any = lambda: None,
) -> EngineResult:
    return engine.run(job, events.append, lambda: None, tick, poll_seconds=0.02)


def pid(engine: EngineProcess) -> int:
    assert engine._process is not None and engine._process.pid is not None
    return engine._process.pid


def test_an_idle_child_is_reused_for_the_next_job(
    engine: EngineProcess, gate: Path, tmp_path: Path
) -> None:
    (gate / "release").touch()
    events: list[dict[str, Any]] = []
    first = run(engine, job(tmp_path, "first.csv", 3), events)
    child = pid(engine)
    second = run(engine, job(tmp_path, "second.csv", 2), events)
    assert pid(engine) == child
    assert (first.summary["file"], first.summary["rows"]) == ("first.csv", 3)
    assert (second.summary["file"], second.summary["rows"]) == ("second.csv", 2)


def test_a_job_abandoned_midway_kills_its_child_and_the_next_job_gets_its_own_reply(
    engine: EngineProcess, gate: Path, tmp_path: Path
) -> None:
    """What a database outage did before: a callback raised while the engine was busy."""
    events: list[dict[str, Any]] = []

    def database_down() -> None:
        if events:  # the engine is busy with the job and reporting progress
            raise ConnectionError("database unavailable")

    with pytest.raises(ConnectionError):
        run(engine, job(tmp_path, "abandoned.csv", 50), events, tick=database_down)
    assert gate_started(gate)
    abandoned_child = int(gate_started(gate)[0].name.split("-")[1])
    wait_for(lambda: not alive(abandoned_child), "the abandoned job's child to be gone")
    (gate / "release").touch()  # had it survived, it would now finish the abandoned job

    later: list[dict[str, Any]] = []
    result = run(engine, job(tmp_path, "next.csv", 4), later)
    assert pid(engine) != abandoned_child
    assert (result.summary["file"], result.summary["rows"]) == ("next.csv", 4)
    files = {event["file"] for event in later if "file" in event}
    assert files == {"next.csv"}
    assert engine.discarded == 0


class _IdleProcess:
    """Stands in for a live child process while the test plays the child's side of the pipe."""

    pid = 0
    exitcode = None

    def is_alive(self) -> bool:
        return True

    def kill(self) -> None: ...

    def join(self, _timeout: float | None = None) -> None: ...


def test_a_message_with_another_jobs_token_is_never_read_as_this_jobs(tmp_path: Path) -> None:
    import multiprocessing

    parent_end, child_end = multiprocessing.Pipe()
    engine = EngineProcess(CHATTY_ENGINE)
    engine._process, engine._connection = _IdleProcess(), parent_end  # type: ignore[assignment]

    def child() -> None:
        _, token, *_ = child_end.recv()
        stale = "run-earlier/1:0123456789ab"
        child_end.send(("event", stale, {"event": "run.started", "file": "earlier.csv"}))
        child_end.send(("done", stale, {"file": "earlier.csv"}, 1.0))
        child_end.send(("event", token, {"event": "run.started", "file": "mine.csv"}))
        child_end.send(("done", token, {"file": "mine.csv"}, 0.5))

    player = threading.Thread(target=child)
    player.start()
    events: list[dict[str, Any]] = []
    result = run(engine, job(tmp_path, "mine.csv", 1), events)
    player.join(10)
    assert result.summary == {"file": "mine.csv"}
    assert events == [{"event": "run.started", "file": "mine.csv"}]
    assert engine.discarded == 2


def test_disk_full_in_the_child_is_a_transient_failure(tmp_path: Path) -> None:
    engine = EngineProcess(DISK_FULL_ENGINE)
    try:
        with pytest.raises(RunFailed) as caught:
            run(engine, job(tmp_path, "any.csv", 1), [])
        child = pid(engine)
        failure = caught.value.failure
        assert (failure.code, failure.transient) == ("io_error", True)
        assert "No space left on device" in failure.message
        with pytest.raises(RunFailed):
            run(engine, job(tmp_path, "again.csv", 1), [])
        assert pid(engine) == child  # a reported failure leaves the child idle, not killed
    finally:
        engine.close()
