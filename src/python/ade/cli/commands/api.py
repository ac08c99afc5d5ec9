"""`ade api ...`: serve the HTTP API, and migrate the database it needs.

Only typer is imported at module level (`ade --help` must stay fast); FastAPI, uvicorn and
SQLAlchemy are imported inside the commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ade.cli.commands.db import DatabaseUrl, migrate_command

app = typer.Typer(help="The HTTP API: serve it, migrate its database.", no_args_is_help=True)


@app.command()
def start(
    host: Annotated[
        str | None,
        typer.Option("--host", help="Interface to bind (default ADE_API_HOST or 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="TCP port (default ADE_API_PORT or 8000)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes (default ADE_API_WORKERS or 1).",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the API (uvicorn) until Ctrl-C or SIGTERM. Refuses to start on an unmigrated
    database."""
    try:
        from ade.api.server import NotReady, serve
        from ade.api.settings import ApiSettingsError, load_settings
        from ade.db.errors import DatabaseError
        from ade.storage.errors import StorageError

        given = {"api_host": host, "api_port": port, "api_workers": workers}
        overrides = {name: value for name, value in given.items() if value is not None}
        settings = load_settings(**overrides)
        serve(settings=settings, database_url=database_url)
    except (NotReady, DatabaseError, StorageError, ApiSettingsError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        raise typer.Exit(code=0) from None


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Upgrade the database to head (same as `ade db migrate`)."""
    migrate_command(database_url=database_url)


if __name__ == "__main__":
    app()
