"""Scores the engine's column mappings against a corpus's hand-written expectations.

A corpus is a folder with ``files/`` (inputs) and ``expected/<file>.json``::

    {"file": "roster.csv",
     "configuration": {...},          # optional; default: the shipped people roster
     "tables": [{"sheet": "roster", "rows": 12,
                 "columns": {"Member #": "employee_id", "Employer": null, "@B": "email"}}]}

Tables are compared in the engine's order. A column is named by its header text as the engine
reports it, or by ``@`` and its column letter (blank headers, two-row headers). Every column of
every table must be listed: a column nobody wrote an expectation for is an error of the corpus.
A column listed by letter as unmapped that is not part of the table (an empty column beside it)
is no error: nothing in it can be mapped or lost.

Precision = correct mappings / mappings made; recall = correct mappings / mappings expected.
A mapping to a different field than expected, or where none was expected, is *wrong*; no mapping
where one was expected is *missed*.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ade.db.configuration_spec import ConfigurationSpec, default_configuration
from ade.worker.engine.errors import EngineError
from ade.worker.engine.pipeline import extract

CORPUS = Path(__file__).parent


@dataclass(frozen=True)
class Column:
    """One column's expectation beside what the engine did."""

    table: int
    key: str
    expected: str | None
    actual: str | None
    reason: str
    detail: str

    @property
    def wrong(self) -> bool:
        return self.actual is not None and self.actual != self.expected

    @property
    def missed(self) -> bool:
        return self.expected is not None and self.actual is None


@dataclass
class FileScore:
    file: str
    columns: list[Column] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Disagreements other than mappings: tables, sheets, row counts, unlisted columns."""

    @property
    def made(self) -> int:
        return sum(1 for c in self.columns if c.actual is not None)

    @property
    def expected(self) -> int:
        return sum(1 for c in self.columns if c.expected is not None)

    @property
    def correct(self) -> int:
        return sum(1 for c in self.columns if c.actual is not None and c.actual == c.expected)

    @property
    def wrong(self) -> list[Column]:
        return [c for c in self.columns if c.wrong]

    @property
    def missed(self) -> list[Column]:
        return [c for c in self.columns if c.missed]


def expectations(corpus: Path = CORPUS) -> list[Path]:
    return sorted((corpus / "expected").glob("*.json"))


def score(expectation_path: Path, corpus: Path = CORPUS) -> FileScore:
    """Run the engine on one corpus file and compare with its expectation."""
    expectation: dict[str, Any] = json.loads(expectation_path.read_text("utf-8"))
    name = expectation["file"]
    result = FileScore(name)
    config = expectation.get("configuration")
    spec = ConfigurationSpec.model_validate(config) if config else default_configuration()
    with tempfile.TemporaryDirectory(prefix="ade-corpus-") as scratch:
        try:
            summary = extract(corpus / "files" / name, spec, Path(scratch), write_xlsx=False)
        except EngineError as error:
            result.problems.append(f"engine failed: {error}")
            return result
    wanted = expectation["tables"]
    found = summary.tables
    if len(found) != len(wanted):
        result.problems.append(f"{len(found)} table(s) found, {len(wanted)} expected")
    for number, (want, table) in enumerate(zip(wanted, found, strict=False), start=1):
        _compare_table(result, number, want, table)
    return result


def _compare_table(
    result: FileScore, number: int, want: dict[str, Any], table: dict[str, Any]
) -> None:
    where = f"table {number}"
    if table["sheet"] != want["sheet"]:
        result.problems.append(f"{where}: sheet {table['sheet']!r}, expected {want['sheet']!r}")
    if table["rows"] != want["rows"]:
        result.problems.append(f"{where}: {table['rows']} rows, expected {want['rows']}")
    by_key: dict[str, dict[str, Any]] = {}
    for column in table["mapping"]:
        by_key.setdefault(f"@{column['column']}", column)
        by_key.setdefault(column["header"], column)
    listed: set[str] = set()
    for key, expected in want["columns"].items():
        column = by_key.get(key)
        if column is None and key.startswith("@") and expected is None:
            continue  # an empty column beside the table: nothing in it to map or to lose
        if column is None:
            result.problems.append(f"{where}: no column {key!r} (headers: {table['headers']})")
            continue
        listed.add(column["column"])
        result.columns.append(
            Column(
                number, key, expected, column["field"], column["reason"], column.get("detail", "")
            )
        )
    unlisted = [
        f"{c['column']} {c['header']!r}" for c in table["mapping"] if c["column"] not in listed
    ]
    if unlisted:
        result.problems.append(f"{where}: no expectation for {', '.join(unlisted)}")
