"""Migrations on real databases: up, down, drift, idempotence, refusals, atomicity."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from ade.db import migrate
from ade.db.engine import create_engine
from ade.db.errors import DatabaseNewerThanCode, MigrationFailed, SchemaDrift, UnknownRevision
from ade.db.models import metadata
from ade.db.revisions import packaged_graph

TABLES = {
    "workspaces",
    "api_keys",
    "configurations",
    "documents",
    "runs",
    "run_events",
    "idempotency_keys",
    "sign_in_tokens",
    "web_sessions",
}
HEAD = migrate.heads()[0]
REVISIONS = ["0001", "0002", "0003"]  # every revision, oldest first


def _tables(url: str) -> set[str]:
    engine = create_engine(url, null_pool=True)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def _execute(url: str, sql: str) -> None:
    engine = create_engine(url, null_pool=True)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


def test_single_head_and_fast_reader_agrees_with_alembic() -> None:
    script = migrate.load_script()
    assert len(script.get_heads()) == 1
    graph = packaged_graph()
    assert graph is not None
    assert set(graph.heads) == set(script.get_heads())
    assert set(graph.revisions) == {rev.revision for rev in script.walk_revisions()}


def test_models_cover_exactly_the_issue_tables() -> None:
    assert set(metadata.tables) == TABLES


def test_upgrade_check_downgrade_roundtrip(db_url: str) -> None:
    messages: list[str] = []
    assert migrate.upgrade(db_url, echo=messages.append) == REVISIONS
    assert [m.split(":")[0] for m in messages if m.startswith("applied")] == [
        f"applied {revision}" for revision in REVISIONS
    ]
    assert _tables(db_url) >= TABLES
    assert migrate.current(db_url).at_head
    migrate.check(db_url)  # models and migrations agree on this backend

    # Each step reports where it left the database: the revision below, down to <base>.
    below = [*reversed(REVISIONS[:-1]), "<base>"]
    assert migrate.downgrade(db_url, "base", echo=messages.append) == below
    assert _tables(db_url) & TABLES == set()
    assert migrate.current(db_url).current == ()

    assert migrate.upgrade(db_url, echo=messages.append) == REVISIONS
    migrate.check(db_url)


def test_second_upgrade_is_a_no_op(db_url: str) -> None:
    migrate.upgrade(db_url, echo=lambda _m: None)
    messages: list[str] = []
    assert migrate.upgrade(db_url, echo=messages.append) == []
    assert messages == [f"database is already at head ({HEAD}); nothing to do"]


def test_check_reports_drift(db_url: str) -> None:
    migrate.upgrade(db_url, echo=lambda _m: None)
    _execute(db_url, "ALTER TABLE workspaces ADD COLUMN stray INTEGER")
    with pytest.raises(SchemaDrift) as caught:
        migrate.check(db_url)
    assert "stray" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_check_refuses_a_database_behind_head(db_url: str) -> None:
    with pytest.raises(MigrationFailed, match="run `ade db migrate` first"):
        migrate.check(db_url)


def test_unknown_target_revision(db_url: str) -> None:
    with pytest.raises(UnknownRevision, match=f"unknown revision 'nope' \\(head is {HEAD}\\)"):
        migrate.upgrade(db_url, "nope", echo=lambda _m: None)


def test_database_newer_than_code_is_refused(db_url: str) -> None:
    migrate.upgrade(db_url, echo=lambda _m: None)
    _execute(db_url, "UPDATE alembic_version SET version_num = 'f00dcafe9999'")
    expected = f"database is at revision f00dcafe9999, newer than this ade-db knows (head {HEAD})"
    with pytest.raises(
        DatabaseNewerThanCode, match=expected.replace("(", "\\(").replace(")", "\\)")
    ):
        migrate.upgrade(db_url, echo=lambda _m: None)
    with pytest.raises(DatabaseNewerThanCode):
        migrate.current(db_url)
    # Stamping is the repair tool: it may overwrite the unknown revision.
    migrate.stamp(db_url, HEAD, echo=lambda _m: None)
    assert migrate.current(db_url).at_head


def test_failed_migration_leaves_database_at_last_good_revision(db_url: str) -> None:
    # A table in the way makes 0001 fail at its last CREATE TABLE: everything before it must be
    # rolled back (transactional DDL on both backends), the version must stay at base.
    _execute(db_url, "CREATE TABLE run_events (x INTEGER)")
    with pytest.raises(MigrationFailed, match="database left at revision <base>"):
        migrate.upgrade(db_url, echo=lambda _m: None)
    assert _tables(db_url) & TABLES == {"run_events"}
    assert migrate.current(db_url).current == ()


def test_sql_only_prints_ddl_and_does_not_touch_the_database(tmp_path: Path) -> None:
    db_file = tmp_path / "nothing" / "ade.sqlite"
    out = io.StringIO()
    migrate.upgrade(f"sqlite:///{db_file}", sql_only=True, sql_output=out)
    assert "CREATE TABLE runs" in out.getvalue()
    assert "CREATE UNIQUE INDEX uq_configurations_one_active_per_workspace" in out.getvalue()
    assert not db_file.parent.exists()


def test_sql_only_for_postgresql_renders_jsonb_without_connecting() -> None:
    out = io.StringIO()
    migrate.upgrade("postgresql+psycopg://u:pw@127.0.0.1:1/none", sql_only=True, sql_output=out)
    assert "JSONB" in out.getvalue()
    assert "WHERE status = 'active'" in out.getvalue()


def test_history_lists_revisions() -> None:
    out = io.StringIO()
    migrate.history(verbose=True, out=out)
    assert f"{HEAD} (head)" in out.getvalue()
    assert "0001" in out.getvalue()
