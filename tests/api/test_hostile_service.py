"""Hostile input through the whole product: `ade start` in real processes, files sent over HTTP.

A few of the hostile-input battery's cases (``tests/support/hostile_cases.py``; all of them run
in ``benchmarks/hostile_inputs.py --through api``): each must end as it does through
``ade extract`` (the same code and message), a formula cell must come out defused in the CSV
the API serves, an upload over the limit must be refused with nothing stored, and after all
of them the same worker process must still run a normal file, with no run left unfinished.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ade_service import TERMINAL, Service, running_service
from tests.support.db_cli import ade
from tests.support.hostile_cases import CASES, OK, Case

RSS_LIMIT = 512 * 1024 * 1024
CHOSEN = [
    "formula injection CSV",
    "shared-strings bomb (80 MB)",
    "XLSX cut in half",
    "HTML 'Excel export' .xls",
    "Shift-JIS CSV",
    "one column of e-mails",
    "empty file",
    "upload over the limit (chunked)",
]
BY_NAME = {case.name: case for case in CASES}
NORMAL = BY_NAME["a normal file afterwards"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("ade") / "data") as started:
        yield started


def _refused(service: Service, case: Case, source: Path) -> None:
    assert case.api_refused is not None
    status, fragment = case.api_refused
    before = service.documents(), service.stored_files()
    reply = service.upload(source, chunked=case.chunked)
    assert reply.status_code == status, reply.text
    assert fragment in reply.json()["detail"]
    assert (service.documents(), service.stored_files()) == before, "something was stored"


def _through_extract(source: Path) -> str:
    """`ade extract`'s one-line error for the file (``error: CODE: MESSAGE``)."""
    done = ade("extract", str(source), "-o", str(source.parent / "out"))
    assert done.returncode == 1, done.stdout
    return done.stderr.strip()


def _processed(service: Service, case: Case, source: Path) -> None:
    reply = service.upload(source, chunked=case.chunked)
    assert reply.status_code == 201, reply.text
    result = service.run(reply.json()["document"]["id"], timeout=300)  # a guard, not a check
    assert result.outcome == case.expect, result.run
    assert case.message in result.message
    if case.expect != OK:
        assert _through_extract(source) == f"error: {result.outcome}: {result.message}"
    assert result.engine_peak < RSS_LIMIT
    if case.expect == OK and case.check is not None:
        case.check(service.outputs(str(result.run["id"])))


@pytest.mark.parametrize("name", CHOSEN)
def test_a_hostile_file_ends_as_expected_and_the_service_stays_up(
    service: Service, name: str, tmp_path: Path
) -> None:
    case = BY_NAME[name]
    source = case.build(tmp_path)
    if case.api_refused is not None:
        _refused(service, case, source)
    else:
        _processed(service, case, source)
    assert service.up()


def test_afterwards_the_same_worker_runs_a_normal_file_and_no_run_was_lost(
    service: Service, tmp_path: Path
) -> None:
    _processed(service, NORMAL, NORMAL.build(tmp_path))
    assert service.up()  # the API and worker processes ade start started, and no others
    statuses = service.run_statuses()
    assert statuses and all(status in TERMINAL for status in statuses), statuses
