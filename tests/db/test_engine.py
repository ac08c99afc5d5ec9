"""URL handling and the default database location: clear one-line errors, no passwords."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ade.db.engine import create_engine, display_url, parse_url, resolve_database_url
from ade.db.errors import DatabaseUnavailable, InvalidDatabaseUrl
from ade.db.migrate import status
from ade.db.settings import load_settings

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "database URL is empty"),
        ("not a url", "malformed database URL"),
        (f"postgresql://u:{SECRET}@host:notaport/db", "malformed database URL"),
        (f"mysql://u:{SECRET}@host/db", "unsupported database 'mysql'"),
        (f"postgresql+psycopg2://u:{SECRET}@host/db", "unsupported PostgreSQL driver 'psycopg2'"),
    ],
)
def test_bad_urls_are_one_clear_line_without_password(url: str, message: str) -> None:
    with pytest.raises(InvalidDatabaseUrl) as caught:
        parse_url(url)
    text = str(caught.value)
    assert message in text
    assert SECRET not in text
    assert "\n" not in text


def test_postgresql_means_psycopg() -> None:
    assert parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgres://u@h/db").drivername == "postgresql+psycopg"


def test_display_url_hides_password() -> None:
    assert SECRET not in display_url(f"postgresql+psycopg://u:{SECRET}@h/db")


def test_default_is_a_sqlite_file_under_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ADE_DATABASE_URL", raising=False)
    monkeypatch.setenv("ADE_DATA_DIR", str(tmp_path / "data"))
    url = resolve_database_url()
    assert url.database == str(tmp_path / "data" / "db" / "ade.sqlite")
    assert not (tmp_path / "data").exists()  # reading settings touches nothing
    engine = create_engine()
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
    assert (tmp_path / "data" / "db" / "ade.sqlite").is_file()


def test_blank_env_url_means_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADE_DATABASE_URL", "  ")
    monkeypatch.setenv("ADE_DATA_DIR", str(tmp_path))
    assert load_settings().url.endswith("/db/ade.sqlite")


def test_env_url_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADE_DATABASE_URL", "postgresql://u@h/db")
    assert resolve_database_url().drivername == "postgresql+psycopg"


def test_closed_port_is_one_line_without_password(unused_tcp_port: int) -> None:
    url = f"postgresql+psycopg://ade:{SECRET}@127.0.0.1:{unused_tcp_port}/ade"
    with pytest.raises(DatabaseUnavailable) as caught:
        status(url)
    text = str(caught.value)
    assert text.startswith(
        f"cannot connect to postgresql+psycopg://ade:***@127.0.0.1:{unused_tcp_port}/ade"
    )
    assert SECRET not in text
    assert "\n" not in text


def test_sqlite_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseUnavailable, match="cannot create the SQLite folder"):
        create_engine(f"sqlite:///{blocker}/db/ade.sqlite")


def test_autocommit_engines_hold_no_transaction_between_statements(db_url: str) -> None:
    """What the API's read engine relies on: a read leaves nothing open (no BEGIN/ROLLBACK
    round trips, no snapshot kept), where a default engine's connection is in a transaction."""
    for autocommit in (True, False):
        engine = create_engine(db_url, autocommit=autocommit)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1")).one()
                driver = connection.connection.dbapi_connection
                if engine.dialect.name == "sqlite":
                    in_transaction = driver.in_transaction  # type: ignore[union-attr]
                else:
                    in_transaction = driver.info.transaction_status != 0  # type: ignore[union-attr]
                assert in_transaction is not autocommit
        finally:
            engine.dispose()
