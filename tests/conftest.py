"""Fixtures shared by every test area: real databases and a real S3 endpoint.

- ``postgres_server`` (session): a real PostgreSQL (embedded, or ``ADE_TEST_DATABASE_URL``).
- ``postgres_url``: a fresh, empty PostgreSQL database for one test.
- ``sqlite_url``: a SQLite file URL in the test's tmp_path (the file does not exist yet).
- ``migrated_postgres_url`` / ``migrated_sqlite_url``: the same, already migrated to head: a
  clone of a database migrated once per test process (``CREATE DATABASE ... TEMPLATE``; a file
  copy for SQLite), not a migration per test (~0.25 s each).
- ``unused_tcp_port``: a local port nothing listens on.
- ``moto`` (session): moto's S3 server over HTTP; ``aws_env``: the fake credentials it accepts.

tests.support.postgres (psycopg, SQLAlchemy) is imported inside the fixtures, so test areas
that never ask for a database do not pay for it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

# No timing thresholds in tests: Hypothesis' default 200 ms deadline per example turns a busy
# 2-core CI machine into flaky failures, so property tests here judge behaviour only.
# The default profile is derandomized: a commit passes or fails the same way every time (CI once
# failed on an input no earlier run had drawn). Searching for new failures is a separate, longer
# job: `HYPOTHESIS_PROFILE=fuzz pants test ::` draws fresh random inputs, 50x as many.
settings.register_profile("ade", deadline=None, derandomize=True)


def pytest_configure(config: pytest.Config) -> None:
    # Tests that run the engine on a file of Excel's size (15 s or more): they run by
    # default; `-m "not slow"` leaves them out of a quick local loop.
    config.addinivalue_line("markers", "slow: a test that takes a quarter of a minute or more")


settings.register_profile("fuzz", deadline=None, max_examples=5_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ade"))

if TYPE_CHECKING:
    from tests.support.postgres import PostgresServer
    from tests.support.s3 import MotoS3


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    from tests.support.postgres import PostgresUnavailable
    from tests.support.postgres import postgres_server as start_postgres

    try:
        with start_postgres() as server:
            yield server
    except PostgresUnavailable as error:  # one line that says why, not a library traceback
        pytest.fail(str(error), pytrace=False)


@pytest.fixture()
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    from tests.support.postgres import fresh_database

    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'ade.sqlite'}"


def _migrate(url: str) -> None:
    from ade.db.migrate import upgrade

    upgrade(url, echo=lambda _line: None)


@pytest.fixture(scope="session")
def migrated_postgres_template(postgres_server: PostgresServer) -> Iterator[str]:
    """Name of a database migrated to head once per test process, to clone (never connected to
    afterwards: CREATE DATABASE ... TEMPLATE needs it idle)."""
    name = postgres_server.create_database()
    try:
        _migrate(postgres_server.url(name))
        yield name
    finally:
        postgres_server.drop_database(name)


@pytest.fixture()
def migrated_postgres_url(
    postgres_server: PostgresServer, migrated_postgres_template: str
) -> Iterator[str]:
    name = f"ade_test_{uuid.uuid4().hex[:12]}"
    postgres_server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_postgres_template}"')
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per test process, to copy."""
    path = tmp_path_factory.mktemp("migrated") / "ade.sqlite"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture()
def migrated_sqlite_url(sqlite_url: str, migrated_sqlite_template: Path) -> str:
    target = Path(sqlite_url.removeprefix("sqlite:///"))
    target.parent.mkdir(parents=True, exist_ok=True)
    # The migration's connections are closed, so the whole database is in the one file.
    shutil.copyfile(migrated_sqlite_template, target)
    return sqlite_url


@pytest.fixture()
def unused_tcp_port() -> int:
    """A local TCP port with nothing listening (bound, then closed)."""
    from tests.support.ports import free_port

    return free_port()


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoS3]:
    from tests.support.s3 import moto_server

    with moto_server() as s3:
        yield s3


@pytest.fixture()
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.s3 import AWS_TEST_ENV

    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
