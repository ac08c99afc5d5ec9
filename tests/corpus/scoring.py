"""Scores the engine's column mappings against a corpus's hand-written expectations.

A corpus is a folder with ``files/`` (inputs) and ``expected/<file>.json``::

    {"file": "roster.csv",
     "configuration": {...},          # optional; default: the shipped people roster
     "tables": [{"sheet": "roster", "rows": 12,
                 "columns": {"Member #": "employee_id", "Employer": null, "@B": "email",
                             "Team": ["department", null]},
                 "values": [{"row": 1, "first_name": "Owen", "date_of_birth": "1994-05-12"}]}]}

Tables are compared in the engine's order. A column is named by its header text as the engine
reports it, or by ``@`` and its column letter (blank headers, two-row headers). Every column of
every table must be listed: a column nobody wrote an expectation for is an error of the corpus.
A column listed by letter as unmapped that is not part of the table (an empty column beside it)
is no error: nothing in it can be mapped or lost.

A file in which a person expects no table of the configuration's records (a stock list given to
the people roster) says so with ``"error": "no_table_found"`` and no tables: the run must fail
with that code.

An expectation is a field, ``null`` (never mapped), or a list of the answers a careful person
could defend; ``null`` in the list means leaving the column unmapped is one of them.
``values`` are spot checks of the output table: ``row`` is the record's 1-based number in it,
every other key a field whose output text must be exactly that (``null``: empty).

Precision = correct mappings / mappings made; recall = correct mappings / mappings expected
(columns whose answers do not include ``null``). A mapping to a field not among the answers is
*wrong*; no mapping where one was required is *missed*. A file is *fully right* when it has no
wrong or missed mapping, no failed value check and no other problem (tables, sheets, rows).
"""

from __future__ import annotations

import csv
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
    expected: tuple[str | None, ...]
    """The answers a person accepts; None among them: unmapped is one."""
    actual: str | None
    reason: str
    detail: str

    @property
    def required(self) -> bool:
        return None not in self.expected

    @property
    def correct(self) -> bool:
        return self.actual is not None and self.actual in self.expected

    @property
    def wrong(self) -> bool:
        return self.actual is not None and self.actual not in self.expected

    @property
    def missed(self) -> bool:
        return self.required and self.actual is None

    @property
    def wanted(self) -> str:
        """The expectation as a person wrote it, for messages."""
        return " or ".join(str(answer) for answer in self.expected)


@dataclass
class FileScore:
    file: str
    columns: list[Column] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Disagreements other than mappings: tables, sheets, row counts, unlisted columns."""
    checks: int = 0
    failed_checks: list[str] = field(default_factory=list)
    """Value checks whose output differs ("table 1 row 3 first_name: 'Mr.', expected 'Owen'")."""

    @property
    def made(self) -> int:
        return sum(1 for c in self.columns if c.actual is not None)

    @property
    def expected(self) -> int:
        return sum(1 for c in self.columns if c.required)

    @property
    def correct(self) -> int:
        return sum(1 for c in self.columns if c.correct)

    @property
    def recalled(self) -> int:
        """Required mappings made right (the numerator of recall)."""
        return sum(1 for c in self.columns if c.required and c.correct)

    @property
    def fully_right(self) -> bool:
        return not (self.wrong or self.missed or self.failed_checks or self.problems)

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
        failure = expectation.get("error")
        try:
            summary = extract(corpus / "files" / name, spec, Path(scratch), write_xlsx=False)
        except EngineError as error:
            if error.code != failure:
                result.problems.append(f"engine failed: {error}")
            return result
        if failure:
            result.problems.append(f"no {failure} error: {len(summary.tables)} table(s) found")
            return result
        wanted = expectation["tables"]
        found = summary.tables
        if len(found) != len(wanted):
            result.problems.append(f"{len(found)} table(s) found, {len(wanted)} expected")
        for number, (want, table) in enumerate(zip(wanted, found, strict=False), start=1):
            _compare_table(result, number, want, table)
            _check_values(result, number, want, Path(scratch) / table["output"], spec)
    return result


def _spaced(header: str) -> str:
    """A header as the engine reports it: any run of whitespace (a no-break space too) is one
    space. Expectations copy headers from the file, where exporters write "MATCH\xa0UP"."""
    return " ".join(header.split())


def _answers(expected: str | list[str | None] | None) -> tuple[str | None, ...]:
    return tuple(expected) if isinstance(expected, list) else (expected,)


def _check_values(
    result: FileScore, number: int, want: dict[str, Any], output: Path, spec: ConfigurationSpec
) -> None:
    """Compare the spot checks with the table CSV a person would open."""
    checks = want.get("values", [])
    if not checks:
        return
    labels = {item.name: item.display_label for item in spec.fields}
    with output.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    for check in checks:
        row = int(check["row"])
        record = records[row - 1] if 0 < row <= len(records) else None
        for name, expected in check.items():
            if name == "row":
                continue
            result.checks += 1
            where = f"table {number} row {row} {name}"
            if record is None:
                result.failed_checks.append(f"{where}: the table has {len(records)} rows")
                continue
            actual = record.get(labels.get(name, name))
            if (actual or None) != expected:
                result.failed_checks.append(f"{where}: {actual!r}, expected {expected!r}")


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
        by_key.setdefault(_spaced(column["header"]), column)
    listed: set[str] = set()
    for key, expected in want["columns"].items():
        column = by_key.get(_spaced(key))
        if column is None and key.startswith("@") and None in _answers(expected):
            continue  # an empty column beside the table: nothing in it to map or to lose
        if column is None:
            result.problems.append(f"{where}: no column {key!r} (headers: {table['headers']})")
            continue
        listed.add(column["column"])
        result.columns.append(
            Column(
                number,
                key,
                _answers(expected),
                column["field"],
                column["reason"],
                column.get("detail", ""),
            )
        )
    unlisted = [
        f"{c['column']} {c['header']!r}" for c in table["mapping"] if c["column"] not in listed
    ]
    if unlisted:
        result.problems.append(f"{where}: no expectation for {', '.join(unlisted)}")
