"""CSV outputs a person can double-click: formula cells defused (OWASP's CSV injection
payloads, cell by cell), numbers and phones left readable, the workbook unchanged, a UTF-8 BOM
for Excel; both switches off for programs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ade.db.configuration_spec import ConfigurationSpec, default_configuration
from ade.worker.engine.csv_safety import defuse
from ade.worker.engine.output import XLSX_NAME
from tests.worker.engine.builders import run, write_csv

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://example.invalid/x","click")',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_start_gets_a_leading_apostrophe(payload: str) -> None:
    assert defuse(payload) == "'" + payload


@pytest.mark.parametrize(
    "value",
    ["-12.5", "+1 555 0100", "+15552014410", "-1,234.00", "(555) 201-3344", "-", "Smith", ""],
)
def test_numbers_phones_and_text_stay_as_they_are(value: str) -> None:
    assert defuse(value) == value


def _csv(path: Path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return raw, list(csv.reader(handle))


def test_table_and_issue_csvs_are_defused_and_the_workbook_keeps_the_text(tmp_path: Path) -> None:
    rows = [
        ["First Name", "Last Name", "Email", "Notes", '=HYPERLINK("http://x.invalid","click")'],
        ["=cmd|' /C calc'!A0", "Smith", "=1+1", "-12.5", "a"],
        ["José", "García", "jose@example.com", "+1 555 0100", "b"],
    ]
    out = tmp_path / "out"
    run(write_csv(tmp_path / "in.csv", rows), out)
    raw, table = _csv(out / "tables" / "1.csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads "José" right
    header = table[0]
    first = dict(zip(header, table[1], strict=True))
    assert first["First Name"] == "'=cmd|' /C calc'!A0"
    assert first["Full Name"] == "'=cmd|' /C calc'!A0 Smith"  # derived values too
    assert first["Notes"] == "-12.5"
    assert '\'=HYPERLINK("http://x.invalid","click")' in header
    assert dict(zip(header, table[2], strict=True))["First Name"] == "José"
    raw, issues = _csv(out / "issues.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    assert any("'=1+1" in row for row in issues[1:]), issues  # the invalid e-mail's issue
    workbook = load_workbook(out / XLSX_NAME, read_only=True)
    try:
        sheet = workbook[workbook.sheetnames[0]]
        values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    finally:
        workbook.close()
    assert "=cmd|' /C calc'!A0" in values  # the original text, as a string cell


def test_both_switches_off_give_the_cells_as_they_are(tmp_path: Path) -> None:
    data = default_configuration().model_dump()
    data.update(csv_defuse_formulas=False, csv_byte_order_mark=False)
    spec = ConfigurationSpec.model_validate(data)
    rows = [["First Name", "Last Name"], ["=1+1", "Smith"]]
    out = tmp_path / "out"
    run(write_csv(tmp_path / "in.csv", rows), out, spec)
    raw, table = _csv(out / "tables" / "1.csv")
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert table[1][table[0].index("First Name")] == "=1+1"
