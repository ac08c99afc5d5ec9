"""`extract`: file in, outputs and a summary out, streaming rows end to end.

Rows flow reader -> table detector -> per-table RowProcessor -> writers, one at a time. The only
buffering is bounded: the detector's look-ahead window (a dozen rows) and, for tables with date
columns, the first DATE_SAMPLE rows, held back until the column's day/month order is settled.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ade.db.configuration_spec import ConfigurationSpec
from ade.worker.engine.cells import Row, column_letter
from ade.worker.engine.errors import EngineError
from ade.worker.engine.events import Emitter, EventCallback
from ade.worker.engine.mapping import FieldMatcher, TableMapping, map_table
from ade.worker.engine.normalize import day_month_evidence
from ade.worker.engine.output import ISSUES_NAME, SUMMARY_NAME, XLSX_NAME, OutputWriter, TableSink
from ade.worker.engine.readers import detect_format, open_sheets
from ade.worker.engine.tables import SheetScan, TableEnd, TableInfo, TableStart, find_tables
from ade.worker.engine.validate import Issue, IssueTally, RowProcessor

DATE_SAMPLE = 200
# A table in flight reports its row count at most this often (the clock is read every 256 rows).
PROGRESS_SECONDS = 2.0


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
            "issues": {"total": self.issues.total, "by_field": self.issues.by_field},
            "sheets": self.sheets,
            "tables": self.tables,
            "outputs": self.outputs,
        }


class _TableRun:
    """One table in flight: mapping, processor, sink and counters."""

    def __init__(
        self,
        number: int,
        info: TableInfo,
        mapping: TableMapping,
        spec: ConfigurationSpec,
        writer: OutputWriter,
        emitter: Emitter,
        tally: IssueTally,
    ) -> None:
        self.number = number
        self.info = info
        self.mapping = mapping
        self.spec = spec
        self.writer = writer
        self.emitter = emitter
        self.tally = tally
        self.issue_count = 0
        self.rows = 0
        self.next_progress = time.monotonic() + PROGRESS_SECONDS
        self.date_fields = {
            item.name: mapping.positions[item.name]
            for item in spec.fields
            if item.type == "date" and item.name in mapping.positions
        }
        self.date_orders: dict[str, dict[str, str]] = {}
        self.sink: TableSink = writer.open_table(
            number, info.sheet, [item.display_label for item in spec.fields]
        )
        self.processor: RowProcessor | None = None
        self.buffer: list[tuple[int, Row]] | None = [] if self.date_fields else None
        if self.buffer is None:
            self._start()

    def _issue(self, issue: Issue) -> None:
        self.issue_count += 1
        self.tally.add(issue)
        self.writer.issue(issue)

    def _start(self) -> None:
        orders: dict[str, str] = {}
        for name, position in self.date_fields.items():
            votes = {"dmy": 0, "mdy": 0}
            for _, cells in self.buffer or ():
                verdict = day_month_evidence(cells[position])
                if verdict:
                    votes[verdict] += 1
            if votes["dmy"] and not votes["mdy"]:
                orders[name], basis = "dmy", "inferred"
            elif votes["mdy"] and not votes["dmy"]:
                orders[name], basis = "mdy", "inferred"
            else:
                orders[name] = self.spec.date_order
                basis = "conflicting" if votes["dmy"] else "configured"
            self.date_orders[name] = {"order": orders[name], "basis": basis}
        self.processor = RowProcessor(
            self.spec, self.number, self.info, self.mapping, orders, self._issue
        )
        for issue in self.processor.table_issues():
            self._issue(issue)
        buffered, self.buffer = self.buffer or [], None
        for index, cells in buffered:
            self.add(index, cells)

    def add(self, index: int, cells: Row) -> None:
        if self.buffer is not None:
            self.buffer.append((index, cells))
            if len(self.buffer) >= DATE_SAMPLE:
                self._start()
            return
        assert self.processor is not None
        self.sink.write(self.processor.process(index, cells))
        self.rows += 1
        if not self.rows % 256 and time.monotonic() >= self.next_progress:
            self.next_progress = time.monotonic() + PROGRESS_SECONDS
            self.emitter.emit("table.progress", table=self.number, rows=self.rows)

    def finish(self) -> dict[str, Any]:
        if self.processor is None:
            self._start()
        self.sink.close()
        info = self.info
        mapped = self.mapping.mapped()
        assert self.processor is not None
        return {
            "number": self.number,
            "sheet": info.sheet,
            "range": info.cell_range,
            "header_rows": [r + 1 for r in info.header_rows],
            "first_data_row": None if info.first_data_row is None else info.first_data_row + 1,
            "columns": f"{column_letter(info.first_col)}:{column_letter(info.last_col)}",
            "headers": info.headers,
            "rows": self.rows,
            "blank_rows_skipped": info.blank_rows_skipped,
            "repeated_headers_skipped": info.repeated_headers_skipped,
            "footer_rows": [r + 1 for r in info.footer_rows],
            "end_reason": info.end_reason,
            "hidden_columns": [column_letter(c) for c in info.hidden_columns],
            "merged_header_cells": info.merged_header_cells,
            "fields_mapped": {c.field: c.letter for c in mapped if c.field},
            "missing_required": self.processor.missing_required,
            "date_orders": self.date_orders,
            "mapping": [c.as_dict() for c in self.mapping.columns],
            "issues": self.issue_count,
            "output": f"tables/{self.number}.csv",
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
        summary = Summary(file=path.name, format=file_format, configuration=spec.name)
        directory.mkdir(parents=True, exist_ok=True)
        writer = OutputWriter(
            directory,
            write_xlsx=write_xlsx,
            input_bytes=path.stat().st_size,
            on_wait=lambda: emitter.emit("workbook.saving"),
        )
        _run(path, spec, sheets, writer, emitter, summary)
        if not summary.tables:
            ignored = sum(int(s["ignored_rows"]) for s in summary.sheets)
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
    matcher = FieldMatcher(spec)
    for sheet in open_sheets(path, sheets, file_format=summary.format):
        emitter.emit("sheet.started", sheet=sheet.name, **sheet.details)
        scan = SheetScan()
        runs: dict[int, _TableRun] = {}
        numbers: list[int] = []
        last_info: TableInfo | None = None
        last_run: _TableRun | None = None
        for event in find_tables(sheet, matcher.is_known, scan):
            if type(event) is tuple:
                info, index, cells = event
                if info is not last_info:
                    last_info, last_run = info, runs[id(info)]
                assert last_run is not None
                last_run.add(index, cells)
            elif isinstance(event, TableStart):
                number = len(summary.tables) + len(runs) + 1
                mapping = map_table(event.table, matcher)
                runs[id(event.table)] = _TableRun(
                    number, event.table, mapping, spec, writer, emitter, summary.issues
                )
                numbers.append(number)
                emitter.emit(
                    "table.found",
                    table=number,
                    sheet=sheet.name,
                    header_rows=[r + 1 for r in event.table.header_rows],
                    columns=f"{column_letter(event.table.first_col)}:"
                    f"{column_letter(event.table.last_col)}",
                    mapping=[c.as_dict() for c in mapping.columns],
                )
            elif isinstance(event, TableEnd):
                run = runs.pop(id(event.table))
                last_info = last_run = None
                result = run.finish()
                summary.tables.append(result)
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
                "tables": numbers,
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
