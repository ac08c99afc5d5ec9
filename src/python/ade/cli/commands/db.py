"""`ade db ...`: create, upgrade, inspect and repair the database schema.

Only typer is imported at module level: `ade --help` must not import SQLAlchemy, Alembic or
pydantic. Each command imports ``ade.db.migrate`` (and so SQLAlchemy/Alembic) when it runs.

Output: data (revisions, history, DDL) on stdout; progress and errors on stderr. Exit 0 ok,
1 failure (one line, no traceback, never a password), 2 usage error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer

app = typer.Typer(
    help="Database schema: migrate, inspect and repair (SQLite or PostgreSQL).",
    no_args_is_help=True,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL; overrides ADE_DATABASE_URL (default: <ADE_DATA_DIR>/db/ade.sqlite).",
        show_default=False,
    ),
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Every failure becomes one `error: ...` line on stderr and exit code 1."""
    from ade.db.errors import DatabaseError

    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except DatabaseError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        _fail("interrupted")
    except OSError as error:
        _fail(f"{error.strerror or error}" + (f": {error.filename}" if error.filename else ""))
    except Exception as error:  # a bug or an unforeseen driver error: still one line
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError):
            _fail(f"database error: {' '.join(str(error).split())[:300]}")
        _fail(f"unexpected {type(error).__name__}: {' '.join(str(error).split())[:300]}")


def migrate_command(
    revision: str = "head", sql: bool = False, database_url: str | None = None
) -> None:
    """`ade db migrate` as a plain function, so `ade api migrate` can reuse it."""
    with _one_line_errors():
        from ade.db.migrate import upgrade

        upgrade(database_url, revision, sql_only=sql, echo=lambda line: typer.echo(line, err=True))


@app.command()
def migrate(
    revision: Annotated[
        str, typer.Argument(help="Target revision (default: head).", show_default=False)
    ] = "head",
    sql: Annotated[
        bool, typer.Option("--sql", help="Print the DDL instead of running it (no connection).")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Upgrade the database to head (or REVISION). Idempotent; safe to run concurrently."""
    migrate_command(revision, sql, database_url)


@app.command()
def current(database_url: DatabaseUrl = None) -> None:
    """Print the database's revision and whether it is at head."""
    with _one_line_errors():
        from ade.db.migrate import current as read_current

        state = read_current(database_url)
        position = ", ".join(state.current) if state.current else "<base>"
        head = ", ".join(state.heads)
        if state.at_head:
            typer.echo(f"{position} (head)")
        else:
            typer.echo(f"{position} (head is {head}: run `ade db migrate`)")


@app.command()
def history(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show full details.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List the migrations this version of ADE knows, newest first (no connection needed)."""
    del database_url  # accepted like everywhere; the history is this code's, not the database's
    with _one_line_errors():
        from ade.db.migrate import history as show_history

        show_history(verbose)


@app.command()
def stamp(
    revision: Annotated[str, typer.Argument(help="Revision to record, e.g. head.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Record REVISION as current without running migrations (repairs, adopting a schema)."""
    with _one_line_errors():
        from ade.db.migrate import stamp as do_stamp

        do_stamp(database_url, revision, echo=lambda line: typer.echo(line, err=True))


@app.command()
def downgrade(
    revision: Annotated[
        str,
        typer.Argument(
            help="Target revision: base, a revision id, or a relative step after `--` (`-- -1`)."
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Downgrade the database to REVISION. Drops tables and data: asks first unless --yes."""
    with _one_line_errors():
        from ade.db.engine import display_url, resolve_database_url
        from ade.db.migrate import downgrade as do_downgrade

        url = resolve_database_url(database_url)
        if not yes:
            try:
                confirmed = typer.confirm(
                    f"Downgrade {display_url(url)} to {revision}? This can delete data.",
                    err=True,
                )
            except (typer.Abort, EOFError):
                confirmed = False
            if not confirmed:
                _fail("downgrade not confirmed (pass --yes to skip the question)")
        do_downgrade(url, revision, echo=lambda line: typer.echo(line, err=True))


@app.command()
def check(database_url: DatabaseUrl = None) -> None:
    """Verify the migrated schema matches the models exactly (no drift)."""
    with _one_line_errors():
        from ade.db.migrate import check as do_check
        from ade.db.migrate import heads

        do_check(database_url)
        typer.echo(f"schema at head ({', '.join(heads())}) matches the models")
