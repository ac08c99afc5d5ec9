"""`ade workspace ...`: create and list workspaces (tenants of the API).

Heavy imports (SQLAlchemy, ade.api.admin) happen inside the commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from ade.cli.commands.db import DatabaseUrl

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Workspaces: create and list.", no_args_is_help=True)


@contextmanager
def admin_session(database_url: str | None) -> Iterator[Session]:
    """A session on a migrated database; every failure becomes one `error:` line, exit 1.

    Commits when the block succeeds. On SQLite the session's transaction starts with
    ``BEGIN IMMEDIATE``, as every other writer's does: admin commands read (is the slug taken?)
    then write, and a deferred transaction whose snapshot another writer has made stale fails at
    once with "database is locked" instead of waiting out the busy timeout.
    """
    try:
        from sqlalchemy.exc import SQLAlchemyError

        from ade.api.admin import AdminError
        from ade.api.server import NotReady, check_database
        from ade.db.engine import create_engine, create_session_factory
        from ade.db.errors import DatabaseError

        try:
            check_database(database_url)
            engine = create_engine(database_url, null_pool=True, sqlite_begin="BEGIN IMMEDIATE")
            try:
                with create_session_factory(engine)() as session:
                    yield session
                    session.commit()
            finally:
                engine.dispose()
        except (AdminError, NotReady, DatabaseError) as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=1) from None
        except SQLAlchemyError as error:
            typer.echo(f"error: database error: {' '.join(str(error).split())[:300]}", err=True)
            raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        raise typer.Exit(code=1) from None


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="Display name.")],
    slug: Annotated[
        str | None,
        typer.Option("--slug", help="URL name (default: derived from NAME).", show_default=False),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a workspace (with the default configuration active); prints its slug and id."""
    with admin_session(database_url) as session:
        from ade.api.admin import create_workspace

        workspace = create_workspace(session, name, slug)
        slug_out, id_out = workspace.slug, workspace.id
    typer.echo(f"{slug_out}\t{id_out}")
    typer.echo(
        f"created workspace {slug_out!r}; next: ade apikey create --workspace {slug_out}", err=True
    )


@app.command("list")
def list_command(database_url: DatabaseUrl = None) -> None:
    """List workspaces: slug, id, name (tab-separated)."""
    with admin_session(database_url) as session:
        from ade.api.admin import list_workspaces

        rows = [(w.slug, w.id, w.name) for w in list_workspaces(session)]
    for slug, workspace_id, name in rows:
        typer.echo(f"{slug}\t{workspace_id}\t{name}")


if __name__ == "__main__":
    app()
