"""Small builders for engine tests: real CSV and XLSX files written into tmp_path."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from ade.db.configuration_spec import ConfigurationSpec, default_configuration
from ade.worker.engine.pipeline import Summary, extract
from ade.worker.engine.readers import Sheet
from ade.worker.engine.tables import SheetScan, TableEnd, TableInfo, TableStart, find_tables


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(
    path: Path,
    sheets: dict[str, Sequence[Sequence[Any]]],
    *,
    hidden: dict[str, Sequence[str]] | None = None,
    merges: dict[str, Sequence[str]] | None = None,
) -> Path:
    """Rows start at A1; None leaves a cell empty. hidden: column letters; merges: "A1:C1"."""
    workbook = Workbook()
    for default in list(workbook.worksheets):
        workbook.remove(default)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        for letter in (hidden or {}).get(name, ()):
            sheet.column_dimensions[letter].hidden = True
        for ref in (merges or {}).get(name, ()):
            sheet.merge_cells(ref)
    workbook.save(path)
    return path


def detect(
    rows: list[list[Any]],
    name: str = "S",
    known: set[str] | dict[str, str] | None = None,
    *,
    field_counts: bool = False,
) -> list[dict[str, Any]]:
    """Run table detection on in-memory rows; one dict per table with its data rows.

    known: header texts that name a field (a set: each its own field; a dict: text -> field).
    field_counts: the rows are a CSV's (a row's length is its field count)."""
    if isinstance(known, dict):
        vocabulary = {k.lower(): v for k, v in known.items()}
    else:
        vocabulary = {k.lower(): k.lower() for k in known or set()}
    sheet = Sheet(name=name, rows=iter(rows), field_counts=field_counts)
    found: dict[int, dict[str, Any]] = {}
    order: list[int] = []
    for event in find_tables(sheet, lambda text: vocabulary.get(text.lower()), SheetScan()):
        if isinstance(event, TableStart):
            found[id(event.table)] = {"info": event.table, "rows": [], "ragged": []}
            order.append(id(event.table))
        elif isinstance(event, TableEnd):
            pass
        else:
            info, index, cells, ragged = event
            found[id(info)]["rows"].append(list(cells))
            if ragged is not None:
                found[id(info)]["ragged"].append((index, ragged))
    return [found[key] for key in order]


def info(table: dict[str, Any]) -> TableInfo:
    result: TableInfo = table["info"]
    return result


def run(
    path: Path, out: Path, spec: ConfigurationSpec | None = None, **kwargs: Any
) -> tuple[Summary, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    summary = extract(path, spec or default_configuration(), out, on_event=events.append, **kwargs)
    return summary, events


def read_table(out: Path, number: int) -> list[dict[str, str]]:
    with (out / "tables" / f"{number}.csv").open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def summary_json(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text("utf-8"))
    return data
