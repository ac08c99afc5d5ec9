"""What table detection produces (TableInfo, events) and the cell tests all its parts share."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ade.worker.engine.cells import Cell, Row, cell_ref

MAX_LABEL = 80
_IGNORED_KEEP = 50

_NUMERIC = re.compile(r"^[\s$€£¥(+-]*\d[\d.,\s]*%?\)?\s*$")
_DATE_LIKE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(\s|T|$)")

KnownField = Callable[[str], str | None]
"""The mapper's header knowledge: the field a header text names well enough to map, or None."""

Kind = Literal["number", "date", "email", "text"]
EndReason = Literal["end_of_sheet", "blank_gap", "totals", "notes"]


def kind_of(value: Cell) -> Kind:
    """Coarse type of a non-empty cell, for header scoring and column profiles."""
    if isinstance(value, bool):
        return "text"
    if isinstance(value, int | float):
        return "number"
    if not isinstance(value, str):
        return "date"  # datetime, date, time, timedelta
    if "@" in value:
        return "email"
    if _NUMERIC.match(value):
        return "number"
    if _DATE_LIKE.match(value):
        return "date"
    return "text"


def header_text(value: Cell) -> str:
    """A header cell as one line of text ("First\\nName" -> "First Name")."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def is_label(value: Cell) -> bool:
    """Short text that is not a number, date or e-mail: what header cells are made of."""
    return isinstance(value, str) and len(value.strip()) <= MAX_LABEL and kind_of(value) == "text"


def at(row: Row, column: int) -> Cell:
    return row[column] if column < len(row) else None


@dataclass
class TableInfo:
    """Where a table is and what its header says; row counts fill in as rows stream."""

    sheet: str
    header_rows: list[int]
    first_col: int
    last_col: int
    headers: list[str]
    header_parts: list[list[str]]
    hidden_columns: list[int] = field(default_factory=list)
    merged_header_cells: list[str] = field(default_factory=list)
    first_data_row: int | None = None
    last_row: int = 0
    blank_rows_skipped: int = 0
    repeated_headers_skipped: int = 0
    subtotal_rows: list[int] = field(default_factory=list)
    """Totals rows inside the data (a department's subtotal): skipped, the table goes on."""
    note_rows: list[int] = field(default_factory=list)
    """Note rows inside the data (a note on the group of rows under it): skipped."""
    page_break_rows: list[int] = field(default_factory=list)
    """Title rows of a page break (the report's title again above a repeated header)."""
    footer_rows: list[int] = field(default_factory=list)
    """Rows under the table that are not records: its totals rows, and the notes or summary
    lines right under them (up to a blank row)."""
    nameless_rows: list[int] = field(default_factory=list)
    """Rows that name nobody: no name, e-mail or ID, only a date or figures beside it (a
    connections export's rows of a date alone). Skipped; the table goes on."""
    end_reason: EndReason = "end_of_sheet"
    header_fields: int | None = None
    """The header row's field count, for delimited text (None for workbooks, whose rows have
    no field count of their own). Columns at or past it are overflow: no header names them."""
    ragged_rows: int = 0
    """Data rows with more fields than the header (see RaggedRow); written, and reported."""
    ragged_row_numbers: list[int] = field(default_factory=list)

    def note_ragged(self, index: int) -> None:
        self.ragged_rows += 1
        if len(self.ragged_row_numbers) < _IGNORED_KEEP:
            self.ragged_row_numbers.append(index)

    @property
    def width(self) -> int:
        return self.last_col - self.first_col + 1

    @property
    def cell_range(self) -> str:
        last = max(self.last_row, self.header_rows[-1])
        return f"{cell_ref(self.header_rows[0], self.first_col)}:{cell_ref(last, self.last_col)}"


@dataclass(frozen=True, slots=True)
class RaggedRow:
    """A delimited-text data row with more fields than its table's header.

    A value holding the delimiter unquoted ("12 Main St, Apt 4" in a comma-separated file)
    splits into two fields and shifts every later cell one column right, so the row's cells are
    not where the header says. (A row with fewer fields is not one: exporters and hand-edited
    files drop trailing empty fields, and the cells a short row has are still in their columns.
    Extra fields that are all empty, a trailing delimiter, are harmless too.)"""

    fields: int
    """The row's field count."""
    expected: int
    """The header's."""
    overflow: Row
    """The row's values beyond the header's fields."""


@dataclass
class SheetScan:
    """What the detector saw outside tables, so nothing is dropped without a trace."""

    rows_read: int = 0
    ignored_rows: int = 0
    ignored_row_numbers: list[int] = field(default_factory=list)

    def ignore(self, index: int) -> None:
        self.ignored_rows += 1
        if len(self.ignored_row_numbers) < _IGNORED_KEEP:
            self.ignored_row_numbers.append(index + 1)


@dataclass
class TableStart:
    table: TableInfo


@dataclass
class TableEnd:
    table: TableInfo


TableEvent = TableStart | TableEnd | tuple[TableInfo, int, Row, RaggedRow | None]
"""Start, end, or a data row: (table, 0-based sheet row index, cells cut to the table, and
how the row is ragged when it has more fields than the header)."""
