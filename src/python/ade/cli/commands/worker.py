"""`ade worker start`: run the queue worker (forever, or `--drain` until the queue is empty).

Mount with `app.add_typer(worker.app, name="worker")`. Only Typer is imported at module level;
SQLAlchemy, pydantic and the worker load inside the command.
"""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the extraction worker (claims queued runs).", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return typer.Exit(code)


@app.command("start")
def start(
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        max=64,
        help="Runs processed at once (default ADE_WORKER_CONCURRENCY or 1).",
    ),
    drain: bool = typer.Option(
        False, "--drain", help="Exit (status 0) once no run is queued or running."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Database URL (default ADE_DATABASE_URL / ./data SQLite)."
    ),
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING..."),
) -> None:
    """Claim and execute runs until SIGTERM/SIGINT (or, with --drain, until none are left).

    On SIGTERM/SIGINT the worker stops claiming, lets in-flight runs finish for
    ADE_WORKER_GRACE_SECONDS, then releases them back to the queue; a second signal releases
    them at once.
    """
    import logging

    from ade.db.engine import display_url
    from ade.db.errors import DatabaseError
    from ade.storage.errors import StorageError
    from ade.worker.settings import WorkerSettingsError, load_settings

    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise _fail(f"unknown log level {log_level!r}", 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        overrides = {} if concurrency is None else {"concurrency": concurrency}
        settings = load_settings(**overrides)
        from ade.db.migrate import require_head

        url = require_head(database_url, migrate_with="ade db migrate")
        from ade.storage.factory import open_store

        store = open_store()
    except (WorkerSettingsError, DatabaseError, StorageError) as error:
        raise _fail(str(error)) from None
    from ade.worker.errors import WorkerStartError
    from ade.worker.service import Worker

    typer.echo(f"worker using {display_url(url)} and {store.backend} storage", err=True)
    try:
        code = Worker(url, settings=settings, store=store, drain=drain).run_forever()
    except (DatabaseError, StorageError, WorkerStartError) as error:
        raise _fail(str(error)) from None
    raise typer.Exit(code)
