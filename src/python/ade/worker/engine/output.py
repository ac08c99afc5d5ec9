"""Write a run's outputs: normalized.xlsx, tables/<n>.csv, issues.csv and summary.json.

Rows are written as they are produced: CSV through the stdlib writer, the workbook through a
`Book` (ade.worker.engine.workbook) in batches. For inputs of SECOND_PROCESS_MIN_BYTES or more
the workbook is written by a child process on the second core, overlapping with extraction;
smaller inputs write it in-process, where starting a process would cost more than it saves.
The workbook is saved under a temporary name and renamed, so a crash never leaves a truncated
normalized.xlsx looking complete. Tables may have any number of rows and columns: beyond
Excel's limits the workbook continues a table on further worksheets ("1 People (2)"), leaves out
columns past the 16,384th and cuts text past 32,767 characters (see
:mod:`ade.worker.engine.workbook`); the CSVs hold everything.

The CSVs are for people first (see :mod:`ade.worker.engine.csv_safety`): by default they start
with a UTF-8 byte-order mark and formula cells are defused; the workbook keeps the text as is.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

from ade.worker.engine.cells import Cell
from ade.worker.engine.csv_safety import BYTE_ORDER_MARK, defuse_row, defusing
from ade.worker.engine.validate import ISSUE_COLUMNS, Issue
from ade.worker.engine.workbook import (
    EXCEL_MAX_COLUMNS,
    EXCEL_MAX_TEXT,
    Book,
    BookProcess,
    LocalBook,
    SheetSeries,
    continued_title,
    fit_for_excel,
)

XLSX_NAME = "normalized.xlsx"
SUMMARY_NAME = "summary.json"
ISSUES_NAME = "issues.csv"
TABLES_DIR = "tables"
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
# From this input size on, the workbook is written by a second process (about 8,000 CSV rows):
# below it, starting Python and the writer (~0.1 s) costs more than the overlap saves.
SECOND_PROCESS_MIN_BYTES = 1024 * 1024
# Rows per message to the workbook: large enough to amortize the per-call cost, small enough
# that the batches in flight stay a few hundred KiB.
BATCH_ROWS = 500


class TableSink:
    """Where one table's output rows go: its CSV file and, batched, its workbook sheet(s).

    `write` returns the positions of the cells cut to fit Excel as a list, so the caller can
    report each cut; anything that is not a list means none (None, or, when there is no
    workbook, the CSV writer's own result: `write` is then the writer itself, no call between).
    `columns_left_out` counts the columns beyond Excel's 16,384 that only the CSV holds;
    `sheets` names the worksheets the table fills (more than one beyond Excel's row limit).
    """

    def __init__(
        self,
        handle: IO[str],
        book: Book | None,
        title: Callable[[int], str],
        columns: int,
        *,
        defuse_formulas: bool = True,
        date_columns: Sequence[int] = (),
    ) -> None:
        self._handle = handle
        write_csv = csv.writer(handle).writerow
        self._csv_row = defusing(write_csv) if defuse_formulas else write_csv
        self._book = book
        self._pending: list[list[Cell]] = []
        self.columns_left_out = max(columns - EXCEL_MAX_COLUMNS, 0)
        self.header_cut: list[int] | None = None
        self._series: SheetSeries | None = None
        self.write: Callable[[list[Cell]], object]
        if book is None:
            self.write = self._csv_row
        else:
            add_sheet = partial(book.add_sheet, date_columns=date_columns)
            self._series = SheetSeries(add_sheet, book.write_rows, title)
            self.write = self._write_wide if self.columns_left_out else self._write_both

    @property
    def sheets(self) -> list[str]:
        return [] if self._series is None else self._series.titles

    def _write_both(self, row: list[Cell]) -> list[int] | None:
        # writerow returns the characters written: only a row that long can hold a cell too
        # long for Excel, so the common case pays no per-cell check. The workbook gets the
        # cells as they are (string cells are never formulas there).
        cut = None
        if self._csv_row(row) > EXCEL_MAX_TEXT:
            row, cut = fit_for_excel(row)
        self._pending.append(row)
        if len(self._pending) >= BATCH_ROWS:
            self.flush()
        return cut or None

    def _write_wide(self, row: list[Cell]) -> list[int] | None:
        """A row of a table wider than Excel: all of it to the CSV, what fits to the workbook."""
        self._csv_row(row)
        fitted, cut = fit_for_excel(row[:EXCEL_MAX_COLUMNS])
        self._pending.append(fitted)
        if len(self._pending) >= BATCH_ROWS:
            self.flush()
        return cut or None

    def flush(self) -> None:
        if self._pending and self._series is not None:
            self._series.write(self._pending)
            self._pending = []

    def close(self, *, flush: bool = True) -> None:
        if flush:
            self.flush()
        self._pending = []
        self._handle.close()


class OutputWriter:
    """Owns every output file of one run in `directory`.

    `input_bytes` (the input file's size) chooses where the workbook is written; `on_wait` is
    called every few seconds while a second process finishes the workbook, so a long save still
    shows progress. `defuse_formulas` and `byte_order_mark` are the configuration's
    `csv_defuse_formulas` and `csv_byte_order_mark` (off only for machine consumers).
    """

    def __init__(
        self,
        directory: Path,
        *,
        write_xlsx: bool = True,
        input_bytes: int = 0,
        on_wait: Callable[[], None] | None = None,
        defuse_formulas: bool = True,
        byte_order_mark: bool = True,
    ) -> None:
        self.directory = directory
        self._defuse = defuse_formulas
        # The mark is written once by hand: a "utf-8-sig" file encodes every write in Python,
        # where "utf-8" takes the codec's C path.
        self._mark = BYTE_ORDER_MARK if byte_order_mark else ""
        (directory / TABLES_DIR).mkdir(parents=True, exist_ok=True)
        self._sinks: list[TableSink] = []
        self._titles: set[str] = {"issues"}
        self._on_wait = on_wait
        self._book: Book | None = None
        if write_xlsx:
            self._book = BookProcess() if input_bytes >= SECOND_PROCESS_MIN_BYTES else LocalBook()
        self._issue_rows: list[list[Cell]] = [list(ISSUE_COLUMNS)]
        self._issues_handle = self._open_csv(directory / ISSUES_NAME)
        self._issues_csv = csv.writer(self._issues_handle)
        self._issues_csv.writerow(ISSUE_COLUMNS)

    def _open_csv(self, path: Path) -> IO[str]:
        handle = path.open("w", encoding="utf-8", newline="")
        handle.write(self._mark)
        return handle

    def table_path(self, number: int) -> Path:
        return self.directory / TABLES_DIR / f"{number}.csv"

    def open_table(
        self, number: int, sheet: str, columns: list[str], date_columns: Sequence[int] = ()
    ) -> TableSink:
        """The table's sink, its header row written; a header cell too long for Excel is cut
        in the workbook like any other (`header_cut` holds their positions). The workbook
        writes `date_columns`' ISO dates as date cells."""
        handle = self._open_csv(self.table_path(number))
        sink = TableSink(
            handle,
            self._book,
            partial(self._title, number, sheet),
            len(columns),
            defuse_formulas=self._defuse,
            date_columns=date_columns,
        )
        cut = sink.write(list(columns))
        sink.header_cut = cut if isinstance(cut, list) else None
        self._sinks.append(sink)
        return sink

    def _title(self, number: int, sheet: str, part: int = 1) -> str:
        base = _BAD_TITLE.sub("_", f"{number} {sheet}").strip("'")[:31] or str(number)
        base = continued_title(base, part)
        title, suffix = base, 2
        while title.lower() in self._titles:
            title = f"{base[: 31 - len(str(suffix)) - 1]}~{suffix}"
            suffix += 1
        self._titles.add(title.lower())
        return title

    def issue(self, issue: Issue) -> None:
        row = issue.as_row()
        self._issues_csv.writerow(defuse_row(row) if self._defuse else row)
        if self._book is not None:
            self._issue_rows.append(row)
            if len(self._issue_rows) >= BATCH_ROWS:
                self._flush_issues()

    def _flush_issues(self) -> None:
        if self._issue_rows and self._book is not None:
            self._book.write_issues(self._issue_rows)
            self._issue_rows = []

    def finish(self, summary: dict[str, Any]) -> None:
        """Close all files, save the workbook, write the summary (last, as the 'done' mark)."""
        self._close_files()
        if self._book is not None:
            self._flush_issues()
            book, self._book = self._book, None
            temporary = self.directory / f".{XLSX_NAME}.partial"
            try:
                book.save(temporary, self._on_wait)
            except BaseException:
                book.discard()
                temporary.unlink(missing_ok=True)
                raise
            os.replace(temporary, self.directory / XLSX_NAME)
        temporary = self.directory / f".{SUMMARY_NAME}.partial"
        temporary.write_text(
            json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8"
        )
        os.replace(temporary, self.directory / SUMMARY_NAME)

    def abort(self) -> None:
        """Close what is open after a failure; the partial workbook is never saved."""
        book, self._book = self._book, None
        self._close_files(flush=False)  # nothing more goes to a workbook that will not be saved
        if book is not None:
            book.discard()
        (self.directory / f".{XLSX_NAME}.partial").unlink(missing_ok=True)

    def _close_files(self, *, flush: bool = True) -> None:
        for sink in self._sinks:
            sink.close(flush=flush)
        self._sinks = []
        if not self._issues_handle.closed:
            self._issues_handle.close()
