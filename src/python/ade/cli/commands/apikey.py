"""`ade apikey ...`: create (the secret is printed once, on stdout) and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from ade.cli.commands.db import DatabaseUrl
from ade.cli.commands.workspace import admin_session

app = typer.Typer(help="API keys: create and revoke.", no_args_is_help=True)


@app.command()
def create(
    workspace: Annotated[str, typer.Option("--workspace", help="Workspace slug or id.")],
    name: Annotated[str, typer.Option("--name", help="A label for the key.")] = "default",
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key for a workspace and print it once (only its hash is stored)."""
    with admin_session(database_url) as session:
        from ade.api.admin import create_api_key, find_workspace

        created = create_api_key(session, find_workspace(session, workspace), name)
    typer.echo(created.secret)
    typer.echo(
        f"created API key {created.prefix} for workspace {created.workspace_slug!r};"
        " store it now: it cannot be shown again",
        err=True,
    )


@app.command()
def revoke(
    prefix: Annotated[str, typer.Argument(help="Key prefix (12 hex characters) or key id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key; it stops working on the next request."""
    with admin_session(database_url) as session:
        from ade.api.admin import revoke_api_key

        key = revoke_api_key(session, prefix)
        shown = key.prefix
    typer.echo(f"revoked API key {shown}", err=True)


if __name__ == "__main__":
    app()
