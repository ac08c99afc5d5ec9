"""Queue tests run on both backends: ``db_url`` is a migrated SQLite file or PostgreSQL db.
Fault tests that stop the database use ``restartable_postgres``, a server of their own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import (
    ENV_VAR,
    PostgresServer,
    PostgresUnavailable,
    embedded_postgres_server,
)
from tests.worker.run_queue.queue_support import GATE_ENV, Seed, local_store, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "migrated_sqlite_url" if request.param == "sqlite" else "migrated_postgres_url"
    url: str = request.getfixturevalue(name)
    migrate(url)  # a migrated clone: this finds head
    return url


@pytest.fixture()
def storage_root(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture()
def seed(db_url: str, storage_root: Path) -> Seed:
    return Seed.create(db_url, local_store(storage_root))


@pytest.fixture()
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the gated test engines wait on (see queue_support.gated_extract)."""
    folder = tmp_path / "gate"
    folder.mkdir()
    monkeypatch.setenv(GATE_ENV, str(folder))
    return folder


@pytest.fixture()
def restartable_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test's own, which it may stop and start (no other test sees
    the outage). Needs the embedded server: skipped when ADE_TEST_DATABASE_URL names another."""
    if os.environ.get(ENV_VAR, "").strip():
        pytest.skip(f"restarting PostgreSQL needs the embedded server, and {ENV_VAR} is set")
    try:
        with embedded_postgres_server() as server:
            yield server
    except PostgresUnavailable as error:  # one line that says why, not a library traceback
        pytest.fail(str(error), pytrace=False)
