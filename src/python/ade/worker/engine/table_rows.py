"""Inside a table: which streamed row is data, which is skipped, and which ends the table.

Every row is cut to the table's columns. Blank rows are skipped. After blank rows, a row ends
the table if it looks like the start of something else (a lone title or note cell, a repeat of
the header, or a label row whose cells are known field names or contradict the column types
seen so far); otherwise the table continues (blank lines inside data).

Reports paginate: a repeat of the header inside the data is skipped, and so are the page's
title rows above it when they repeat the report's own title (the rows above the first header)
or say "page" or "continued", so one table stays one table across pages.

In delimited text a row's field count is the row's own: a data row with values past the header's
fields is ragged (an unquoted delimiter inside a value shifted its cells). It stays data, is
marked so its cells are kept out of the column profiles and the mapping sample, and is reported.
A row with fewer fields is read with its missing trailing cells empty, and is not reported: many
exporters drop trailing empty fields, and the cells it has are still in their columns.

A statistics row ("Max", "Min", "Median" over figures only) is a totals row too.
A notes row ("Note: ...", "Source: ...") ends the table and is excluded, unless the row right
under it is more of the table's data: then it is a note on the rows that follow, skipped, and
the table goes on. A totals row ("Total",
"Grand total", "Team Totals", "Dept 100 Total", a box score's "TEAM" line of figures) is excluded
too; it ends the table unless more of the table's data follows, in which case it was a subtotal
and the table goes on (consecutive totals rows are decided together). A row that does not look
like the table's data (a lone label, a row of labels naming fields or contradicting the column
types) is not "more data"; the header again right under a subtotal is a page break, and is. A
totals label may sit in an empty column left of the table (the total's caption of a report whose
first column is blank).

The rows right under the table's last totals or notes row, up to a blank row, are its footer (a
box score's shooting summary, a note's second line): excluded, and listed as footer rows. A row
of field names there is another table's header, and starts it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ade.worker.engine.cells import Cell, Row, is_blank_row, is_empty
from ade.worker.engine.table_model import (
    EndReason,
    KnownField,
    RaggedRow,
    TableInfo,
    header_text,
    is_label,
    kind_of,
)

PROFILE_ROWS = 20
MAX_PAGE_TITLE_ROWS = 3
MAX_FOOTER_ROWS = 20

_TOTALS = re.compile(r"^(grand |sub ?|team )?totals?:?$|^(sum|count|average|avg|mean)( of .*)?:?$")
# A box score's team line (team rebounds, team turnovers): the team's figures, not a player's.
_TEAM_LINE = re.compile(r"^team:?$")
_LETTER = re.compile(r"[^\W\d_]")
_TOTALS_PREFIX = re.compile(r"^(grand |sub ?)?totals?\b")
_TOTALS_SUFFIX = re.compile(r"\b(sub ?)?totals?:?$")
# Every totals or notes row starts like this; data rows almost never do (a fast pre-filter).
_FOOTER_HINT = re.compile(
    r"\s*(grand|sub|total|team|sum|count|average|avg|mean|max|min|median|note|source|footnote"
    r"|comment|remark|\*|\()",
    re.IGNORECASE,
)
# A statistic of the column above ("Max", "Min"): totals when only figures follow it, since
# "Max" may also be a person's first name ("Max | Power | 30").
_STATISTIC = re.compile(r"^(max|min|maximum|minimum|median)\.?:?$")
_NOTE = re.compile(r"^(notes?|source|sources|footnotes?|comments?|remarks?)\s*:|^\*|^\(\d+\)")
_WORD = re.compile(r"[^\W\d_]+")
_COUNT = re.compile(r"^\s*\d[\d,.]*\s+[^\W\d_]+\s*$")  # "12 employees" on a totals row
_PAGE_WORDS = frozenset({"page", "pages", "of", "continued", "cont", "contd"})

Words = tuple[str, ...]
Unlike = Literal["lone_label", "header_again", "field_names", "contradicts_types"]


def title_words(row: Row) -> Words:
    """A title row's words, without page numbers and "continued" (how page titles differ)."""
    text = " ".join(str(v) for v in row if not is_empty(v)).lower()
    return tuple(w for w in _WORD.findall(text) if w not in _PAGE_WORDS)


@dataclass(slots=True)
class Step:
    """What one row did to the table."""

    data: Row | None = None
    """The row's cells, when it is a data row of the table."""
    ragged: RaggedRow | None = None
    """Set when the data row has more fields than the header (delimited text only)."""
    ended: bool = False
    replay: Sequence[tuple[int, Row]] = ()  # not a list made for every row of data
    """Rows the table did not take, to be searched for the next table's header."""
    skip_after: bool = False
    """The table ended on a footer with no blank row after it: rows up to the next blank one
    are more footer (notes under a totals row), not a new table."""


_NOTHING = Step()


class OpenTable:
    """A table being streamed, from its header to its end."""

    def __init__(
        self,
        info: TableInfo,
        header_cells: Row,
        preamble: set[Words],
        known: KnownField,
    ) -> None:
        self.info = info
        lower_texts = [header_text(v) for v in header_cells]
        self.header_keys = [text.lower() for text in lower_texts]
        # A cheap first test for "this row repeats the header": one cell compared as is.
        self.key_column = next(i for i, text in enumerate(lower_texts) if text)
        self.key_value: Cell = header_cells[self.key_column]
        self.preamble = preamble
        self.known = known
        self.typed_columns: set[int] = set()
        self.text_columns: set[int] = set()
        self.profiled = 0
        self.gap = 0
        self.ended = False
        self.pending_totals: list[int] = []
        self.in_footer = False
        self.footer_from: tuple[int, EndReason] = (0, "end_of_sheet")
        self.set_off = False  # the row being taken follows blank rows
        self.note_set_off = False
        self.held: list[tuple[int, Row]] = []

    # -- streaming -----------------------------------------------------------------------------

    def feed(self, index: int, row: Row) -> Step:
        if self.ended:
            return _NOTHING
        info = self.info
        cells = row[info.first_col : info.last_col + 1]
        if self.in_footer:
            return self._footer_row(index, row, cells)
        if is_blank_row(cells):
            if self.held:
                self.held.append((index, row))
            else:
                self.gap += 1
            return _NOTHING
        if len(cells) < info.width:
            cells = cells + [None] * (info.width - len(cells))
        if self.held:
            return self._after_held(index, row, cells)
        if self.pending_totals:
            return self._after_total(index, row, cells)
        if self.gap:
            if self._is_page_title(row):
                self.held.append((index, row))  # a page break, if the header follows
                return _NOTHING
            if self._starts_something_else(cells):
                return self._end("blank_gap", [(index, row)])
            info.blank_rows_skipped += self.gap
            self.gap = 0
            self.set_off = True
        step = self._take(index, row, cells)
        self.set_off = False
        return step

    def close(self) -> list[tuple[int, Row]]:
        """End of the sheet: settle a pending total; return rows held for a page break."""
        if self.pending_totals:
            self.info.end_reason = "totals"
            self.info.footer_rows.extend(self.pending_totals)
            self.pending_totals = []
        held, self.held = self.held, []
        self.ended = True
        return held

    def _take(self, index: int, row: Row, cells: Row) -> Step:
        info = self.info
        footer = footer_kind(row, cells, info.first_col)
        if footer == "notes":
            return self._enter_footer("notes", index, row, cells)
        if footer == "totals":
            self.pending_totals.append(index)
            return _NOTHING
        if cells[self.key_column] == self.key_value and self._is_header_again(cells):
            info.repeated_headers_skipped += 1
            return _NOTHING
        ragged = None
        if info.header_fields is not None and len(row) > info.header_fields:
            ragged = self._ragged(row)
        if ragged is not None:
            info.note_ragged(index)
        elif self.profiled < PROFILE_ROWS:  # shifted cells say nothing of their columns
            self.profiled += 1
            for column, value in enumerate(cells):
                if not is_empty(value):
                    if kind_of(value) == "text":
                        self.text_columns.add(column)
                    else:
                        self.typed_columns.add(column)
        if info.first_data_row is None:
            info.first_data_row = index
        info.last_row = index
        return Step(data=cells, ragged=ragged)

    def _ragged(self, row: Row) -> RaggedRow | None:
        """The row's fault when it has values past the header's fields (see RaggedRow)."""
        expected = self.info.header_fields
        if expected is None or is_blank_row(row, expected):
            return None  # a trailing delimiter, or no field counts at all
        return RaggedRow(len(row), expected, row[expected:])

    def _end(self, reason: EndReason, replay: list[tuple[int, Row]]) -> Step:
        self.ended = True
        self.info.end_reason = reason
        return Step(ended=True, replay=replay)

    # -- after a totals row --------------------------------------------------------------------

    def _after_total(self, index: int, row: Row, cells: Row) -> Step:
        """Totals rows were seen: this next non-blank row says whether they were subtotals (more
        data follows) or the table's totals. Rows of totals in a row (a box score's TEAM line
        over its Totals line) are decided together."""
        gap = self.gap
        kind = footer_kind(row, cells, self.info.first_col)
        if kind == "totals" and not gap:
            self.pending_totals.append(index)
            return _NOTHING
        unlike = None if kind else self._unlike_data(cells)
        if not gap and unlike == "header_again":
            unlike = None  # a page break right under a subtotal: the table goes on
        if kind is not None or unlike is not None:
            self.info.footer_rows.extend(self.pending_totals)
            self.pending_totals = []
            if gap or unlike == "field_names":  # the next table may start on this row
                return self._end("totals", [(index, row)])
            return self._enter_footer("totals", index, row, cells)
        self.info.subtotal_rows.extend(self.pending_totals)
        self.info.blank_rows_skipped += gap
        self.pending_totals, self.gap = [], 0
        return self._take(index, row, cells)

    # -- the footer block --------------------------------------------------------------------

    def _enter_footer(self, reason: EndReason, index: int, row: Row, cells: Row) -> Step:
        """The table's data ended on a totals or notes row with no blank row after it: this row
        and the ones under it, up to a blank row, are its footer (notes, a box score's summary
        lines), not records and not a new table."""
        self.footer_from = (len(self.info.footer_rows), self.info.end_reason)
        self.note_set_off = self.set_off
        self.info.end_reason = reason
        self.in_footer = True
        return self._footer_row(index, row, cells)

    def _footer_row(self, index: int, row: Row, cells: Row) -> Step:
        if is_blank_row(row):
            return self._end(self.info.end_reason, [])
        if self._section_note_ends(cells):
            return self._take(index, row, cells)
        block = len(self.info.footer_rows)
        if is_blank_row(cells) or block >= MAX_FOOTER_ROWS:
            # Beside the table, or too long for a footer: leave it to the search, which skips
            # it up to the next blank row (it may hold the start of something else).
            step = self._end(self.info.end_reason, [(index, row)])
            step.skip_after = True
            return step
        self.info.footer_rows.append(index)
        return _NOTHING

    def _section_note_ends(self, cells: Row) -> bool:
        """A note row set off by blank rows from the data above it and right above more of the
        table's data is a note on the rows that follow (a players list's "Not in Wikipedia
        English, checked ..." between two groups), not the table's end: the row under it fills
        at least half the table's columns and looks like its data. The note is skipped (listed
        as a note row) and the table goes on. A note right under the last record closes the
        table, whatever follows it (a report's "Prepared by ... | Page 1 of 1" line)."""
        start, reason = self.footer_from
        notes = self.info.footer_rows[start:]
        if self.info.end_reason != "notes" or len(notes) != 1 or not self.note_set_off:
            return False
        filled = sum(1 for v in cells if not is_empty(v))
        if filled < max(2, self.info.width / 2) or self._unlike_data(cells) is not None:
            return False
        del self.info.footer_rows[start:]
        self.info.note_rows.extend(notes)
        self.info.end_reason = reason
        self.in_footer = False
        return True

    # -- page breaks ---------------------------------------------------------------------------

    def _after_held(self, index: int, row: Row, cells: Row) -> Step:
        titles = [i for i, r in self.held if not is_blank_row(r)]
        if self._is_header_again(cells):
            self.info.page_break_rows.extend(titles)
            self.info.repeated_headers_skipped += 1
            self.info.blank_rows_skipped += self.gap
            self.held, self.gap = [], 0
            return _NOTHING
        if self._is_page_title(row) and len(titles) < MAX_PAGE_TITLE_ROWS:
            self.held.append((index, row))
            return _NOTHING
        held, self.held = self.held, []
        return self._end("blank_gap", [*held, (index, row)])

    def _is_page_title(self, row: Row) -> bool:
        """The report's title again (page numbers aside), or a "Page 2" / "continued" line."""
        filled = [v for v in row if not is_empty(v)]
        if not filled or len(filled) > MAX_PAGE_TITLE_ROWS or not all(map(is_label, filled)):
            return False
        words = title_words(row)
        if words and words in self.preamble:
            return True
        text = " ".join(str(v) for v in filled).lower()
        return any(w in _PAGE_WORDS - {"of"} for w in _WORD.findall(text))

    # -- what rows look like -------------------------------------------------------------------

    def _is_header_again(self, cells: Row) -> bool:
        return [header_text(v).lower() for v in cells] == self.header_keys

    def _starts_something_else(self, cells: Row) -> bool:
        return self._unlike_data(cells) is not None

    def _unlike_data(self, cells: Row) -> Unlike | None:
        """Why this row is not the table's data (the start of something else), or None."""
        filled = [(column, v) for column, v in enumerate(cells) if not is_empty(v)]
        if len(filled) == 1 and self.info.width >= 2 and is_label(filled[0][1]):
            return "lone_label"  # a title or a note
        if self._is_header_again(cells):
            return "header_again"  # after a gap: a new stacked table
        if len(filled) >= 2 and all(is_label(v) for _, v in filled):
            if any(self.known(header_text(v)) is not None for _, v in filled):
                return "field_names"  # another table's header
            strictly_typed = self.typed_columns - self.text_columns
            if any(column in strictly_typed for column, _ in filled):
                return "contradicts_types"  # labels where this table has figures
        return None


def footer_kind(row: Row, cells: Row, first_col: int) -> EndReason | None:
    """'totals' for a totals row, 'notes' for a note row, None for data (the common case)."""
    kind = _footer_kind(cells)
    if kind is None and first_col > 0:
        # "TOTAL" in an empty column left of the table, the amounts under the table's columns.
        left = [v for v in row[:first_col] if not is_empty(v)]
        if len(left) == 1 and isinstance(left[0], str):
            text = " ".join(left[0].lower().split())
            if _TOTALS.match(text) and all(
                kind_of(v) == "number" for v in cells if not is_empty(v)
            ):
                kind = "totals"
    return kind


def _footer_kind(cells: Row) -> EndReason | None:
    first: Cell = None
    for value in cells:
        if not is_empty(value):
            first = value
            break
    if not isinstance(first, str):
        return None
    if len(first) <= 60 and not _FOOTER_HINT.match(first) and "total" not in first.lower():
        return None
    filled = [v for v in cells if not is_empty(v)]
    text = " ".join(first.lower().split())
    if _TOTALS.match(text):
        return "totals"
    if _TEAM_LINE.match(text) and not any(_LETTER.search(str(v)) for v in filled[1:]):
        return "totals"
    numbers_only = all(kind_of(v) == "number" or _COUNT.match(str(v)) for v in filled[1:])
    if numbers_only and (_TOTALS_PREFIX.match(text) or _TOTALS_SUFFIX.search(text)):
        return "totals"
    if numbers_only and len(filled) > 1 and _STATISTIC.match(text):
        return "totals"
    if len(filled) == 1 and (_NOTE.match(text) or len(text) > 60):
        return "notes"
    return None
