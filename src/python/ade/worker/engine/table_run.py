"""One table in flight: sampled, then mapped, then streamed row by row to its outputs.

A table's first SAMPLE_ROWS data rows are held back, because two decisions need to see values
before any row is written: which field each column feeds (the header is a claim, the values are
the evidence; see :mod:`ade.worker.engine.mapping`) and, for date columns, whether "03/04/2020"
is day-first or month-first. Then the mapping is announced (``table.found``), the output sink is
opened with its final columns, the held rows are processed and the rest stream through. The hold
is bounded (a few hundred rows of one table), so memory stays flat however long the table is.
"""

from __future__ import annotations

import time
from typing import Any

from ade.db.configuration_spec import ConfigurationSpec
from ade.worker.engine.cells import Row, column_letter
from ade.worker.engine.events import Emitter
from ade.worker.engine.mapping import Mapper, TableMapping
from ade.worker.engine.normalize import day_month_evidence
from ade.worker.engine.output import OutputWriter, TableSink
from ade.worker.engine.table_model import TableInfo
from ade.worker.engine.validate import Issue, IssueTally, RowProcessor

SAMPLE_ROWS = 200
# A table in flight reports its row count at most this often (the clock is read every 256 rows).
PROGRESS_SECONDS = 2.0


class TableRun:
    """Counters, mapping, processor and sink of one table (see module docstring)."""

    def __init__(
        self,
        number: int,
        info: TableInfo,
        mapper: Mapper,
        writer: OutputWriter,
        emitter: Emitter,
        tally: IssueTally,
    ) -> None:
        self.number = number
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
        self.buffer: list[tuple[int, Row]] | None = []
        self._mapping: TableMapping | None = None
        self._sink: TableSink | None = None
        self._processor: RowProcessor | None = None

    def add(self, index: int, cells: Row) -> None:
        if self.buffer is not None:
            self.buffer.append((index, cells))
            if len(self.buffer) >= SAMPLE_ROWS:
                self._start()
            return
        assert self._sink is not None and self._processor is not None
        self._sink.write(self._processor.process(index, cells))
        self.rows += 1
        if not self.rows % 256 and time.monotonic() >= self.next_progress:
            self.next_progress = time.monotonic() + PROGRESS_SECONDS
            self.emitter.emit("table.progress", table=self.number, rows=self.rows)

    def _start(self) -> None:
        held, self.buffer = self.buffer or [], None
        sample = [cells for _, cells in held]
        mapping = self._mapping = self.mapper.map_table(self.info, sample)
        self.emitter.emit(
            "table.found",
            table=self.number,
            sheet=self.info.sheet,
            header_rows=[r + 1 for r in self.info.header_rows],
            columns=f"{column_letter(self.info.first_col)}:{column_letter(self.info.last_col)}",
            mapping=[c.as_dict() for c in mapping.columns],
        )
        orders = self._date_orders(mapping, sample)
        labels = [item.display_label for item in self.spec.fields]
        self._sink = self.writer.open_table(
            self.number, self.info.sheet, labels + [header for _, header in mapping.kept]
        )
        self._processor = RowProcessor(
            self.spec, self.number, self.info, mapping, orders, self._issue
        )
        for issue in self._processor.table_issues():
            self._issue(issue)
        for index, cells in held:
            self.add(index, cells)

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

    def _issue(self, issue: Issue) -> None:
        self.issue_count += 1
        self.tally.add(issue)
        self.writer.issue(issue)

    def finish(self) -> dict[str, Any]:
        """Close the table's output and return its entry for the run summary."""
        if self.buffer is not None:
            self._start()
        assert self._sink is not None and self._processor is not None
        assert self._mapping is not None
        self._sink.close()
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
            "subtotal_rows": [r + 1 for r in info.subtotal_rows],
            "page_break_rows": [r + 1 for r in info.page_break_rows],
            "footer_rows": [r + 1 for r in info.footer_rows],
            "end_reason": info.end_reason,
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
            # Date fields hold dates: values that also held a time other than midnight, by field.
            "times_dropped": self._processor.times_dropped,
            "mapping": [c.as_dict() for c in mapping.columns],
            "issues": self.issue_count,
            "output": f"tables/{self.number}.csv",
        }
