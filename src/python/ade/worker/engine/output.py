"""Write a run's outputs: normalized.xlsx, tables/<n>.csv, issues.csv and summary.json.

Rows are written as they are produced: CSV through the stdlib writer, the workbook through
openpyxl's write-only mode, which spools each sheet to a temporary file, so sheets for tables
found side by side can be filled in interleaved order and memory stays flat. The "Issues" sheet
is created first (issues arrive while tables are still being written) and moved last on save.
The workbook is saved under a temporary name and renamed, so a crash never leaves a truncated
normalized.xlsx looking complete.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
from pathlib import Path
from typing import IO, Any

from ade.worker.engine.cells import Cell
from ade.worker.engine.validate import ISSUE_COLUMNS, Issue

XLSX_NAME = "normalized.xlsx"
SUMMARY_NAME = "summary.json"
ISSUES_NAME = "issues.csv"
TABLES_DIR = "tables"
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


class TableSink:
    """Where one table's output rows go."""

    def __init__(self, handle: IO[str], worksheet: Any | None) -> None:
        self._handle = handle
        self._csv = csv.writer(handle)
        self._sheet = worksheet
        self.write = self._write_both if worksheet is not None else self._csv.writerow

    def _write_both(self, row: list[Cell]) -> None:
        self._csv.writerow(row)
        self._sheet.append(row)  # type: ignore[union-attr]  # only bound when a sheet exists

    def close(self) -> None:
        self._handle.close()


class OutputWriter:
    """Owns every output file of one run in `directory`."""

    def __init__(self, directory: Path, *, write_xlsx: bool = True) -> None:
        self.directory = directory
        (directory / TABLES_DIR).mkdir(parents=True, exist_ok=True)
        self._sinks: list[TableSink] = []
        self._titles: set[str] = set()
        self._workbook: Any | None = None
        self._issues_sheet: Any | None = None
        if write_xlsx:
            from openpyxl import Workbook

            self._workbook = Workbook(write_only=True)
            self._issues_sheet = self._workbook.create_sheet("Issues")
            self._issues_sheet.append(ISSUE_COLUMNS)
            self._titles.add("issues")
        self._issues_handle = (directory / ISSUES_NAME).open("w", encoding="utf-8", newline="")
        self._issues_csv = csv.writer(self._issues_handle)
        self._issues_csv.writerow(ISSUE_COLUMNS)

    def table_path(self, number: int) -> Path:
        return self.directory / TABLES_DIR / f"{number}.csv"

    def open_table(self, number: int, sheet: str, columns: list[str]) -> TableSink:
        handle = self.table_path(number).open("w", encoding="utf-8", newline="")
        worksheet = None
        if self._workbook is not None:
            worksheet = self._workbook.create_sheet(self._title(number, sheet))
        sink = TableSink(handle, worksheet)
        sink.write(list(columns))
        self._sinks.append(sink)
        return sink

    def _title(self, number: int, sheet: str) -> str:
        base = _BAD_TITLE.sub("_", f"{number} {sheet}").strip("'")[:31] or str(number)
        title, suffix = base, 2
        while title.lower() in self._titles:
            title = f"{base[: 31 - len(str(suffix)) - 1]}~{suffix}"
            suffix += 1
        self._titles.add(title.lower())
        return title

    def issue(self, issue: Issue) -> None:
        row = issue.as_row()
        self._issues_csv.writerow(row)
        if self._issues_sheet is not None:
            self._issues_sheet.append(row)

    def finish(self, summary: dict[str, Any]) -> None:
        """Close all files, save the workbook, write the summary (last, as the 'done' mark)."""
        self._close_files()
        if self._workbook is not None:
            workbook, self._workbook = self._workbook, None
            workbook.move_sheet("Issues", offset=len(workbook.worksheets) - 1)
            temporary = self.directory / f".{XLSX_NAME}.partial"
            workbook.save(temporary)
            os.replace(temporary, self.directory / XLSX_NAME)
        temporary = self.directory / f".{SUMMARY_NAME}.partial"
        temporary.write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8"
        )
        os.replace(temporary, self.directory / SUMMARY_NAME)

    def abort(self) -> None:
        """Close what is open after a failure; the partial workbook is never saved."""
        self._close_files()
        workbook, self._workbook = self._workbook, None
        if workbook is not None:
            # Close the spooled sheets now (not at garbage collection, when their files may
            # be gone) and delete their temporary files.
            for sheet in workbook.worksheets:
                with contextlib.suppress(Exception):
                    sheet.close()
                    os.remove(sheet._writer.out)

    def _close_files(self) -> None:
        for sink in self._sinks:
            sink.close()
        self._sinks = []
        if not self._issues_handle.closed:
            self._issues_handle.close()
