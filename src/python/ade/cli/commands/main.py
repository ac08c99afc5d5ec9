"""The `ade` command line: one Typer app, with one sub-app per concern in its own module.

Start-up time matters (`ade --help` runs on every shell completion and in every container health
script), so this module and the sub-app modules import only Typer; each command imports the
heavy libraries it needs (SQLAlchemy, Alembic, boto3, FastAPI, openpyxl) inside its function.
"""

from __future__ import annotations

import typer

from ade.api.version import ade_version
from ade.cli.commands import api, apikey, config, db, storage, worker, workspace
from ade.cli.commands.extract import extract_command
from ade.cli.commands.start import start

app = typer.Typer(
    name="ade",
    help="ADE, the Automatic Data Extractor: turns messy CSV/XLSX exports into clean tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("start")(start)
app.add_typer(db.app, name="db")
app.add_typer(api.app, name="api")
app.add_typer(worker.app, name="worker")
app.add_typer(storage.app, name="storage")
app.add_typer(workspace.app, name="workspace")
app.add_typer(apikey.app, name="apikey")
app.command("extract")(extract_command)
app.add_typer(config.app, name="config")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ade {ade_version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """ADE, the Automatic Data Extractor.

    Settings come from ADE_* environment variables (ADE_DATABASE_URL, ADE_DATA_DIR,
    ADE_STORAGE_BACKEND, ...); by default everything lives under ./data.
    """


def run() -> None:
    """Console-script and PEX entry point."""
    app()


if __name__ == "__main__":
    run()
