"""Alembic environment for ade-db.

Three ways in:
- a live Connection in ``config.attributes["connection"]`` (Dagster style): ``ade.db.migrate``
  opens it, holds the migration lock on it and runs the migrations on that same connection;
- an Engine there instead (Alembic's cookbook pattern, which pytest-alembic and other tools
  follow): the migrations run on a connection of that engine;
- otherwise a URL in ``sqlalchemy.url``: an engine is built by ``ade.db.engine`` (the one place
  that builds engines), for plain ``alembic -c ...`` use.

Each revision runs in its own transaction (``transaction_per_migration``), also on SQLite where
ade.db.engine makes DDL transactional, so a failing revision leaves the database at the last good
one. A callable in ``config.attributes["on_version_apply"]`` is told about every applied step.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine

from ade.db.engine import create_engine
from ade.db.models import metadata

config = context.config


def _options(dialect_name: str) -> dict[str, Any]:
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "compare_type": True,
        "transaction_per_migration": True,
        # SQLite cannot ALTER most things in place; batch mode recreates the table instead.
        "render_as_batch": dialect_name == "sqlite",
    }
    if dialect_name == "sqlite":
        # ade.db.engine emits real BEGINs on SQLite, so its DDL is transactional too.
        options["transactional_ddl"] = True
    callback = config.attributes.get("on_version_apply")
    if callback is not None:
        options["on_version_apply"] = callback
    return options


def run_migrations_offline() -> None:
    """``--sql``: render the DDL for the URL's dialect, touch no database."""
    url = config.get_main_option("sqlalchemy.url")
    dialect_name = (url or "sqlite").split(":", 1)[0].split("+", 1)[0]
    options = _options(dialect_name)
    options.pop("on_version_apply", None)
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Engine):
        with given.connect() as connection:
            _run_on(connection)
        return
    if given is not None:
        _run_on(given)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or None, null_pool=True)
    try:
        with engine.connect() as fresh:
            _run_on(fresh)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
