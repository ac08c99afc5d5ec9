"""`ade db ...` as a user runs it: a child process, real databases, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ade.db.migrate import heads
from tests.support.db_cli import ade, child_env
from tests.support.postgres import PostgresServer

HEAD = heads()[0]

SECRET = "s3cr3t-Pa55word"


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_help_does_not_import_heavy_libraries() -> None:
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['ade', '--help']\n"
        "try:\n"
        "    runpy.run_module('ade.cli.commands.main', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'sqlalchemy', 'alembic', 'pydantic', 'pydantic_settings', 'psycopg'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=child_env(), capture_output=True, text=True, check=False
    )
    assert "db" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr


def test_db_help_lists_the_commands() -> None:
    result = ade("db", "--help")
    assert result.returncode == 0
    for command in ("migrate", "current", "history", "stamp", "downgrade", "check"):
        assert command in result.stdout


def test_migrate_then_again_then_inspect(sqlite_url: str) -> None:
    first = ade("db", "migrate", "--database-url", sqlite_url)
    assert first.returncode == 0, first.stderr
    assert "applied 0001" in first.stderr
    second = ade("db", "migrate", "--database-url", sqlite_url)
    assert second.returncode == 0, second.stderr
    assert f"already at head ({HEAD})" in second.stderr
    current = ade("db", "current", "--database-url", sqlite_url)
    assert current.stdout.strip() == f"{HEAD} (head)"
    check = ade("db", "check", "--database-url", sqlite_url)
    assert check.returncode == 0, check.stderr
    history = ade("db", "history", "--verbose")
    assert f"{HEAD} (head)" in history.stdout


def test_postgresql_migrate_and_check(postgres_url: str) -> None:
    assert ade("db", "migrate", "--database-url", postgres_url).returncode == 0
    result = ade("db", "check", "--database-url", postgres_url)
    assert result.returncode == 0, result.stderr


def test_environment_and_default_location(tmp_path: Path) -> None:
    result = ade("db", "migrate", env={"ADE_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "db" / "ade.sqlite").is_file()
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    assert ade("db", "migrate", env={"ADE_DATABASE_URL": url}).returncode == 0
    assert (tmp_path / "env.sqlite").is_file()
    # --database-url beats the environment.
    other = f"sqlite:///{tmp_path / 'flag.sqlite'}"
    assert ade("db", "current", "--database-url", other, env={"ADE_DATABASE_URL": url}).stdout == (
        f"<base> (head is {HEAD}: run `ade db migrate`)\n"
    )


def test_sql_prints_ddl_without_touching_the_database(tmp_path: Path) -> None:
    db_file = tmp_path / "never" / "ade.sqlite"
    result = ade("db", "migrate", "--sql", "--database-url", f"sqlite:///{db_file}")
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE workspaces" in result.stdout
    assert not db_file.parent.exists()


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        (f"postgresql://ade:{SECRET}@host:port/db", "malformed database URL"),
        (f"oracle://ade:{SECRET}@host/db", "unsupported database 'oracle'"),
    ],
)
def test_bad_urls(url: str, needle: str) -> None:
    _assert_one_line_error(ade("db", "migrate", "--database-url", url), needle)


def test_unreachable_server(unused_tcp_port: int) -> None:
    url = f"postgresql+psycopg://ade:{SECRET}@127.0.0.1:{unused_tcp_port}/ade"
    _assert_one_line_error(
        ade("db", "migrate", "--database-url", url), "cannot connect to", "ade:***@127.0.0.1"
    )


def test_wrong_password(postgres_server: PostgresServer, postgres_url: str) -> None:
    postgres_server.role_with_password("ade_pw_test", "right-password")
    database = postgres_url.rsplit("/", 1)[1].split("?", 1)[0]
    good = postgres_server.url(database, user="ade_pw_test", password="right-password")
    bad = postgres_server.url(database, user="ade_pw_test", password=SECRET)
    if ade("db", "current", "--database-url", bad).returncode == 0:
        pytest.skip("this PostgreSQL server does not check passwords")
    _assert_one_line_error(
        ade("db", "migrate", "--database-url", bad), "password authentication failed"
    )
    assert ade("db", "current", "--database-url", good).returncode == 0


def test_unknown_revision(sqlite_url: str) -> None:
    _assert_one_line_error(
        ade("db", "migrate", "f00d", "--database-url", sqlite_url), "unknown revision 'f00d'"
    )
    _assert_one_line_error(
        ade("db", "stamp", "f00d", "--database-url", sqlite_url), "unknown revision 'f00d'"
    )


def test_database_newer_than_code(db_url_for_cli: str) -> None:
    assert ade("db", "migrate", "--database-url", db_url_for_cli).returncode == 0
    from sqlalchemy import text

    from ade.db.engine import create_engine

    engine = create_engine(db_url_for_cli, null_pool=True)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))
    engine.dispose()
    expected = f"database is at revision f00dcafe9999, newer than this ade-db knows (head {HEAD})"
    for command in ("migrate", "current", "check", "downgrade"):
        args = ["db", command, "--database-url", db_url_for_cli]
        if command == "downgrade":
            args[2:2] = ["base", "--yes"]
        _assert_one_line_error(ade(*args), expected)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url_for_cli(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "postgres_url"
    )
    return url


def test_downgrade_asks_first(sqlite_url: str) -> None:
    assert ade("db", "migrate", "--database-url", sqlite_url).returncode == 0
    refused = ade("db", "downgrade", "base", "--database-url", sqlite_url, stdin="n\n")
    assert refused.returncode == 1
    assert "not confirmed" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert ade("db", "current", "--database-url", sqlite_url).stdout.startswith(HEAD)
    no_stdin = ade("db", "downgrade", "base", "--database-url", sqlite_url, stdin="")
    assert no_stdin.returncode == 1
    done = ade("db", "downgrade", "base", "--yes", "--database-url", sqlite_url)
    assert done.returncode == 0, done.stderr
    assert "reverted 0001" in done.stderr
    assert ade("db", "current", "--database-url", sqlite_url).stdout.startswith("<base>")
    again = ade("db", "stamp", "head", "--database-url", sqlite_url)
    assert again.returncode == 0, again.stderr
    assert f"stamped database at {HEAD}" in again.stderr


def test_usage_errors_exit_2() -> None:
    assert ade("db", "stamp").returncode == 2
    assert ade("db", "migrate", "--no-such-flag").returncode == 2
