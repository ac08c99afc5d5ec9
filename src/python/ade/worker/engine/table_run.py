"""One table in flight: sampled, then mapped, then streamed row by row to its outputs.

A table's first SAMPLE_ROWS data rows are held back, because two decisions need to see values
before any row is written: which field each column feeds (the header is a claim, the values are
the evidence; see :mod:`ade.worker.engine.mapping`) and, for date columns, whether "03/04/2020"
is day-first or month-first. Then the mapping is announced (``table.found``), the output sink is
opened with its final columns, the held rows are processed and the rest stream through. The hold
is bounded (a few hundred rows of one table), so memory stays flat however long the table is.

A table that maps none of the fields only a record has (for people: no name, e-mail, ID, phone
or date column) is not a table of the configuration's records but a lookup list of departments,
a sheet of orders or a chart's counts: it is skipped, reported with its range, headers and
reason (`Mapper.not_records`), and given no number and no output. A file with no other table
fails with `no_table_found`, which says why.

A CSV row with more fields than the header (ragged, see
:class:`ade.worker.engine.table_model.RaggedRow`) is left out of the sample, since its cells are
shifted, and reported; its cells are still written. Rows the mapping shows are not records
(:class:`SumRows`: figures with no name, e-mail or id) are skipped as totals.

What Excel cannot hold is reported where it is lost, in the workbook only: each cell cut to
32,767 characters is an issue (``cut_in_workbook``), and so are the columns of a table wider than
16,384; a table longer than 1,048,576 rows continues on further worksheets, named in its summary
entry (``workbook_sheets``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from ade.db.configuration_spec import ConfigurationSpec, header_words
from ade.worker.engine.cells import Cell, Row, column_letter, is_empty
from ade.worker.engine.events import Emitter
from ade.worker.engine.mapping import Mapper, TableMapping
from ade.worker.engine.normalize import day_month_evidence, nanp_evidence
from ade.worker.engine.output import XLSX_NAME, OutputWriter, TableSink
from ade.worker.engine.table_model import RaggedRow, TableInfo, kind_of
from ade.worker.engine.validate import Issue, IssueTally, RowProcessor
from ade.worker.engine.value_profiles import is_date_value
from ade.worker.engine.workbook import EXCEL_MAX_COLUMNS, EXCEL_MAX_TEXT

SAMPLE_ROWS = 200
# How much of a cut cell's text its issue shows (the CSV holds all of it).
_SHOWN = 200
# A table in flight reports its row count at most this often (the clock is read every 256 rows).
PROGRESS_SECONDS = 2.0


class TableRun:
    """Counters, mapping, processor and sink of one table (see module docstring)."""

    def __init__(
        self,
        numbers: Callable[[], int],
        info: TableInfo,
        mapper: Mapper,
        writer: OutputWriter,
        emitter: Emitter,
        tally: IssueTally,
    ) -> None:
        self._numbers = numbers
        self.number = 0
        """Given when the table is known to be one of the configuration's (see _start)."""
        self.skipped: str | None = None
        """Why the table is not one of the configuration's records, once mapped."""
        self.info = info
        self.mapper = mapper
        self.spec: ConfigurationSpec = mapper.spec
        self.writer = writer
        self.emitter = emitter
        self.tally = tally
        self.issue_count = 0
        self.rows = 0
        self.next_progress = time.monotonic() + PROGRESS_SECONDS
        self.date_orders: dict[str, dict[str, str]] = {}
        self.phone_countries: dict[str, str] = {}
        """Phone fields whose country code the values gave (see _phone_countries)."""
        self.buffer: list[tuple[int, Row, RaggedRow | None]] | None = []
        self.sums: SumRows | None = None
        self._mapping: TableMapping | None = None
        self._sink: TableSink | None = None
        self._processor: RowProcessor | None = None
        self._headers: list[str] = []
        self._letters: list[str | None] = []

    def add(self, index: int, cells: Row, ragged: RaggedRow | None = None) -> None:
        if self.buffer is not None:
            self.buffer.append((index, cells, ragged))
            if len(self.buffer) >= SAMPLE_ROWS:
                self._start()
            return
        if self.skipped is not None:
            self.rows += 1
            return
        assert self._sink is not None and self._processor is not None and self.sums is not None
        if self.sums.active and self.sums.skipped(index, cells):
            return
        if ragged is not None:
            self._issue(self._processor.ragged_issue(index, ragged))
        output = self._processor.process(index, cells)
        cut = self._sink.write(output)
        if isinstance(cut, list):  # positions cut to fit Excel (see TableSink.write)
            for position in cut:
                self._issue(self._cut_issue(index, output, position))
        self.rows += 1
        if not self.rows % 256 and time.monotonic() >= self.next_progress:
            self.next_progress = time.monotonic() + PROGRESS_SECONDS
            self.emitter.emit("table.progress", table=self.number, rows=self.rows)

    def _start(self) -> None:
        held, self.buffer = self.buffer or [], None
        # A ragged row's cells are shifted: no evidence of what its columns hold.
        sample = [cells for _, cells, ragged in held if ragged is None]
        mapping = self._mapping = self.mapper.map_table(self.info, sample)
        self.skipped = self.mapper.not_records(mapping)
        if self.skipped is not None:
            for index, cells, ragged in held:
                self.add(index, cells, ragged)
            return
        self.number = self._numbers()
        self.sums = SumRows(self.spec, mapping, self.info)
        self.emitter.emit(
            "table.found",
            table=self.number,
            sheet=self.info.sheet,
            header_rows=[r + 1 for r in self.info.header_rows],
            columns=f"{column_letter(self.info.first_col)}:{column_letter(self.info.last_col)}",
            mapping=[c.as_dict(candidates=False) for c in mapping.columns],
        )
        orders = self._date_orders(mapping, sample)
        countries = self._phone_countries(mapping, sample)
        labels = [item.display_label for item in self.spec.fields]
        self._headers = labels + [header for _, header in mapping.kept]
        self._processor = RowProcessor(
            self.spec, self.number, self.info, mapping, orders, self._issue, countries
        )
        self._sink = self.writer.open_table(
            self.number, self.info.sheet, self._headers, self._processor.date_columns
        )
        self._letters = self._processor.letters + [
            column_letter(self.info.first_col + position) for position, _ in mapping.kept
        ]
        for issue in self._processor.table_issues():
            self._issue(issue)
        for issue in self._workbook_issues():
            self._issue(issue)
        for index, cells, ragged in held:
            self.add(index, cells, ragged)

    def _date_orders(self, mapping: TableMapping, sample: list[Row]) -> dict[str, str]:
        """Each mapped date field's day/month order: from its values when they settle it."""
        orders: dict[str, str] = {}
        for item in self.spec.fields:
            position = mapping.positions.get(item.name)
            if item.type != "date" or position is None:
                continue
            votes = {"dmy": 0, "mdy": 0}
            for cells in sample:
                verdict = day_month_evidence(cells[position])
                if verdict:
                    votes[verdict] += 1
            if votes["dmy"] and not votes["mdy"]:
                orders[item.name], basis = "dmy", "inferred"
            elif votes["mdy"] and not votes["dmy"]:
                orders[item.name], basis = "mdy", "inferred"
            else:
                orders[item.name] = self.spec.date_order
                basis = "conflicting" if votes["dmy"] else "configured"
            self.date_orders[item.name] = {"order": orders[item.name], "basis": basis}
        return orders

    def _phone_countries(self, mapping: TableMapping, sample: list[Row]) -> dict[str, str]:
        """Each mapped phone field's country code when the configuration sets none and its
        values settle it: international numbers of the North American plan only ("+1 555 201
        4410" beside "(555) 201-3344"), so its national numbers take +1 as well."""
        countries: dict[str, str] = {}
        if self.spec.default_phone_country_code is not None:
            return countries
        for item in self.spec.fields:
            position = mapping.positions.get(item.name)
            if item.type != "phone" or position is None:
                continue
            seen = {nanp_evidence(cells[position]) for cells in sample}
            if "nanp" in seen and "other" not in seen:
                countries[item.name] = "1"
                self.phone_countries[item.name] = "1"
        return countries

    def _workbook_issues(self) -> list[Issue]:
        """The table's own losses in the workbook (never in the CSV): columns beyond Excel's
        16,384, and header cells cut to Excel's 32,767 characters."""
        assert self._sink is not None
        issues = []
        left_out = self._sink.columns_left_out
        if left_out:
            first = EXCEL_MAX_COLUMNS
            issues.append(
                Issue(
                    self.number,
                    self.info.sheet,
                    None,
                    self._letters[first],
                    str(self._headers[first]),
                    "",
                    "cut_in_workbook",
                    f"the table has {len(self._headers):,} columns and an Excel sheet holds "
                    f"{EXCEL_MAX_COLUMNS:,}: its last {left_out:,} (from "
                    f"{self._headers[first]!r} on) are left out of {XLSX_NAME}; "
                    f"tables/{self.number}.csv holds them all",
                )
            )
        header_row = self.info.header_rows[-1] if self.info.header_rows else None
        for position in self._sink.header_cut or ():
            issues.append(self._cut_issue(header_row, self._headers, position))
        return issues

    def _cut_issue(self, index: int | None, row: Sequence[Cell], position: int) -> Issue:
        """The issue of one cell cut to fit an Excel cell (rare: text over 32,767 characters)."""
        text = str(row[position])
        return Issue(
            self.number,
            self.info.sheet,
            None if index is None else index + 1,
            self._letters[position] if position < len(self._letters) else None,
            str(self._headers[position]) if position < len(self._headers) else "",
            text[:_SHOWN],
            "cut_in_workbook",
            f"a text of {len(text):,} characters is cut to Excel's {EXCEL_MAX_TEXT:,} in "
            f"{XLSX_NAME}; tables/{self.number}.csv holds it whole",
        )

    def _issue(self, issue: Issue) -> None:
        self.issue_count += 1
        self.tally.add(issue)
        self.writer.issue(issue)

    def finish(self) -> dict[str, Any]:
        """Close the table's output and return its entry for the run summary."""
        if self.buffer is not None:
            self._start()
        if self.skipped is not None:
            return {
                "sheet": self.info.sheet,
                "range": self.info.cell_range,
                "headers": self.info.headers,
                "rows": self.rows,
                "reason": self.skipped,
            }
        assert self._sink is not None and self._processor is not None
        assert self._mapping is not None and self.sums is not None
        self._sink.close()
        self.sums.finish()
        info, mapping = self.info, self._mapping
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
            "subtotal_rows": [r + 1 for r in sorted(info.subtotal_rows)],
            "note_rows": [r + 1 for r in info.note_rows],
            "page_break_rows": [r + 1 for r in info.page_break_rows],
            "footer_rows": [r + 1 for r in sorted(info.footer_rows)],
            "nameless_rows": [r + 1 for r in info.nameless_rows],
            "end_reason": info.end_reason,
            "ragged_rows": info.ragged_rows,
            "ragged_row_numbers": [r + 1 for r in info.ragged_row_numbers],
            "header_fields": info.header_fields,
            "hidden_columns": [column_letter(c) for c in info.hidden_columns],
            "merged_header_cells": info.merged_header_cells,
            "fields_mapped": {c.field: c.letter for c in mapping.mapped() if c.field},
            "unmapped_columns": [
                {
                    "column": c.letter,
                    "header": c.header,
                    "reason": c.reason,
                    "kept_as": c.output_header,
                }
                for c in mapping.columns
                if c.field is None
            ],
            "missing_required": self._processor.missing_required,
            "date_orders": self.date_orders,
            # Phone fields written as +1 because their international numbers all were.
            "phone_country_codes": self.phone_countries,
            # Date fields hold dates: values that also held a time other than midnight, by field.
            "times_dropped": self._processor.times_dropped,
            "mapping": [c.as_dict() for c in mapping.columns],
            "issues": self.issue_count,
            "output": f"tables/{self.number}.csv",
            # Where the table is in the workbook: more than one worksheet beyond Excel's rows.
            "workbook_sheets": self._sink.sheets,
            "columns_left_out_of_workbook": self._sink.columns_left_out,
        }


# Field types that say who a row is about; a text field named "..._id" or "..._number" too.
_PERSON_TYPES = frozenset({"name", "full_name", "email"})
_ID_TYPES = frozenset({"text", "integer", "number"})
_ID_WORDS = frozenset({("id",), ("number",)})


class SumRows:
    """Rows of a table that are its sums, not records: no value in any of the columns that say
    who a row is about (its mapped names, e-mail and ids) and nothing but numbers elsewhere (an
    unlabelled totals row under an analyst's table, its name cells empty). A number in a name or
    e-mail column is a count, not a name; an id is an id whatever it looks like, so a row with
    an id, or an e-mail, and an empty name stays a record. Without such columns mapped nothing
    tells a sum from a record, and no row is skipped.

    They are skipped like the detector's labelled totals rows (:mod:`table_rows`): a subtotal
    when more records follow, else a footer row; the table's range then ends above them. A row
    of that kind holding a date names nobody either (a connections export's rows of a bare
    "Connected On" date): it is skipped wherever it stands and listed as nameless."""

    def __init__(self, spec: ConfigurationSpec, mapping: TableMapping, info: TableInfo) -> None:
        self.info = info
        self.names: list[int] = []
        self.ids: list[int] = []
        for item in spec.fields:
            position = mapping.positions.get(item.name)
            if position is None:
                continue
            if item.type in _PERSON_TYPES:
                self.names.append(position)
            elif item.type in _ID_TYPES and header_words(item.name)[-1:] in _ID_WORDS:
                self.ids.append(position)
        self.active = bool(self.names or self.ids)
        self.lead = (self.names + self.ids + [0])[0]
        self.team_lead = bool(self.names) and self.lead in self.names
        self.pending: list[int] = []
        self.last_record: int | None = None

    def skipped(self, index: int, cells: Row) -> bool:
        """Is this row a sum (held as pending until the next record says which kind)?"""
        lead = cells[self.lead]  # a name (or id) starting with a letter: a record, at once
        if isinstance(lead, str) and lead[:1].isalpha():
            # A team line ends with "team" or "total(s)": other names skip the regex.
            if not (
                self.team_lead and lead[-4:].lower() in _TEAM_ENDINGS and _TEAM_NAME.match(lead)
            ):
                return self._record(index)  # the common case, once a row: no more tests
            kind: str | None = "sum"
        else:
            kind = _names_nobody(cells, self.names, self.ids)
        if kind == "dated":
            self.info.nameless_rows.append(index)
            return True
        if kind == "sum":
            self.pending.append(index)
            return True
        return self._record(index)

    def _record(self, index: int) -> bool:
        """A record: the sums held above it were subtotals."""
        if self.pending:
            self.info.subtotal_rows.extend(self.pending)
            self.pending = []
        self.last_record = index
        return False

    def finish(self) -> None:
        """Sums after the last record are the table's totals."""
        if not self.pending:
            return
        self.info.footer_rows.extend(self.pending)
        self.pending = []
        if self.info.end_reason in ("end_of_sheet", "blank_gap"):
            self.info.end_reason = "totals"
        if self.last_record is not None:
            self.info.last_row = self.last_record


_TEAM_NAME = re.compile(r"^(\S{1,3} )?(team|totals?|team totals?|grand totals?)$", re.IGNORECASE)
"""A name cell that names the team or its totals ("TEAM", "TM TEAM", "Totals"): a box score's
team line among its players, skipped like a subtotal."""
_TEAM_ENDINGS = frozenset({"team", "otal", "tals"})


def _names_nobody(cells: Row, names: list[int], ids: list[int]) -> str | None:
    """ "sum" for a row of figures with no name, e-mail or id; "dated" for such a row with a
    date among them (a date alone names nobody either); None for a record."""
    for position in names:
        value = cells[position]
        if not is_empty(value) and not _is_number(value):
            return None
    for position in ids:
        if not is_empty(cells[position]):
            return None
    kind = None
    for value in cells:
        if is_empty(value):
            continue
        if _is_number(value):
            kind = kind or "sum"
        elif is_date_value(value):
            kind = "dated"
        else:
            return None
    return kind


def _is_number(value: Cell) -> bool:
    return kind_of(value) == "number"
