"""`extract`: file in, outputs and a summary out, streaming rows end to end.

Rows flow reader -> table detector -> per-table TableRun (mapping, RowProcessor) -> writers, one
at a time. The only buffering is bounded: the detector's look-ahead window (a dozen rows) and
each table's first SAMPLE_ROWS rows, held back until its mapping and date orders are settled
from their values (see :mod:`ade.worker.engine.table_run`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ade.db.configuration_spec import ConfigurationSpec
from ade.worker.engine.cells import column_letter
from ade.worker.engine.errors import EngineError
from ade.worker.engine.events import Emitter, EventCallback
from ade.worker.engine.mapping import Mapper
from ade.worker.engine.output import ISSUES_NAME, SUMMARY_NAME, XLSX_NAME, OutputWriter
from ade.worker.engine.readers import detect_format, open_sheets
from ade.worker.engine.table_run import TableRun
from ade.worker.engine.tables import SheetScan, TableEnd, TableInfo, TableStart, find_tables
from ade.worker.engine.validate import IssueTally


@dataclass
class Summary:
    """What a run found and produced; `as_dict()` is the JSON stored on the run."""

    file: str
    format: str
    configuration: str
    sheets: list[dict[str, Any]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    issues: IssueTally = field(default_factory=IssueTally)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(int(table["rows"]) for table in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "configuration": self.configuration,
            "tables_found": len(self.tables),
            "rows": self.rows,
            "issues": {
                "total": self.issues.total,
                "by_field": self.issues.by_field,
                "examples": self.issues.examples,
            },
            "sheets": self.sheets,
            "tables": self.tables,
            "outputs": self.outputs,
        }


def extract(
    input_path: Path | str,
    spec: ConfigurationSpec,
    output_dir: Path | str,
    on_event: EventCallback | None = None,
    sheets: Sequence[str] | None = None,
    *,
    write_xlsx: bool = True,
) -> Summary:
    """Extract every table of `input_path` into `output_dir`; raise EngineError on bad input.

    Events go to `on_event` as they happen ("run.started" ... "run.finished"/"run.failed").
    """
    path = Path(input_path)
    directory = Path(output_dir)
    emitter = Emitter(on_event)
    emitter.emit("run.started", file=path.name, configuration=spec.name, sheets=list(sheets or []))
    writer: OutputWriter | None = None
    try:
        file_format = detect_format(path)
        if sheets or spec.sheets or spec.active_sheet_only:  # else nothing to look up
            from ade.worker.engine.sheet_select import select_sheets

            sheets = select_sheets(path, file_format, spec, sheets)
        summary = Summary(file=path.name, format=file_format, configuration=spec.name)
        directory.mkdir(parents=True, exist_ok=True)
        writer = OutputWriter(
            directory,
            write_xlsx=write_xlsx,
            input_bytes=path.stat().st_size,
            on_wait=lambda: emitter.emit("workbook.saving"),
            defuse_formulas=spec.csv_defuse_formulas,
            byte_order_mark=spec.csv_byte_order_mark,
        )
        _run(path, spec, sheets, writer, emitter, summary)
        if not summary.tables:
            ignored = sum(int(s["ignored_rows"]) for s in summary.sheets)
            skipped = [t for s in summary.sheets for t in s["skipped_tables"]]
            if skipped:
                raise EngineError(
                    "no_table_found",
                    f"no table of {spec.name} records in {path.name}: "
                    f"{len(skipped)} table(s) found, but {skipped[0]['reason']}",
                )
            raise EngineError(
                "no_table_found",
                f"no table found in {path.name} ({len(summary.sheets)} sheet(s), "
                f"{ignored} non-blank row(s) that do not form a table with a header row)",
            )
        summary.outputs = {
            "xlsx": XLSX_NAME if write_xlsx else None,
            "tables": [t["output"] for t in summary.tables],
            "issues": ISSUES_NAME,
            "summary": SUMMARY_NAME,
        }
        writer.finish(summary.as_dict())
    except EngineError as exc:
        if writer is not None:
            writer.abort()
        emitter.emit("run.failed", code=exc.code, message=exc.message)
        raise
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    emitter.emit(
        "run.finished",
        tables=len(summary.tables),
        rows=summary.rows,
        issues=summary.issues.total,
    )
    return summary


def _run(
    path: Path,
    spec: ConfigurationSpec,
    sheets: Sequence[str] | None,
    writer: OutputWriter,
    emitter: Emitter,
    summary: Summary,
) -> None:
    mapper = Mapper(spec)
    next_number = itertools.count(1).__next__  # tables of records only, in the order mapped
    for sheet in open_sheets(
        path, sheets, file_format=summary.format, max_field_chars=spec.csv_max_field_chars
    ):
        emitter.emit("sheet.started", sheet=sheet.name, **sheet.details)
        scan = SheetScan()
        runs: dict[int, TableRun] = {}
        numbers: list[int] = []
        skipped: list[dict[str, Any]] = []
        last_info: TableInfo | None = None
        last_run: TableRun | None = None
        for event in find_tables(sheet, mapper.known_field, scan):
            if type(event) is tuple:
                info, index, cells, ragged = event
                if info is not last_info:
                    last_info, last_run = info, runs[id(info)]
                assert last_run is not None
                last_run.add(index, cells, ragged)
            elif isinstance(event, TableStart):
                runs[id(event.table)] = TableRun(
                    next_number, event.table, mapper, writer, emitter, summary.issues
                )
            elif isinstance(event, TableEnd):
                run = runs.pop(id(event.table))
                last_info = last_run = None
                result = run.finish()
                if run.skipped is not None:
                    skipped.append(result)
                    emitter.emit("table.skipped", **result)
                    continue
                summary.tables.append(result)
                numbers.append(run.number)
                emitter.emit(
                    "table.finished",
                    table=run.number,
                    range=result["range"],
                    rows=result["rows"],
                    issues=result["issues"],
                    end_reason=result["end_reason"],
                )
        summary.tables.sort(key=lambda t: int(t["number"]))
        summary.sheets.append(
            {
                "name": sheet.name,
                "rows_read": scan.rows_read,
                "tables": sorted(numbers),
                "skipped_tables": skipped,
                "ignored_rows": scan.ignored_rows,
                "ignored_row_numbers": scan.ignored_row_numbers,
                "hidden_columns": [column_letter(c) for c in sorted(sheet.hidden_columns)],
                "merged_ranges": len(sheet.merged),
                **sheet.details,
            }
        )
        emitter.emit(
            "sheet.finished",
            sheet=sheet.name,
            tables=numbers,
            rows_read=scan.rows_read,
            ignored_rows=scan.ignored_rows,
        )
