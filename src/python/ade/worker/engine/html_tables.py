"""Read the tables of an HTML page as sheets: the "Excel export" of many web systems.

Such a file is usually named .xls and holds an HTML `<table>` (with Microsoft Office namespaces
and conditional comments); Excel opens it, so users expect ADE to read it too. Each `<table>`
is a sheet, named by its `<caption>` or "Table N" (N counts the page's tables from 1), and each
`<tr>` a row of its `<td>`/`<th>` texts (whitespace collapsed, a `<br>` read as a space, empty
cells None). `colspan` and `rowspan` fill every cell they cover with the cell's text, as merged
ranges of a workbook are filled, and are reported as merged ranges. A row that holds a table
itself is page layout, not data: its nested table is read as a sheet of its own instead.

The page is parsed by lxml's HTML parser (libxml2), fed text decoded by the engine's own
encoding rules (BOM, UTF-8, the page's declared charset, detection), and streamed: each row is
dropped from the tree once read. libxml2's HTML push parser still keeps the input it has read
(about the page's size in memory), so pages larger than MAX_HTML_BYTES are refused (`too_large`):
such exports are better saved as CSV or XLSX.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ade.worker.engine.cells import Cell, Row
from ade.worker.engine.errors import EngineError
from ade.worker.engine.readers import MergedRange, Sheet, sniff_encoding_and_basis

_CHUNK = 1024 * 1024
MAX_HTML_BYTES = 128 * 1024 * 1024
"""The largest HTML page read: parsing holds about its size in memory (see module docstring)."""
_HEAD_BYTES = 4096
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_NUMBER = "data-ade-table"
_LAYOUT = "data-ade-layout"
# The HTML standard's bounds on spans: a hostile page cannot make a row of millions of cells.
_MAX_COLSPAN = 1000
_MAX_ROWSPAN = 65534


def html_sheets(path: Path, wanted: Sequence[str] | None = None) -> Iterator[Sheet]:
    """Yield one sheet per `<table>` of the page (all, or the named ones)."""
    size = path.stat().st_size
    if size > MAX_HTML_BYTES:
        raise EngineError(
            "too_large",
            f"{path.name} is a web page (HTML) of {size / 2**20:.0f} MiB; ADE reads HTML tables "
            f"of up to {MAX_HTML_BYTES // 2**20} MiB: save it as .xlsx or CSV instead",
        )
    with path.open("rb") as handle:
        match = _CHARSET.search(handle.read(_HEAD_BYTES))
    declared = match.group(1).decode("ascii") if match else None
    encoding, basis = sniff_encoding_and_basis(path, declared)
    seen: dict[str, int] = {}
    found = False
    for number, group in itertools.groupby(_table_rows(path, encoding), key=lambda item: item[0]):
        first = next(group)
        found = True
        name = first[1] or f"Table {number}"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        if wanted and name not in wanted:
            continue
        merged: list[MergedRange] = []
        cells = (item[2] for item in itertools.chain([first], group))
        yield Sheet(
            name=name,
            rows=_grid(cells, merged),
            merged=merged,
            details={"encoding": encoding, "encoding_basis": basis},
        )
    if not found:
        raise EngineError("no_table_found", f"{path.name} is a web page (HTML) without a table")
    missing = [name for name in wanted or () if name not in seen]
    if missing:
        raise EngineError(
            "sheet_not_found",
            f"no table named {', '.join(map(repr, missing))} in {path.name} "
            f"(tables: {', '.join(map(repr, seen))})",
        )


_Cells = list[tuple[str | None, int, int]]


def _table_rows(path: Path, encoding: str) -> Iterator[tuple[int, str | None, _Cells]]:
    """(table number, its caption, the row's cells as (text, colspan, rowspan)), row by row."""
    from lxml import etree

    parser = etree.HTMLPullParser(
        events=("start", "end"), tag=("table", "caption", "tr"), no_network=True
    )
    captions: dict[int, str] = {}
    count = 0
    with path.open("r", encoding=encoding, newline="") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
            for event, element in parser.read_events():
                if event == "start" and element.tag == "table":
                    count += 1
                    element.set(_NUMBER, str(count))
                    holder = next(element.iterancestors("tr"), None)
                    if holder is not None:
                        holder.set(_LAYOUT, "1")
                elif event == "end" and element.tag == "caption":
                    table = element.getparent()
                    if table is not None and table.get(_NUMBER):
                        captions[int(table.get(_NUMBER))] = _text(element) or ""
                elif event == "end" and element.tag == "tr":
                    row = _row(element)
                    table = next(element.iterancestors("table"), None)
                    _drop(element)
                    if row is not None and table is not None:
                        number = int(table.get(_NUMBER) or 0)
                        yield number, captions.get(number) or None, row
            if not chunk:
                return


def _row(tr: Any) -> _Cells | None:
    """The cells of a `<tr>`, or None for a layout row (one that holds a table)."""
    if tr.get(_LAYOUT):
        return None
    return [
        (
            _text(cell),
            _span(cell.get("colspan"), _MAX_COLSPAN),
            _span(cell.get("rowspan"), _MAX_ROWSPAN),
        )
        for cell in tr
        if cell.tag == "td" or cell.tag == "th"
    ]


def _text(element: Any) -> str | None:
    if len(element):  # markup inside: <br>, <b>, <span>...
        for br in element.iter("br"):
            br.tail = " " + (br.tail or "")
        raw = "".join(element.itertext())
    else:
        raw = element.text or ""
    text = " ".join(raw.split())
    return text or None


def _span(value: str | None, limit: int) -> int:
    if value is None:
        return 1
    try:
        span = int((value or "1").strip())
    except ValueError:
        return 1
    return min(max(span, 1), limit)


def _drop(tr: Any) -> None:
    """Free a row once read, and the rows before it: the tree never holds the whole page."""
    tr.clear(keep_tail=True)
    parent = tr.getparent()
    if parent is not None:
        while tr.getprevious() is not None:
            del parent[0]


def _grid(rows: Iterator[_Cells], merged: list[MergedRange]) -> Iterator[Row]:
    """Lay cells out on the grid: a cell goes to the first column no rowspan from above
    occupies, and its text fills every cell its spans cover (each span recorded in `merged`)."""
    above: dict[int, tuple[int, Cell]] = {}  # column -> (rows below still covered, text)
    for index, cells in enumerate(rows):
        if not above and all(c[1] == 1 and c[2] == 1 for c in cells):
            yield [c[0] for c in cells]  # no spans: the common case
            continue
        row: Row = []
        column = 0
        below: dict[int, tuple[int, Cell]] = {
            c: (left - 1, text) for c, (left, text) in above.items() if left > 1
        }
        for text, colspan, rowspan in cells:
            while column in above:
                column += 1
            for offset in range(colspan):
                _put(row, column + offset, text)
                if rowspan > 1:
                    below[column + offset] = (rowspan - 1, text)
            if colspan > 1 or rowspan > 1:
                merged.append(MergedRange(index, column, index + rowspan - 1, column + colspan - 1))
            column += colspan
        for col, (_, covering) in above.items():
            _put(row, col, covering)
        above = below
        yield row


def _put(row: Row, column: int, value: Cell) -> None:
    if column >= len(row):
        row.extend([None] * (column + 1 - len(row)))
    row[column] = value
