"""`ade storage ...`: operate the blob store.

Only typer is imported at module level: `ade --help` must not import boto3 or pydantic.
"""

from __future__ import annotations

import typer

app = typer.Typer(help="Blob storage (local folder or S3).", no_args_is_help=True)


@app.callback()
def _storage() -> None:
    """Blob storage (local folder or S3)."""
    # A callback keeps `check` a sub-command (`ade storage check`) even while it is the only one.


@app.command()
def check() -> None:
    """Show the configured backend and location, and prove the store is writable.

    Writes, reads back and deletes a small probe object. Exit 0 if writable, 1 otherwise.
    """
    from ade.storage import StorageError, open_store

    try:
        store = open_store()
    except StorageError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"backend: {store.backend}")
    typer.echo(f"location: {store.location}")
    try:
        store.check()
    except StorageError as error:
        typer.echo("writable: no")
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo("writable: yes")
