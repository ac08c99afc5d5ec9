"""The normalized workbook, written by rust_xlsxwriter, beside extraction or on the second core.

rust_xlsxwriter (through its Python binding rvgsrust-xlsxwriter) in constant-memory mode writes
each sheet's rows to a temporary file as they arrive, so memory stays flat and sheets for tables
found side by side can be filled in interleaved order. It writes ~5-8x the rows/s of openpyxl's
write-only mode, stores text as text (a cell reading "=1+2" is not turned into a formula), and
gives dates and datetimes a date format. The date fields' ISO dates ("2021-03-15", text in the
CSVs) are written as date cells (format yyyy-mm-dd), so Excel sorts and filters them as dates;
a value that is no such date, or a date before 1900-03-01 (Excel's dates start in 1900), stays
text. Times and durations are written as text, as in the
CSV outputs. Excel holds at most 32,767 characters in a cell, 1,048,576 rows and 16,384 columns in
a sheet: longer text is cut to that in the workbook only; a table with more rows continues on
further worksheets ("1 People (2)", its header repeated, see :class:`SheetSeries`); columns
beyond the 16,384th are left out of the workbook. The CSVs always hold everything, and the
caller (:mod:`ade.worker.engine.output`) reports each cut.

The "Issues" sheet must come last, but issues arrive while tables are still being written and
rust_xlsxwriter cannot reorder sheets: its rows are spooled to an unnamed temporary file and
written when the workbook is saved.

Two ways to run it, with the same `Book` code:
  - `LocalBook`: in the engine's own process (small inputs, where starting a process costs more
    than it saves);
  - `BookProcess`: a child process (`python -m ade.worker.engine.workbook`) fed batches of rows
    over a pipe, so the workbook is written on the second core while extraction goes on. The
    pipe's buffer bounds what is in flight: a slow writer slows extraction instead of growing
    memory. The child saves under the temporary name it is given and answers; only then does
    the parent rename the file into place, so a crash never leaves a truncated workbook looking
    complete. The child ignores SIGINT/SIGTERM and exits (discarding its work) when the pipe
    closes, so a killed engine takes its writer with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any, Protocol

from ade.worker.engine.cells import Cell
from ade.worker.engine.normalize import Memo

EXCEL_MAX_TEXT = 32_767
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
PIPE_BYTES = 1024 * 1024
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_MAX_TITLE = 31


def fit_for_excel(row: Sequence[Cell]) -> tuple[list[Cell], list[int]]:
    """A copy of `row` whose text cells fit in an Excel cell, and the positions of those cut."""
    cut = [
        index
        for index, value in enumerate(row)
        if isinstance(value, str) and len(value) > EXCEL_MAX_TEXT
    ]
    fitted = list(row)
    for index in cut:
        fitted[index] = str(fitted[index])[:EXCEL_MAX_TEXT]
    return fitted, cut


def continued_title(title: str, part: int) -> str:
    """The name of a sheet's `part`-th worksheet: the title itself, then "title (2)", ... (as
    Excel names a copied sheet), the title shortened so the name fits in 31 characters."""
    if part == 1:
        return title
    suffix = f" ({part})"
    return title[: _MAX_TITLE - len(suffix)].rstrip() + suffix


class SheetSeries:
    """One sheet of output spread over as many worksheets as Excel's row limit needs.

    Rows go to the current worksheet until it holds EXCEL_MAX_ROWS rows; then a worksheet named
    by `title(part)` is added, its first row the series' first row (the header) again, and the
    rows continue there. Work is per batch, not per row.
    """

    def __init__(
        self,
        add_sheet: Callable[[str], int],
        write_rows: Callable[[int, list[list[Cell]]], None],
        title: Callable[[int], str],
    ) -> None:
        self._add_sheet = add_sheet
        self._write_rows = write_rows
        self._title = title
        self.titles: list[str] = []
        self._header: list[Cell] | None = None
        self._sheet = self._open()
        self._rows = 0

    def _open(self) -> int:
        title = self._title(len(self.titles) + 1)
        self.titles.append(title)
        return self._add_sheet(title)

    def write(self, rows: list[list[Cell]]) -> None:
        if self._header is None and rows:
            self._header = rows[0]
        while rows:
            room = EXCEL_MAX_ROWS - self._rows
            if room <= 0:
                self._sheet = self._open()
                self._write_rows(self._sheet, [self._header or []])
                self._rows = 1
                continue
            part = rows if len(rows) <= room else rows[:room]
            self._write_rows(self._sheet, part)
            self._rows += len(part)
            rows = [] if part is rows else rows[room:]


class Book(Protocol):
    """Where the normalized workbook's rows go; sheets are numbered in creation order."""

    def add_sheet(self, title: str, date_columns: Sequence[int] = ()) -> int: ...

    def write_rows(self, sheet: int, rows: list[list[Cell]]) -> None: ...

    def write_issues(self, rows: list[list[Cell]]) -> None: ...

    def save(self, path: Path, wait: Callable[[], None] | None = None) -> None:
        """Write the workbook to `path`; `wait` is called every few seconds while it takes."""

    def discard(self) -> None: ...


class LocalBook:
    """The workbook, written in this process."""

    def __init__(self) -> None:
        from rvgsrust_xlsxwriter import Workbook

        self._workbook: Any = Workbook()
        self._sheets: list[Any] = []
        self._next_row: list[int] = []
        self._date_columns: list[Sequence[int]] = []
        self._dates = Memo(excel_day)  # dates repeat down a column: one parse each
        self._date_format: Any = None
        self._issues: IO[bytes] = tempfile.TemporaryFile()

    def add_sheet(self, title: str, date_columns: Sequence[int] = ()) -> int:
        sheet = self._workbook.add_worksheet(title, constant_memory=True)
        # Dates are written as Excel's day numbers under a date format set on their columns
        # (rust_xlsxwriter gives an unformatted cell its column's format): a number costs the
        # writer a twentieth of what a date object does, which it converts cell by cell.
        for column in date_columns:
            if self._date_format is None:
                self._date_format = self._workbook.add_format()
                self._date_format.set_num_format(DATE_FORMAT)
            sheet.set_column_format(column, self._date_format)
        self._sheets.append(sheet)
        self._next_row.append(0)
        self._date_columns.append(tuple(date_columns))
        return len(self._sheets) - 1

    def write_rows(self, sheet: int, rows: list[list[Cell]]) -> None:
        columns = self._date_columns[sheet]
        if columns:
            dates = self._dates
            for row in rows[1:] if self._next_row[sheet] == 0 else rows:  # not the header
                for column in columns:
                    row[column] = dates[row[column]]
        self._sheets[sheet].write_rows(self._next_row[sheet], 0, rows)
        self._next_row[sheet] += len(rows)

    def write_issues(self, rows: list[list[Cell]]) -> None:
        pickle.dump(rows, self._issues, _PROTOCOL)

    def save(self, path: Path, wait: Callable[[], None] | None = None) -> None:
        # More issues than Excel's rows continue on "Issues (2)", ... (their header repeated).
        issues = SheetSeries(self.add_sheet, self.write_rows, partial(continued_title, "Issues"))
        self._issues.seek(0)
        while True:
            try:
                rows = pickle.load(self._issues)  # noqa: S301 (our own spool file)
            except EOFError:
                break
            issues.write(rows)
        self._issues.close()
        self._workbook.close(str(path))

    def discard(self) -> None:
        # Never closed, the workbook writes nothing; its row files are unnamed temporaries.
        self._workbook = None
        self._sheets = []
        self._issues.close()


def excel_day(value: Cell) -> Cell:
    """A date field's output value as a workbook cell: an ISO date ("2021-03-15") becomes
    Excel's day number for it (shown as a date by its column's format), anything else (an
    empty cell, an invalid value kept as text, a date before 1900-03-01, which Excel's date
    system cannot show) stays as it is."""
    if not (isinstance(value, str) and len(value) == 10 and value[4:5] == "-"):
        return value
    try:
        serial = dt.date.fromisoformat(value).toordinal() - _EXCEL_DAY_ZERO
    except ValueError:
        return value
    return serial if serial >= _EXCEL_FIRST_TRUE_DAY else value


DATE_FORMAT = "yyyy-mm-dd"
_EXCEL_DAY_ZERO = dt.date(1899, 12, 30).toordinal()
"""Excel's day numbers count from here, for every date from 1900-03-01 on."""
_EXCEL_FIRST_TRUE_DAY = 61
"""1900-03-01: before it Excel counts a 29 February 1900 that never was."""


class WorkbookWriterError(RuntimeError):
    """The workbook writer process failed; the run's other outputs are not affected."""


class BookProcess:
    """The workbook, written by a child process fed over a pipe."""

    def __init__(self, wait_seconds: float = 2.0) -> None:
        env = dict(os.environ)
        # The child must import what this process imports (Pants' sandbox, a PEX, a venv).
        env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ade.worker.engine.workbook"],  # noqa: S603 (our own module)
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            bufsize=256 * 1024,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        _widen_pipe(self._process.stdin.fileno())
        self._pipe: IO[bytes] = self._process.stdin
        self._answers: IO[bytes] = self._process.stdout
        self._sheets = 0
        self._wait_seconds = wait_seconds

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            pickle.dump(message, self._pipe, _PROTOCOL)
        except (BrokenPipeError, OSError):
            raise self._died() from None

    def _died(self) -> WorkbookWriterError:
        code = self._process.poll()
        if code is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._process.wait(timeout=5)
        return WorkbookWriterError(f"the workbook writer process stopped (exit code {code})")

    def add_sheet(self, title: str, date_columns: Sequence[int] = ()) -> int:
        self._send(("sheet", title, tuple(date_columns)))
        self._sheets += 1
        return self._sheets - 1

    def write_rows(self, sheet: int, rows: list[list[Cell]]) -> None:
        self._send(("rows", sheet, rows))

    def write_issues(self, rows: list[list[Cell]]) -> None:
        self._send(("issues", rows))

    def save(self, path: Path, wait: Callable[[], None] | None = None) -> None:
        self._send(("save", str(path)))
        try:
            self._pipe.close()
        except (BrokenPipeError, OSError):
            raise self._died() from None
        while not select.select([self._answers], [], [], self._wait_seconds)[0]:
            if wait is not None:
                wait()
        try:
            answer = pickle.load(self._answers)  # noqa: S301 (our child's answer)
        except (EOFError, pickle.UnpicklingError):
            raise self._died() from None
        self._process.wait()
        if answer[0] != "saved":
            raise WorkbookWriterError(f"the workbook writer failed: {answer[1]}")

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._pipe.close()  # the child sees the end of its input and exits, saving nothing
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        with contextlib.suppress(OSError):
            self._answers.close()


def _widen_pipe(descriptor: int) -> None:
    """Let a few MiB of rows wait in the pipe (Linux allows 1 MiB by default, 64 KiB is the
    default size): the writer takes rows in bursts, and with room to queue them extraction
    never waits for it."""
    with contextlib.suppress(OSError, AttributeError):
        import fcntl

        fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The child's loop: apply each message to a LocalBook until "save" or the end of input."""
    book = LocalBook()
    while True:
        try:
            message = pickle.load(requests)  # noqa: S301 (our parent, over a pipe)
        except EOFError:
            book.discard()  # the parent gave up (abort, crash or kill): save nothing
            return
        kind = message[0]
        if kind == "rows":
            book.write_rows(message[1], message[2])
        elif kind == "issues":
            book.write_issues(message[1])
        elif kind == "sheet":
            book.add_sheet(message[1], message[2])
        elif kind == "save":
            try:
                book.save(Path(message[1]))
                answer: tuple[str, str] = ("saved", message[1])
            except Exception as exc:
                answer = ("error", " ".join(str(exc).split())[:300] or type(exc).__name__)
            pickle.dump(answer, answers, _PROTOCOL)
            answers.flush()
            return


def main() -> None:
    # The parent decides when this process stops: by closing the pipe, or by killing it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # The answer gets a descriptor of its own; anything printed goes to stderr, not into it.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
