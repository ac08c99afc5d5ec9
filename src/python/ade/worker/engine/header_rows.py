"""Find a table's header row(s) in a block of consecutive non-blank rows.

The first row of the block that scores as a header becomes one. A header row, per column
segment:
  - has >= 2 non-empty cells, all short labels (text that is not a number, date or email),
    mostly distinct (a merged title repeated across columns is not a header); dates over
    columns of figures name periods (a payroll's weeks); one stray figure among >= 5 labels is
    allowed when the data below contradicts >= 2 of the labels (e-mails, figures or dates under
    them), as over an exporter's numbered first column headed "0";
  - is not a form's line of "Key:" cells and their values ("Tutor: | Ann Lee | ID: | 12-3");
  - is followed by at least one non-blank row, and covers the data: its non-empty count is at
    least 60% of the median count of the next rows (so "Company: | Acme" above a 5-column
    header is preamble, not a header).
A single column qualifies too when its header names one of the configuration's fields and values
follow (a list of e-mails under "Email").
Segments come from empty columns: columns empty in the candidate and all its sample rows split it,
as long as each side keeps >= 2 header cells (so a blank-header column inside one table does not
split it), unless the narrow side is a list of its own beside the table: two or more columns that
repeat one of the table's labels or end while the table goes on (a numbered list of departments
beside a faculty list). Each segment that qualifies is its own table: that is how side-by-side
tables are found. A spacer column inside one long table (an ADP register's empty column E) does not
split it when the rows stay aligned across it, unless the two sides' headers repeat labels or
fields: then they are two tables side by side, however well aligned.

Two-row headers:
  - a row that repeats values (a merged or hand-filled group row: "Contact, Contact") over a
    label row whose labels are distinct under their group ("Kana" may sit under both "Name"
    and "Name in NES"): both are the header;
  - a row of field codes over a row of labels ("FIRSTNAME" over "First Name", as HR systems
    export): the second row is a header too when the data below it contradicts it, column by
    column (dates, numbers or e-mails under its text);
  - a sparser label row right above the header ("Personal, , Contact, ") is a group row: its
    cells are forward-filled to the right and prefixed ("Contact" over "Email" gives "Contact
    Email"). A caption ("Team: U10 Girls", "Coach: Maria Lopez") or a title spilling outside the
    table is not a group row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import median

from ade.worker.engine.cells import Cell, Row, is_blank_row, is_empty
from ade.worker.engine.readers import Sheet
from ade.worker.engine.table_model import (
    KnownField,
    TableInfo,
    at,
    header_text,
    is_label,
    kind_of,
)

SAMPLE = 8
SPACER_EVIDENCE = 5
SAME_FIELDS_APART = 2
MIN_ONE_COLUMN_ROWS = 2
STRAY_HEADER_WIDTH = 5
STRAY_EVIDENCE = 2
_CAPTION = re.compile(r":\s*\S")
_LETTERS = re.compile(r"[^a-z]")


@dataclass
class NewTable:
    """A table whose header was just found, and the cells of its (lower) header row."""

    info: TableInfo
    header_cells: Row


class HeaderFinder:
    """Finds headers in the blocks of one sheet (it needs the sheet's merged ranges, and the
    mapper's header knowledge to tell two tables side by side from one)."""

    def __init__(self, sheet: Sheet, known: KnownField) -> None:
        self.sheet = sheet
        self.known = known

    def find(self, block: list[tuple[int, Row]]) -> tuple[int, list[NewTable]] | None:
        """(position in the block of the lowest header row, the tables found) or None."""
        for position in range(len(block) - 1):
            row = block[position][1]
            sample = [r for _, r in block[position + 1 : position + 1 + SAMPLE]]
            spans = _segments(row, sample, self.known)
            segments = [
                s
                for s in spans
                if _qualifies(row, sample, *s) or _one_column(row, sample, *s, self.known)
            ]
            if segments:
                return self._build(block, position, segments)
        return None

    def _build(
        self, block: list[tuple[int, Row]], position: int, segments: list[tuple[int, int]]
    ) -> tuple[int, list[NewTable]]:
        header_index, header = block[position]
        lower_index = position + 1
        two_rows_down = lower_index < len(block) and all(
            _label_row(block[lower_index][1], c0, c1, header)
            and (
                _repeats(header, c0, c1)
                or _contradicted(block[lower_index][1], block[lower_index + 1 :], c0, c1)
            )
            for c0, c1 in segments
        )
        if two_rows_down:
            upper_index, upper = header_index, header
            header_index, header = block[lower_index]
            position = lower_index
        elif position > 0:
            upper_index, upper = block[position - 1]
        else:
            upper_index, upper = -1, []
        tables: list[NewTable] = []
        for c0, c1 in segments:
            use_upper = upper_index >= 0 and (
                two_rows_down or self._group_row(upper, upper_index, header, c0, c1)
            )
            lower_texts = [header_text(at(header, c)) for c in range(c0, c1 + 1)]
            if use_upper:
                upper_texts = _forward_fill([header_text(at(upper, c)) for c in range(c0, c1 + 1)])
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
                header_fields=(
                    max(len(upper) if use_upper else 0, len(header))
                    if self.sheet.field_counts
                    else None
                ),
            )
            tables.append(NewTable(info, header[c0 : c1 + 1]))
        return position, tables

    def _group_row(self, upper: Row, upper_index: int, header: Row, c0: int, c1: int) -> bool:
        """Is the row above the header a group row that belongs to it (not a title)?"""
        cells = [at(upper, c) for c in range(c0, c1 + 1)]
        filled = [v for v in cells if not is_empty(v)]
        if not filled or not all(is_label(v) for v in filled):
            return False
        if any(_CAPTION.search(str(v)) or str(v).strip().endswith(":") for v in filled):
            return False  # "Report:" or "Coach: Maria Lopez": a caption, not a group label
        if not is_blank_row(upper, 0, c0) or not is_blank_row(upper, c1 + 1):
            return False  # spills outside the table: a title or preamble line
        header_count = sum(1 for c in range(c0, c1 + 1) if not is_empty(at(header, c)))
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


def _filled_columns(row: Row) -> list[int]:
    return [c for c, v in enumerate(row) if not is_empty(v)]


def _segments(row: Row, sample: list[Row], known: KnownField) -> list[tuple[int, int]]:
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

    spans = _join_spacers(spans, row, sample, known)
    return [(span[0], span[1]) for span in _join_narrow(spans, row, sample, known)]


def _join_narrow(
    spans: list[list[int]], row: Row, sample: list[Row], known: KnownField
) -> list[list[int]]:
    """Join each span with fewer than two header cells to its neighbour (the left one first):
    it is a column of that table past a spacer (its label in a group row above, or a lone
    "Notes"), unless it is a list of its own beside the table (see _stands_apart)."""
    apart: set[tuple[int, int]] = set()
    merged = True
    while merged and len(spans) > 1:
        merged = False
        for i, span in enumerate(spans):
            if _header_cells(row, span) >= 2 or (span[0], span[1]) in apart:
                continue
            for j in (i - 1, i + 1) if i > 0 else (i + 1,):
                if j < len(spans) and not _stands_apart(span, spans[j], row, sample, known):
                    low, high = sorted((i, j))
                    spans[low] = [spans[low][0], spans[high][1]]
                    del spans[high]
                    merged = True
                    break
            if merged:
                break
            apart.add((span[0], span[1]))
    return spans


def _header_cells(row: Row, span: list[int]) -> int:
    return sum(1 for c in range(span[0], span[1] + 1) if not is_empty(at(row, c)))


def _stands_apart(
    span: list[int], neighbour: list[int], row: Row, sample: list[Row], known: KnownField
) -> bool:
    """Is a narrow span a lookup list beside the table rather than its last columns? A list
    ("1 | Communication", "2 | Journalism" under "Departments") has at least two columns, and
    either repeats a label of the table it serves ("Research Group" beside "Research Group") or
    ends while the table goes on (four departments beside eighty people). One column past a
    spacer stays the table's own, however sparse (a "Notes" column)."""
    if span[1] - span[0] < 1:
        return False
    left, right = sorted((span, neighbour))
    if _repeats_header(row, left, right, known):
        return True
    return _last_filled(sample, span) < _last_filled(sample, neighbour)


def _last_filled(sample: list[Row], span: list[int]) -> int:
    """The last sample row with a value in the span (-1 for none)."""
    return max(
        (i for i, r in enumerate(sample) if not is_blank_row(r, span[0], span[1] + 1)),
        default=-1,
    )


def _join_spacers(
    spans: list[list[int]], row: Row, sample: list[Row], known: KnownField
) -> list[list[int]]:
    """Join spans split by an empty spacer column when they are one table: at least
    SPACER_EVIDENCE sample rows, each with data on both sides (independent tables side by side
    rarely stay row-aligned that long), and the two sides do not repeat each other's header:
    no label repeats across the gap, nor do SAME_FIELDS_APART or more fields under other
    spellings ("Given Name | Surname" beside "First Name | Last Name"). Two tables side by side
    share their labels or their fields however well their rows align; one table does not hold
    a field twice (one repeat, "Phone" and "Phone 2", stays one table: its second column is
    only unmapped)."""
    rows = [r for r in sample if not is_blank_row(r)]
    if len(spans) < 2 or len(rows) < SPACER_EVIDENCE:
        return spans
    joined = [spans[0]]
    for span in spans[1:]:
        left, right = joined[-1], span
        aligned = all(
            not is_blank_row(r, left[0], left[1] + 1)
            and not is_blank_row(r, right[0], right[1] + 1)
            for r in rows
        )
        if aligned and not _repeats_header(row, left, right, known):
            joined[-1] = [left[0], right[1]]
        else:
            joined.append(span)
    return joined


def _repeats_header(row: Row, left: list[int], right: list[int], known: KnownField) -> bool:
    """Does the right span's header repeat the left's: a shared label, or shared fields?"""
    left_texts = [header_text(at(row, c)) for c in range(left[0], left[1] + 1)]
    right_texts = [header_text(at(row, c)) for c in range(right[0], right[1] + 1)]
    left_labels = {t.lower() for t in left_texts if t}
    if any(t.lower() in left_labels for t in right_texts if t):
        return True
    left_fields = {known(t) for t in left_texts if t} - {None}
    right_fields = {known(t) for t in right_texts if t} - {None}
    return len(left_fields & right_fields) >= SAME_FIELDS_APART


def _qualifies(row: Row, sample: list[Row], c0: int, c1: int) -> bool:
    cells = [at(row, c) for c in range(c0, c1 + 1)]
    filled = [v for v in cells if not is_empty(v)]
    if len(filled) < 2 or not _all_labels(row, sample, c0, c1):
        return False
    texts = [header_text(v).lower() for v in filled if is_label(v)]
    if len(set(texts)) < max(2, len(texts) / 2):
        return False
    counts = []
    for other in sample:
        part = other[c0 : c1 + 1]
        if not is_blank_row(part):
            counts.append(sum(1 for v in part if not is_empty(v)))
    if not counts or max(counts) < 2:
        return False  # a header needs rows of data below it, not single notes
    if _form_line(filled):
        return False  # "Company: | Acme", "Tutor: | Ann Lee | ID: | 12-3": a form's lines
    if sum(1 for v in filled if _CAPTION.search(str(v))) * 2 >= len(filled):
        return False  # "Team: U10 Girls | Coach: Maria Lopez" are captions, not column names
    return len(filled) >= 0.6 * median(counts)


def _one_column(row: Row, sample: list[Row], c0: int, c1: int, known: KnownField) -> bool:
    """A sheet of one column (a list of e-mails under "Email") is a table when its header names
    a field: one label cannot be told from data by the tests above (>= 2 cells, coverage), so
    the mapper's header knowledge decides, and at least MIN_ONE_COLUMN_ROWS values must follow.
    A span is one column only when no other column holds anything on these rows (see
    _segments): in a wider block a lone label is a title, not a header."""
    if c0 != c1:
        return False
    cell = at(row, c0)
    if not is_label(cell) or _CAPTION.search(str(cell)) or str(cell).strip().endswith(":"):
        return False
    values = sum(1 for other in sample if not is_empty(at(other, c0)))
    return values >= MIN_ONE_COLUMN_ROWS and known(header_text(cell)) is not None


def _all_labels(row: Row, sample: list[Row], c0: int, c1: int) -> bool:
    """Are the row's cells column names? Short labels all, but for two exceptions:
    - dates over columns of figures name periods (a payroll's week-start dates over each
      week's hours, under group labels "Hours Worked", "Pay"), as long as two labels name
      the other columns;
    - one stray figure: an exporter that numbers its first column writes a "0" over it ("0,
      Registration ID, First, Last, Email, ..."). A row with one figure among its labels is
      still the header when the data below contradicts STRAY_EVIDENCE or more of its labels
      (e-mails, figures or dates under them): data rows are not contradicted by the rows
      under them."""
    columns = [c for c in range(c0, c1 + 1) if not is_empty(at(row, c))]
    others = [c for c in columns if not is_label(at(row, c))]
    if not others:
        return True  # the common case, decided without looking below

    def kinds(column: int) -> list[str]:
        return [kind_of(v) for r in sample if not is_empty(v := at(r, column))]

    periods = [c for c in others if kind_of(at(row, c)) == "date" and _figures(kinds(c))]
    strays = [c for c in others if c not in periods]
    if periods and len(columns) - len(others) < 2:
        return False
    if not strays:
        return True
    if len(strays) > 1 or len(columns) < STRAY_HEADER_WIDTH:
        return False
    typed = 0
    for column in columns:
        below = kinds(column) if column != strays[0] else []
        if below and sum(k != "text" for k in below) > len(below) / 2:
            typed += 1
    return typed >= STRAY_EVIDENCE


def _figures(kinds: list[str]) -> bool:
    """Does a column's sample hold mostly figures?"""
    return bool(kinds) and sum(k == "number" for k in kinds) > len(kinds) / 2


def _form_line(filled: list[Cell]) -> bool:
    """Is this row a form's line of "Key:" cells and their values ("Tutor: | Ann Lee | ID: |
    12-3"), or of keys still waiting for them ("Tutor 2: | ID:")? A form's keys end with a
    colon, column names do not; a merged key or value repeats across its cells, so repeats
    count once. At least half the distinct cells are keys, and the first cell is one."""
    texts = [header_text(v) for v in filled]
    runs = [text for i, text in enumerate(texts) if i == 0 or text != texts[i - 1]]
    keys = sum(1 for text in runs if text.endswith(":"))
    return runs[0].endswith(":") and keys * 2 >= len(runs)


def _repeats(row: Row, c0: int, c1: int) -> bool:
    """Does the row repeat a label across columns (a merged or hand-filled group row)?"""
    texts = [header_text(at(row, c)).lower() for c in range(c0, c1 + 1)]
    filled = [t for t in texts if t]
    return len(set(filled)) < len(filled)


def _label_row(row: Row, c0: int, c1: int, upper: Row) -> bool:
    """Is the row a second header row under `upper`: labels only, each distinct under its
    group label ("Kana" may sit under both "Name" and "Name in NES")?"""
    cells = [at(row, c) for c in range(c0, c1 + 1)]
    filled = [v for v in cells if not is_empty(v)]
    if len(filled) < 2 or not all(is_label(v) for v in filled):
        return False
    groups = _forward_fill([header_text(at(upper, c)).lower() for c in range(c0, c1 + 1)])
    pairs = [
        (g, header_text(v).lower()) for g, v in zip(groups, cells, strict=True) if not is_empty(v)
    ]
    return len(set(pairs)) == len(pairs)


def _contradicted(labels: Row, below: list[tuple[int, Row]], c0: int, c1: int) -> bool:
    """Does the data below a label row hold numbers, dates or e-mails under >= 2 of its labels?
    Then the label row is a second header row, not the first row of data."""
    rows = [row for _, row in below[:SAMPLE]]
    if not rows:
        return False
    labels_count = sum(1 for c in range(c0, c1 + 1) if not is_empty(at(labels, c)))
    if labels_count < 0.8 * (c1 - c0 + 1):
        return False  # a second header row names (nearly) every column
    typed = 0
    for column in range(c0, c1 + 1):
        if is_empty(at(labels, column)):
            continue
        kinds = [kind_of(v) for row in rows if not is_empty(v := at(row, column))]
        if kinds and sum(kind != "text" for kind in kinds) > len(kinds) / 2:
            typed += 1
    return typed >= 2


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
    if not lower:
        return upper
    if upper.lower() in lower.lower() or _LETTERS.sub("", upper.lower()) == _LETTERS.sub(
        "", lower.lower()
    ):
        return lower  # "FIRSTNAME" over "First Name" says nothing more than the label
    return f"{upper} {lower}"
