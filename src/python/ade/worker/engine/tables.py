"""Find the tables in a stream of rows, without holding the sheet in memory.

Real exports put titles and notes above the header, stack several tables on one sheet, start
at column C, sit side by side, end with totals, paginate, or hold no table at all. The detector
streams rows through two states:

*Searching*: non-blank rows collect into a block (a run of rows with no blank row between them,
at most LOOKAHEAD rows; older rows slide out as "ignored"). The first row of the block that
scores as a header becomes one (:mod:`ade.worker.engine.header_rows`).

*In a table*: each table decides row by row what is data, what is skipped (blank lines, repeated
headers, page titles, subtotals), what ends it and which data rows of a CSV have more fields than
the header (:mod:`ade.worker.engine.table_rows`). Rows a table ends on go back to the search, so
the next table can start on them.

Everything is deterministic: no randomness, no dependence on anything but the rows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence

from ade.worker.engine.cells import Row, is_blank_row
from ade.worker.engine.header_rows import HeaderFinder
from ade.worker.engine.readers import Sheet
from ade.worker.engine.table_model import (
    KnownField,
    SheetScan,
    TableEnd,
    TableEvent,
    TableInfo,
    TableStart,
    header_text,
    kind_of,
)
from ade.worker.engine.table_rows import OpenTable, Words, title_words

__all__ = [
    "SheetScan",
    "TableEnd",
    "TableEvent",
    "TableInfo",
    "TableStart",
    "find_tables",
    "header_text",
    "kind_of",
]

LOOKAHEAD = 12
_TITLES_KEPT = 4


def find_tables(
    sheet: Sheet, known_field: KnownField, scan: SheetScan | None = None
) -> Iterator[TableEvent]:
    """Stream the sheet's rows, yielding table starts, data rows and ends, in row order.

    `known_field` is the mapper's header knowledge: the field a header text names, or None."""
    return _Detector(sheet, known_field, scan or SheetScan()).run()


class _Detector:
    """The two states of the module docstring, over one sheet."""

    def __init__(self, sheet: Sheet, known: KnownField, scan: SheetScan) -> None:
        self.sheet = sheet
        self.known = known
        self.scan = scan
        self.headers = HeaderFinder(sheet, known)
        # The last rows ignored above a header: a report's title, which pages repeat.
        self.titles: deque[Words] = deque(maxlen=_TITLES_KEPT)

    def _ignore(self, index: int, row: Row) -> None:
        self.scan.ignore(index)
        words = title_words(row)
        if words:
            self.titles.append(words)

    def run(self) -> Iterator[TableEvent]:
        pending: deque[tuple[int, Row]] = deque()
        block: list[tuple[int, Row]] = []
        active: list[OpenTable] = []
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
                replay: Sequence[tuple[int, Row]] | None = None
                for table in active:
                    step = table.feed(index, row)
                    if step.data is not None:
                        yield (table.info, index, step.data, step.ragged)
                    if step.ended:
                        skipping_footer = step.skip_after
                        if replay is None or (step.replay and step.replay[0][0] < replay[0][0]):
                            replay = step.replay
                # A table ends only with a step that says so (replay is then set): the common
                # row of data costs no look at every table.
                if replay is not None and all(table.ended for table in active):
                    for table in active:
                        yield TableEnd(table.info)
                    active = []
                    pending.extendleft(reversed(replay or []))
                continue
            blank = is_blank_row(row)
            if skipping_footer:
                if blank:
                    skipping_footer = False
                else:
                    self._ignore(index, row)
                continue
            if not blank:
                block.append((index, row))
                if len(block) < LOOKAHEAD:
                    continue
            found = self.headers.find(block) if block else None
            if found is None:
                if blank:
                    for old, old_row in block:
                        self._ignore(old, old_row)
                    block = []
                else:  # window full and no header in it: slide
                    old, old_row = block.pop(0)
                    self._ignore(old, old_row)
                continue
            position, tables = found
            first_header = position - max(len(t.info.header_rows) - 1 for t in tables)
            for old, old_row in block[:first_header]:
                self._ignore(old, old_row)
            preamble = set(self.titles)
            self.titles.clear()
            active = [OpenTable(t.info, t.header_cells, preamble, self.known) for t in tables]
            for table in active:
                yield TableStart(table.info)
            rest = block[position + 1 :]
            if blank:
                rest.append((index, row))
            pending.extendleft(reversed(rest))
            block = []
        for table in active:
            for old, _ in table.close():
                self.scan.ignore(old)
            yield TableEnd(table.info)
