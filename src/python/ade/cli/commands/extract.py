"""`ade extract FILE --output DIR`: try a configuration on a local file, no database or storage.

Folders, globs and several files are a batch (:mod:`ade.cli.commands.extract_batch`): each file
runs :func:`run_file`, the single-file run below, into its own folder.

It writes exactly what a worker run stores (normalized.xlsx, tables/<n>.csv, issues.csv,
summary.json, log.ndjson) and prints a short report. The outputs are written to a temporary
folder and moved into DIR only when the run succeeded, so a failed or interrupted run leaves
none behind (only log.ndjson, which ends with "run.failed"), and a problem with the input is one
line on stderr and exit code 1, never a traceback (``ADE_DEBUG=1`` shows one for a bug).

Mount it as a plain command, `app.command("extract")(extract_command)`: a one-command sub-app
would become a group and need `ade extract extract FILE`. Only Typer is imported at module
level (start-up time); the engine, pydantic and the spreadsheet libraries load inside the
command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from ade.db.configuration_spec import ConfigurationSpec
    from ade.worker.engine.pipeline import Summary

# The engine's output names come from ade.worker.engine.output; this one is the CLI's own.
_LOG_NAME = "log.ndjson"
# The run writes here (inside DIR, so moving its outputs into place is a rename) and the folder
# is removed whatever happens.
_STAGING_PREFIX = ".ade-extract-"


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return typer.Exit(code)


def _load_config(path: Path | None) -> ConfigurationSpec:
    from pydantic import ValidationError

    from ade.db.configuration_spec import default_configuration, parse_configuration

    if path is None:
        return default_configuration()
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise _fail(f"configuration file not found: {path}") from None
    except OSError as exc:
        raise _fail(f"cannot read configuration {path}: {exc.strerror}") from None
    try:
        return parse_configuration(text)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        message = first["msg"].removeprefix("Value error, ")
        raise _fail(f"invalid configuration {path.name}: {where}: {message}{more}") from None


def _clear_previous(output: Path) -> None:
    """Remove what an earlier run wrote to DIR (only those names, nothing else)."""
    (output / _LOG_NAME).unlink(missing_ok=True)
    _remove_outputs(output)
    _remove_staging(output)  # left by a killed run


def _remove_outputs(output: Path) -> None:
    """Remove a run's outputs from DIR (only those names), its log and other files kept."""
    from ade.worker.engine.output import ISSUES_NAME, SUMMARY_NAME, TABLES_DIR, XLSX_NAME

    for name in (XLSX_NAME, ISSUES_NAME, SUMMARY_NAME):
        (output / name).unlink(missing_ok=True)
    tables = output / TABLES_DIR
    if tables.is_dir():
        for old in tables.glob("*.csv"):
            if old.stem.isdigit():
                old.unlink()
        with contextlib.suppress(OSError):  # when nothing else is in it
            tables.rmdir()


def _remove_staging(output: Path) -> None:
    for staging in output.glob(f"{_STAGING_PREFIX}*"):
        shutil.rmtree(staging, ignore_errors=True)


def _report(summary: Summary, output: Path) -> list[str]:
    data: dict[str, Any] = summary.as_dict()
    lines = [
        f"{data['file']}: {data['tables_found']} table(s), {data['rows']} row(s), "
        f"{data['issues']['total']} issue(s)"
    ]
    for table in data["tables"]:
        header = ",".join(str(r) for r in table["header_rows"])
        lines.append(
            f"  table {table['number']}: sheet {table['sheet']!r} {table['range']} "
            f"(header row {header}), {table['rows']} row(s), {table['issues']} issue(s)"
        )
        mapped = [
            f"{c['field']}<-{c['column']} {c['header']!r} ({c['score']:.2f})"
            for c in table["mapping"]
            if c["field"]
        ]
        lines.append(f"    mapped: {', '.join(mapped) or 'nothing'}")
        unmapped = [
            f"{c['column']} {c['header']!r} ({c['reason']})"
            for c in table["mapping"]
            if not c["field"]
        ]
        if unmapped:
            lines.append(f"    not mapped: {', '.join(unmapped)}")
        if table["missing_required"]:
            lines.append(f"    missing required: {', '.join(table['missing_required'])}")
    for field, codes in sorted(data["issues"]["by_field"].items()):
        detail = ", ".join(f"{code} {count}" for code, count in sorted(codes.items()))
        lines.append(f"  issues {field}: {detail}")
    lines.append(f"outputs in {output}")
    return lines


class FileFailed(Exception):
    """One file's run failed: `code` and `message` as a worker run reports them, `line` the
    one-line error `ade extract FILE` prints, `exit_code` its exit status."""

    def __init__(self, code: str, message: str, line: str | None = None, exit_code: int = 1):
        super().__init__(message)
        self.code, self.message, self.exit_code = code, message, exit_code
        self.line = line or f"{code}: {message}"


def run_file(
    file: Path, spec: ConfigurationSpec, output: Path, sheets: list[str] | None
) -> Summary:
    """Extract `file` into `output` exactly as `ade extract FILE -o DIR` does; FileFailed for any
    failure (nothing but log.ndjson left behind), KeyboardInterrupt passed on after clean-up.

    `ade extract` of a folder runs this once per file, in worker processes."""
    from ade.worker.engine.errors import EngineError
    from ade.worker.engine.events import NdjsonLog
    from ade.worker.engine.pipeline import extract

    if output.exists() and not output.is_dir():
        message = f"--output {output} exists and is not a directory"
        raise FileFailed("output_error", message, message, 2)
    try:
        output.mkdir(parents=True, exist_ok=True)
        _clear_previous(output)
        # The log before the staging folder: a Ctrl-C at any point from here leaves the log
        # (saying so, where there was time) and nothing else, never a bare output folder.
        log = NdjsonLog(output / _LOG_NAME)
    except OSError as exc:
        message = f"cannot use output directory {output}: {exc.strerror}"
        raise FileFailed("output_error", message, message) from None
    try:
        with log:
            try:
                staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=output))
                summary = extract(file, spec, staging, on_event=log, sheets=sheets or None)
            except BaseException as exc:
                if not isinstance(exc, EngineError):  # the engine logs its own failures
                    log({"event": "run.failed", **_problem(exc)})
                raise
        _publish(staging, output)
    except EngineError as exc:
        raise FileFailed(exc.code, exc.message) from None
    except (KeyboardInterrupt, SystemExit):
        raise KeyboardInterrupt from None
    except BaseException as exc:
        if os.environ.get("ADE_DEBUG"):
            raise
        problem = _problem(exc)
        raise FileFailed(problem["code"], problem["message"]) from None
    finally:
        _remove_staging(output)  # by name: a Ctrl-C may land before `staging` is bound
    return summary


def extract_command(
    inputs: list[Path] = typer.Argument(
        ...,
        metavar="FILE|FOLDER|GLOB...",
        help="CSV, XLSX, XLSM, XLS, XLSB or ODS files (the format is read from the content), "
        "folders (walked recursively) or globs such as 'exports/**/*.xlsx'.",
        show_default=False,
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Directory for the outputs (created if missing)."
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Configuration JSON; default: the shipped people roster."
    ),
    sheet: list[str] | None = typer.Option(
        None,
        "--sheet",
        "-s",
        help="Only this sheet (repeatable), by name or by position (1 = the first sheet, "
        "hidden ones counted); a name wins: --sheet 2 reads a sheet named '2' if there is one, "
        "else the second sheet. Default: all sheets, or the configuration's `sheets`. "
        "Example: --sheet Staff --sheet 3.",
    ),
    active_sheet: bool = typer.Option(
        False,
        "--active-sheet",
        help="Only the sheet the workbook opens on (XLSX/XLSM/ODS: the active tab; XLS/XLSB: "
        "the first visible sheet; CSV: its one sheet). Example: ade extract book.xlsx "
        "--active-sheet -o out/.",
    ),
    include: list[str] | None = typer.Option(
        None,
        "--include",
        "-i",
        metavar="GLOB",
        help="Folders and globs: take only files whose name matches (repeatable; a pattern "
        "with '/' matches the path inside the folder). Default: *.csv *.tsv *.txt *.xlsx "
        "*.xlsm *.xlsb *.xls *.ods. Example: --include '*.xlsx' --include '2026/*.csv'.",
    ),
    exclude: list[str] | None = typer.Option(
        None,
        "--exclude",
        "-x",
        metavar="GLOB",
        help="Folders and globs: skip files, and sub-folders, whose name matches (repeatable). "
        "Office lock files (~$*) and hidden files are always skipped. "
        "Example: --exclude '*_old.xlsx' --exclude archive.",
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        help="Folders and globs: files extracted at once, one process each (default: the CPU "
        "count; 1: one after another in this process). Example: --jobs 2.",
        show_default=False,
    ),
    progress: bool | None = typer.Option(
        None,
        "--progress/--no-progress",
        help="Folders and globs: a progress bar instead of one line per file (default: a bar "
        "on a terminal, lines when the output is piped).",
        show_default=False,
    ),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="One FILE: after the report, list every column's candidate fields (up to 3, from "
        "summary.json): header score, share of sampled values that fit, and 'chosen' or why "
        "each lost. Not with folders or globs (read each summary.json instead). Example: ade "
        "extract roster.xlsx -o out/ --explain.",
    ),
) -> None:
    """Run the extraction engine on local files and write what a run would store.

    One FILE: its outputs go into DIR (normalized.xlsx, tables/, issues.csv, summary.json,
    log.ndjson) and a report is printed.

    Folders, globs or several files: each file's outputs go into DIR/<file name> (a name met
    again gets ~2, ~3, ...), --jobs files at a time, with a progress display; DIR/batch.csv has
    one row per file (file, status, tables, rows, issues, seconds, error, output) and the exit
    code is 1 when any file failed (the others still run). Ctrl-C stops the batch: running files
    leave no outputs, and batch.csv and the summary say what finished.

    \b
    Examples:
      ade extract roster.xlsx -o out/
      ade extract roster.xlsx -o out/ --explain
      ade extract exports/ --include '*.xlsx' --exclude '~$*' -o out/ --jobs 4
      ade extract 'exports/**/*.csv' other.xlsx -o out/
    """
    arguments = [str(path) for path in inputs]
    if active_sheet and sheet:
        raise _fail("--sheet and --active-sheet: choose one way to select sheets", 2)
    spec = _load_config(config)
    if active_sheet:
        spec = spec.model_copy(update={"active_sheet_only": True, "sheets": []})
    if _is_single_file(arguments):
        try:
            summary = run_file(inputs[0], spec, output, sheet)
        except FileFailed as exc:
            raise _fail(exc.line, exc.exit_code) from None
        except KeyboardInterrupt:
            raise _fail("interrupted; no outputs written", 130) from None
        for line in _report(summary, output):
            typer.echo(line)
        if explain:
            from ade.cli.commands.extract_explain import explain_lines

            typer.echo("")
            for line in explain_lines(summary.as_dict()):
                typer.echo(line)
        return
    if explain:
        raise _fail(
            "--explain takes one FILE, not folders, globs or several files; each file's "
            "summary.json lists its candidates",
            2,
        )
    from ade.cli.commands.extract_inputs import InputError, find_inputs

    if output.exists() and not output.is_dir():
        raise _fail(f"--output {output} exists and is not a directory", 2)
    try:
        found = find_inputs(arguments, output, include or (), exclude or ())
    except InputError as exc:
        raise _fail(str(exc), 2) from None
    if not found:
        typer.echo(f"warning: no input files in {' '.join(arguments)}", err=True)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"cannot use output directory {output}: {exc.strerror}") from None
    from ade.cli.commands.extract_batch import Batch, default_jobs, run_with_display

    workers = max(1, min(jobs or default_jobs(), len(found)))
    code = run_with_display(Batch(found, spec, sheet or None), workers, output, progress)
    if code:
        raise typer.Exit(code)


def _is_single_file(arguments: list[str]) -> bool:
    """`ade extract FILE` as before batches existed: one argument that is neither a folder nor
    a glob (a missing file too: its error is the engine's file_not_found, exit 1, as always).
    Here, not in extract_inputs, so that a single run does not import the batch modules."""
    if len(arguments) != 1:
        return False
    path = Path(arguments[0])
    return not path.is_dir() and (path.exists() or not any(c in "*?[" for c in arguments[0]))


def _problem(error: BaseException) -> dict[str, str]:
    """Code and one-line message of what stopped a run (the same codes as a worker run's)."""
    from ade.worker.engine.errors import EngineError

    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, EngineError):
        return {"code": error.code, "message": error.message}
    if isinstance(error, MemoryError):
        return {"code": "too_large", "message": "the run ran out of memory"}
    if isinstance(error, OSError):
        return {"code": "io_error", "message": f"{type(error).__name__}: {text}"}
    if isinstance(error, KeyboardInterrupt | SystemExit):
        return {"code": "interrupted", "message": "interrupted"}
    return {
        "code": "internal_error",
        "message": f"{type(error).__name__}: {text} (a bug in ADE; ADE_DEBUG=1 shows where)",
    }


def _publish(staging: Path, output: Path) -> None:
    """Move a finished run's outputs from `staging` into `output`, summary.json last: a run
    that fails, or is interrupted, before this leaves none of them behind, and one that does
    while this moves them (a Ctrl-C, a full disk) has the moved ones taken back out."""
    from ade.worker.engine.output import SUMMARY_NAME, TABLES_DIR

    try:
        tables = output / TABLES_DIR
        tables.mkdir(exist_ok=True)
        for table in sorted((staging / TABLES_DIR).glob("*.csv")):
            os.replace(table, tables / table.name)
        for item in sorted(staging.iterdir()):
            if item.is_file() and item.name != SUMMARY_NAME:
                os.replace(item, output / item.name)
        os.replace(staging / SUMMARY_NAME, output / SUMMARY_NAME)
    except BaseException:
        _remove_outputs(output)
        raise
