"""Find the tables in a stream of rows, without holding the sheet in memory.

Real exports put titles and notes above the header, stack several tables on one sheet, start
at column C, sit side by side, end with totals, or hold no table at all. The detector streams
rows through two states:

*Searching*: non-blank rows collect into a block (a run of rows with no blank row between them,
at most LOOKAHEAD rows; older rows slide out as "ignored"). The first row of the block that
scores as a header becomes one. A header row, per column segment:
  - has >= 2 non-empty cells, all short labels (text that is not a number, date or email),
    mostly distinct (a merged title repeated across columns is not a header);
  - is followed by at least one non-blank row, and covers the data: its non-empty count is at
    least 60% of the median count of the next rows (so "Company: | Acme" above a 5-column
    header is preamble, not a header).
Segments come from empty columns: columns empty in the candidate and all its sample rows split
it, as long as each side keeps >= 2 header cells (so a blank-header column inside one table does
not split it). Each segment that qualifies is its own table: that is how side-by-side tables are
found.

Two-row headers: if the header row repeats values (a merged or hand-filled group row: "Contact,
Contact") and the next row is a distinct label row, both are the header. If the row right above
the header is a sparser label row ("Personal, , Contact, ") its cells are forward-filled to the
right and prefixed: "Contact" over "Email" gives "Contact Email".

*In a table*: every row is cut to the table's columns. Blank rows are skipped; after blank rows
a row ends the table if it looks like the start of something else (a lone title or note cell, a
repeat of the header, or a label row whose cells are known field names or contradict the
column types seen so far); otherwise the table continues (blank lines inside data). A totals
or notes row ("Total", "Grand total", "Note: ...") ends the table and is excluded. A repeat of
the header row inside the data (page-break headers of some exports) is skipped.

Everything is deterministic: no randomness, no dependence on anything but the rows.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from statistics import median
from typing import Literal

from ade.worker.engine.cells import Cell, Row, cell_ref, is_blank_row, is_empty
from ade.worker.engine.readers import Sheet

LOOKAHEAD = 12
SAMPLE = 8
PROFILE_ROWS = 20
MAX_LABEL = 80
_IGNORED_KEEP = 50

_NUMERIC = re.compile(r"^[\s$€£¥(+-]*\d[\d.,\s]*%?\)?\s*$")
_DATE_LIKE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(\s|T|$)")
_TOTALS = re.compile(r"^(grand |sub ?)?totals?:?$|^(sum|count|average|avg|mean)( of .*)?:?$")
_TOTALS_PREFIX = re.compile(r"^(grand |sub ?)?totals?\b")
# Every totals or notes row starts like this; data rows almost never do (a fast pre-filter).
_FOOTER_HINT = re.compile(
    r"\s*(grand|sub|total|sum|count|average|avg|mean|note|source|footnote|comment|remark|\*|\()",
    re.IGNORECASE,
)
_NOTE = re.compile(r"^(notes?|source|sources|footnotes?|comments?|remarks?)\s*:|^\*|^\(\d+\)")

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


def _is_label(value: Cell) -> bool:
    return isinstance(value, str) and len(value.strip()) <= MAX_LABEL and kind_of(value) == "text"


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
    footer_rows: list[int] = field(default_factory=list)
    end_reason: EndReason = "end_of_sheet"

    @property
    def width(self) -> int:
        return self.last_col - self.first_col + 1

    @property
    def cell_range(self) -> str:
        last = max(self.last_row, self.header_rows[-1])
        return f"{cell_ref(self.header_rows[0], self.first_col)}:{cell_ref(last, self.last_col)}"


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


TableEvent = TableStart | TableEnd | tuple[TableInfo, int, Row]
"""Start, end, or a data row: (table, 0-based sheet row index, cells cut to the table)."""


@dataclass
class _Active:
    info: TableInfo
    header_keys: list[str]
    # A cheap first test for "this row repeats the header": one cell compared as is.
    key_column: int
    key_value: Cell
    typed_columns: set[int] = field(default_factory=set)
    text_columns: set[int] = field(default_factory=set)
    profiled: int = 0
    gap: int = 0
    ended: bool = False


def find_tables(
    sheet: Sheet, is_known_header: Callable[[str], bool], scan: SheetScan | None = None
) -> Iterator[TableEvent]:
    """Stream the sheet's rows, yielding table starts, data rows and ends, in row order."""
    return _Detector(sheet, is_known_header, scan or SheetScan()).run()


class _Detector:
    def __init__(self, sheet: Sheet, known: Callable[[str], bool], scan: SheetScan) -> None:
        self.sheet = sheet
        self.known = known
        self.scan = scan

    def run(self) -> Iterator[TableEvent]:
        pending: deque[tuple[int, Row]] = deque()
        block: list[tuple[int, Row]] = []
        active: list[_Active] = []
        skipping_footer = False
        source = enumerate(self.sheet.rows)
        exhausted = False
        while True:
            if pending:
                index, row = pending.popleft()
            elif exhausted:
                break
            else:
                try:
                    index, row = next(source)
                    self.scan.rows_read += 1
                except StopIteration:
                    # A blank sentinel closes the last block like a blank row would.
                    exhausted = True
                    index, row = self.scan.rows_read, []
            if active:
                for table in active:
                    yield from self._feed(table, index, row)
                if all(table.ended for table in active):
                    # The row that ended the last table may start something new.
                    skipping_footer = active[-1].info.end_reason in ("totals", "notes")
                    for table in active:
                        yield TableEnd(table.info)
                    active = []
                    if skipping_footer:
                        self.scan.ignore(index)
                    else:
                        pending.appendleft((index, row))
                continue
            blank = is_blank_row(row)
            if skipping_footer:
                if blank:
                    skipping_footer = False
                else:
                    self.scan.ignore(index)
                continue
            if not blank:
                block.append((index, row))
                if len(block) < LOOKAHEAD:
                    continue
            found = self._find_header(block) if block else None
            if found is None:
                if blank:
                    for old, _ in block:
                        self.scan.ignore(old)
                    block = []
                else:  # window full and no header in it: slide
                    self.scan.ignore(block.pop(0)[0])
                continue
            position, active = found
            first_header = position - max(len(t.info.header_rows) - 1 for t in active)
            for old, _ in block[:first_header]:
                self.scan.ignore(old)
            for table in active:
                yield TableStart(table.info)
            rest = block[position + 1 :]
            if blank:
                rest.append((index, row))
            pending.extendleft(reversed(rest))
            block = []
        for table in active:
            yield TableEnd(table.info)

    # ------------------------------------------------------------------ inside a table

    def _feed(self, table: _Active, index: int, row: Row) -> Iterator[TableEvent]:
        if table.ended:
            return
        info = table.info
        cells = row[info.first_col : info.last_col + 1]
        if is_blank_row(cells):
            table.gap += 1
            return
        if len(cells) < info.width:
            cells = cells + [None] * (info.width - len(cells))
        if table.gap:
            if self._starts_something_else(table, cells):
                table.ended = True
                info.end_reason = "blank_gap"
                return
            info.blank_rows_skipped += table.gap
            table.gap = 0
        footer = _footer_kind(cells)
        if footer is not None:
            table.ended = True
            info.end_reason = footer
            info.footer_rows.append(index)
            return
        if cells[table.key_column] == table.key_value and self._is_header_again(table, cells):
            info.repeated_headers_skipped += 1
            return
        if table.profiled < PROFILE_ROWS:
            table.profiled += 1
            for column, value in enumerate(cells):
                if not is_empty(value):
                    if kind_of(value) == "text":
                        table.text_columns.add(column)
                    else:
                        table.typed_columns.add(column)
        if info.first_data_row is None:
            info.first_data_row = index
        info.last_row = index
        yield (info, index, cells)

    @staticmethod
    def _is_header_again(table: _Active, cells: Row) -> bool:
        return [header_text(v).lower() for v in cells] == table.header_keys

    def _starts_something_else(self, table: _Active, cells: Row) -> bool:
        filled = [(column, v) for column, v in enumerate(cells) if not is_empty(v)]
        if len(filled) == 1 and table.info.width >= 2 and _is_label(filled[0][1]):
            return True  # a lone title or note after a gap
        if self._is_header_again(table, cells):
            return True  # the same header again: a new stacked table
        if len(filled) >= 2 and all(_is_label(v) for _, v in filled):
            if any(self.known(header_text(v)) for _, v in filled):
                return True
            strictly_typed = table.typed_columns - table.text_columns
            if any(column in strictly_typed for column, _ in filled):
                return True
        return False

    # ------------------------------------------------------------------ finding headers

    def _find_header(self, block: list[tuple[int, Row]]) -> tuple[int, list[_Active]] | None:
        for position in range(len(block) - 1):
            row = block[position][1]
            sample = [r for _, r in block[position + 1 : position + 1 + SAMPLE]]
            segments = [s for s in _segments(row, sample) if _qualifies(row, sample, *s)]
            if segments:
                return self._build(block, position, segments)
        return None

    def _build(
        self, block: list[tuple[int, Row]], position: int, segments: list[tuple[int, int]]
    ) -> tuple[int, list[_Active]]:
        header_index, header = block[position]
        lower_index = position + 1
        # A group row filled across columns ("Contact, Contact") over a distinct label row.
        two_rows_down = lower_index < len(block) and all(
            _repeats(header, c0, c1) and _label_row(block[lower_index][1], c0, c1)
            for c0, c1 in segments
        )
        tables: list[_Active] = []
        if two_rows_down:
            upper_index, upper = header_index, header
            header_index, header = block[lower_index]
            position = lower_index
        elif position > 0:
            upper_index, upper = block[position - 1]
        else:
            upper_index, upper = -1, []
        for c0, c1 in segments:
            use_upper = upper_index >= 0 and (
                two_rows_down or self._group_row(upper, upper_index, header, c0, c1)
            )
            parts: list[list[str]] = []
            lower_texts = [header_text(_at(header, c)) for c in range(c0, c1 + 1)]
            if use_upper:
                upper_texts = _forward_fill([header_text(_at(upper, c)) for c in range(c0, c1 + 1)])
                parts = [[u, w] for u, w in zip(upper_texts, lower_texts, strict=True)]
                headers = [_combine(u, w) for u, w in parts]
                header_rows = [upper_index, header_index]
            else:
                parts = [[w] for w in lower_texts]
                headers = lower_texts
                header_rows = [header_index]
            info = TableInfo(
                sheet=self.sheet.name,
                header_rows=header_rows,
                first_col=c0,
                last_col=c1,
                headers=headers,
                header_parts=parts,
                hidden_columns=sorted(c for c in self.sheet.hidden_columns if c0 <= c <= c1),
                merged_header_cells=[
                    m.ref
                    for m in self.sheet.merged
                    if m.min_row <= header_rows[-1]
                    and m.max_row >= header_rows[0]
                    and m.max_col >= c0
                    and m.min_col <= c1
                ],
                last_row=header_rows[-1],
            )
            key_column = next(i for i, text in enumerate(lower_texts) if text)
            tables.append(
                _Active(
                    info=info,
                    header_keys=[h.lower() for h in lower_texts],
                    key_column=key_column,
                    key_value=_at(header, c0 + key_column),
                )
            )
        return position, tables

    def _group_row(self, upper: Row, upper_index: int, header: Row, c0: int, c1: int) -> bool:
        """Is the row above the header a group row that belongs to it (not a title)?"""
        cells = [_at(upper, c) for c in range(c0, c1 + 1)]
        filled = [v for v in cells if not is_empty(v)]
        if not filled or not all(_is_label(v) for v in filled):
            return False
        if any(str(v).strip().endswith(":") for v in filled):
            return False  # "Report:" style key/value preamble
        if not is_blank_row(upper, 0, c0) or not is_blank_row(upper, c1 + 1):
            return False  # spills outside the table: a title or preamble line
        header_count = sum(1 for c in range(c0, c1 + 1) if not is_empty(_at(header, c)))
        if len(filled) > header_count:
            return False
        if len(filled) >= 2:
            return True
        # One cell: a group only if it comes from a merge that covers part of the table.
        return any(
            m.min_row <= upper_index <= m.max_row
            and m.min_col >= c0
            and m.max_col <= c1
            and m.max_col > m.min_col
            and (m.min_col, m.max_col) != (c0, c1)
            for m in self.sheet.merged
        )


def _at(row: Row, column: int) -> Cell:
    return row[column] if column < len(row) else None


def _filled_columns(row: Row) -> list[int]:
    return [c for c, v in enumerate(row) if not is_empty(v)]


def _segments(row: Row, sample: list[Row]) -> list[tuple[int, int]]:
    """Column spans separated by columns empty in the candidate and every sample row."""
    occupied: set[int] = set(_filled_columns(row))
    for other in sample:
        occupied.update(_filled_columns(other))
    if not occupied:
        return []
    columns = sorted(occupied)
    spans: list[list[int]] = [[columns[0], columns[0]]]
    for column in columns[1:]:
        if column == spans[-1][1] + 1:
            spans[-1][1] = column
        else:
            spans.append([column, column])

    def header_cells(span: list[int]) -> int:
        return sum(1 for c in range(span[0], span[1] + 1) if not is_empty(_at(row, c)))

    merged = True
    while merged and len(spans) > 1:
        merged = False
        for i, span in enumerate(spans):
            if header_cells(span) < 2:
                j = i - 1 if i > 0 else i + 1
                low, high = sorted((i, j))
                spans[low] = [spans[low][0], spans[high][1]]
                del spans[high]
                merged = True
                break
    return [(span[0], span[1]) for span in spans]


def _qualifies(row: Row, sample: list[Row], c0: int, c1: int) -> bool:
    cells = [_at(row, c) for c in range(c0, c1 + 1)]
    filled = [v for v in cells if not is_empty(v)]
    if len(filled) < 2 or not all(_is_label(v) for v in filled):
        return False
    texts = [header_text(v).lower() for v in filled]
    if len(set(texts)) < max(2, len(texts) / 2):
        return False
    counts = []
    for other in sample:
        part = other[c0 : c1 + 1]
        if not is_blank_row(part):
            counts.append(sum(1 for v in part if not is_empty(v)))
    if not counts or max(counts) < 2:
        return False  # a header needs rows of data below it, not single notes
    if len(filled) == 2 and header_text(filled[0]).endswith(":"):
        return False  # "Company: | Acme" is a key/value preamble line
    return len(filled) >= 0.6 * median(counts)


def _repeats(row: Row, c0: int, c1: int) -> bool:
    """Does the row repeat a label across columns (a merged or hand-filled group row)?"""
    texts = [header_text(_at(row, c)).lower() for c in range(c0, c1 + 1)]
    filled = [t for t in texts if t]
    return len(set(filled)) < len(filled)


def _label_row(row: Row, c0: int, c1: int) -> bool:
    cells = [_at(row, c) for c in range(c0, c1 + 1)]
    filled = [v for v in cells if not is_empty(v)]
    if len(filled) < 2 or not all(_is_label(v) for v in filled):
        return False
    texts = [header_text(v).lower() for v in filled]
    return len(set(texts)) == len(texts)


def _forward_fill(texts: list[str]) -> list[str]:
    filled: list[str] = []
    last = ""
    for text in texts:
        last = text or last
        filled.append(last)
    return filled


def _combine(upper: str, lower: str) -> str:
    if not upper:
        return lower
    if not lower or upper.lower() in lower.lower():
        return lower or upper
    return f"{upper} {lower}"


def _footer_kind(cells: Row) -> EndReason | None:
    """'totals' for a totals row, 'notes' for a note row, None for data (the common case)."""
    first: Cell = None
    for value in cells:
        if not is_empty(value):
            first = value
            break
    if not isinstance(first, str) or (len(first) <= 60 and not _FOOTER_HINT.match(first)):
        return None
    filled = [v for v in cells if not is_empty(v)]
    text = " ".join(first.lower().split())
    if _TOTALS.match(text):
        return "totals"
    if _TOTALS_PREFIX.match(text) and all(kind_of(v) == "number" for v in filled[1:]):
        return "totals"
    if len(filled) == 1 and (_NOTE.match(text) or len(text) > 60):
        return "notes"
    return None
