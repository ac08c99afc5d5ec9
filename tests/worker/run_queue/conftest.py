"""Queue tests run on both backends: ``db_url`` is a migrated SQLite file or PostgreSQL db."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.worker.run_queue.queue_support import Seed, local_store, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    migrate(url)
    return url


@pytest.fixture()
def storage_root(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture()
def seed(db_url: str, storage_root: Path) -> Seed:
    return Seed.create(db_url, local_store(storage_root))
