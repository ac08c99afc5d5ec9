"""`ade storage ...`: operate the blob store.

Only typer is imported at module level: `ade --help` must not import boto3 or pydantic.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

import typer

from ade.cli.commands.db import DatabaseUrl

_AGE = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

app = typer.Typer(help="Blob storage (local folder or S3).", no_args_is_help=True)


@app.callback()
def _storage() -> None:
    """Blob storage (local folder or S3)."""
    # A callback keeps commands sub-commands (`ade storage check`), whatever their number.


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


def parse_age(text: str) -> timedelta:
    """``90s``, ``15m``, ``6h``, ``2d`` or a number of seconds."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise typer.BadParameter(f"{text!r}: expected e.g. 90s, 15m, 6h or 2d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _age(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


@app.command()
def gc(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")
    ] = False,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Judge only blobs and leftovers older than this: 90s, 15m, 6h, 2d. Anything "
            "younger may be an upload whose row is still being written. Shorter than a few "
            "minutes is only safe while no API is running.",
        ),
    ] = "24h",
    database_url: DatabaseUrl = None,
) -> None:
    """Remove blobs that no database row points at, and leftovers of interrupted writes.

    Orphan blobs come from an API killed between storing an upload and recording it; leftovers
    are temporary files of interrupted writes and (S3) multipart uploads never completed, whose
    parts are billed until aborted. Blobs a document or run row references are never removed,
    nor keys ADE does not build. Prints one line per item on stdout (action, kind, size in
    bytes, age, name) and a summary on stderr. Exit 0 on success, 1 on error.
    """
    age = parse_age(older_than)
    from ade.db.errors import DatabaseError
    from ade.storage import StorageError, open_store

    try:
        from ade.db.engine import create_engine
        from ade.db.migrate import require_head

        url = require_head(database_url, migrate_with="ade db migrate")
        store = open_store()
        from ade.worker.storage_gc import collect_garbage

        db = create_engine(url, null_pool=True)
        try:
            report = collect_garbage(db, store, age, dry_run=dry_run)
        finally:
            db.dispose()
    except (DatabaseError, StorageError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    action = "would-remove" if dry_run else "removed"
    for item in report.garbage:
        size = "-" if item.size is None else str(item.size)
        typer.echo(f"{action}\t{item.kind}\t{size}\t{_age(item.age)}\t{item.name}")
    done = "would be removed (dry run)" if dry_run else "removed"
    typer.echo(
        f"storage gc ({store.location}, older than {_age(age)}): "
        f"{len(report.orphans)} orphan blob(s) and {len(report.leftovers)} leftover(s) of "
        f"interrupted writes, {report.garbage_bytes} bytes, {done}; kept "
        f"{report.referenced} referenced, {report.young} newer, {report.foreign} foreign",
        err=True,
    )
