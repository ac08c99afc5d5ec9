"""The retry rules for database outages: what counts as an outage, how long it is ridden out,
and that shutdown or a real bug stops the retrying at once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from ade.db.errors import DatabaseUnavailable
from ade.worker.errors import DatabaseGaveUp, is_database_outage
from ade.worker.outage import DatabaseHealth, retry_database


def down() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("the database system is shutting down"))


def failing(times: int, error: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "ok"

    return calls, call


def test_outages_are_retried_until_the_database_answers() -> None:
    health = DatabaseHealth(outage_seconds=60)
    calls, call = failing(3, down())
    assert retry_database(call, health, "write") == "ok"  # type: ignore[arg-type]
    assert len(calls) == 4
    assert not health.failing
    assert health.recently_failed(60)


def test_an_outage_longer_than_the_bound_gives_up() -> None:
    health = DatabaseHealth(outage_seconds=0.3)
    calls, call = failing(10_000, DatabaseUnavailable("cannot connect"))
    with pytest.raises(DatabaseGaveUp, match="unavailable for more than 0s"):
        retry_database(call, health, "write")  # type: ignore[arg-type]
    assert len(calls) > 1 and health.exceeded()


def test_shutdown_stops_the_retrying() -> None:
    stop = threading.Event()
    stop.set()
    calls, call = failing(10_000, down())
    with pytest.raises(DatabaseGaveUp, match="shutting down"):
        retry_database(call, DatabaseHealth(60), "write", stop)  # type: ignore[arg-type]
    assert len(calls) == 1  # one try, no waiting


def test_a_bug_is_not_an_outage() -> None:
    bug = IntegrityError("INSERT", {}, Exception("duplicate key"))
    calls, call = failing(1, bug)
    with pytest.raises(IntegrityError):
        retry_database(call, DatabaseHealth(60), "write")  # type: ignore[arg-type]
    assert len(calls) == 1
    assert not is_database_outage(bug)
    assert not is_database_outage(ValueError("bug"))
    assert is_database_outage(down())


def test_a_missing_input_inside_the_worker_is_the_machines_fault() -> None:
    """The worker downloaded the input into its scratch folder just before: if the engine then
    cannot find it, the folder was removed underneath the run (infrastructure), so the failure
    is retried, never recorded as the document's."""
    from ade.worker.errors import engine_failure

    missing = engine_failure("file_not_found", "no such file: /scratch/w/run-1/input/a.csv")
    assert (missing.code, missing.transient) == ("scratch_missing", True)
    unreadable = engine_failure("unreadable_file", "not a workbook")
    assert (unreadable.code, unreadable.transient) == ("unreadable_file", False)
