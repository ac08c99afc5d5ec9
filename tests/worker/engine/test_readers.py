"""Readers on real files: encodings, delimiters, quoting, workbooks, and broken input."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from ade.worker.engine.errors import EngineError
from ade.worker.engine.readers import open_sheets, sniff_delimiter, sniff_encoding
from tests.worker.engine.builders import write_csv, write_xlsx

ROWS = [["Name", "City"], ["Zoë Ærø", "Malmö"], ["José", "São Paulo"]]


def rows_of(path: Path, sheets: list[str] | None = None) -> list[list[Any]]:
    return [row for sheet in open_sheets(path, sheets) for row in sheet.rows]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),  # writes a BOM
        ("utf-16-le", "utf-16-le"),  # no BOM: found by the zero bytes
        ("utf-16-be", "utf-16-be"),
        ("cp1252", "cp1252"),
    ],
)
def test_encodings_are_sniffed_and_decoded(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write_csv(tmp_path / "people.csv", ROWS, encoding=encoding)
    assert sniff_encoding(path) == expected
    assert rows_of(path) == ROWS


def test_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", ROWS, encoding="utf-8-sig")
    assert rows_of(path)[0][0] == "Name"


def test_bytes_undefined_in_cp1252_fall_back_to_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"Name,Code\nAnn,\x81\x8d\n")
    assert sniff_encoding(path) == "latin-1"
    assert rows_of(path)[1] == ["Ann", "\x81\x8d"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [["Name", "Amount", "Note"], ["Ann", "1,5", "a;b"], ["Bob", "2", "c|d"]]
    path = write_csv(tmp_path / "d.csv", rows, delimiter=delimiter)
    assert rows_of(path) == rows


def test_delimiter_sniffing_ignores_a_title_line() -> None:
    sample = "Report, 2024\nName;City;Zip\nAnn;Oslo;0150\nBob;Bergen;5003\n"
    assert sniff_delimiter(sample) == ";"


def test_quoted_separators_and_embedded_newlines(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('Name,Address\n"Lee, Ann","1 Main St\nApt 2"\n', "utf-8")
    assert rows_of(path) == [["Name", "Address"], ["Lee, Ann", "1 Main St\nApt 2"]]


def test_blank_lines_come_through_as_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("Name,City\n\nAnn,Oslo\n\n", "utf-8")
    assert rows_of(path) == [["Name", "City"], [], ["Ann", "Oslo"], []]


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(EngineError) as caught:
        rows_of(path)
    assert caught.value.code == "empty_file"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError) as caught:
        rows_of(tmp_path / "nope.csv")
    assert caught.value.code == "file_not_found"


def test_binary_garbage_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(EngineError) as caught:
        rows_of(path)
    assert caught.value.code == "unreadable_file"
    assert "\n" not in str(caught.value)


def test_zip_that_is_not_a_workbook_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(EngineError) as caught:
        rows_of(path)
    assert caught.value.code == "unreadable_file"


def test_truncated_workbook_is_unreadable(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", {"S": ROWS})
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(EngineError) as caught:
        rows_of(bad)
    assert caught.value.code == "unreadable_file"


def test_legacy_xls_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(EngineError) as caught:
        rows_of(path)
    assert caught.value.code == "unsupported_format"


def test_workbook_sheets_all_or_named(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "w.xlsx", {"One": [["a", "b"]], "Two": [["c", "d"]]})
    assert [s.name for s in open_sheets(path)] == ["One", "Two"]
    assert rows_of(path, ["Two"]) == [["c", "d"]]
    with pytest.raises(EngineError) as caught:
        rows_of(path, ["Three"])
    assert caught.value.code == "sheet_not_found"
    assert "'One'" in caught.value.message


def test_csv_sheet_is_named_after_the_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "staff.csv", ROWS)
    assert rows_of(path, ["staff"]) == ROWS
    with pytest.raises(EngineError):
        rows_of(path, ["other"])


def test_hidden_columns_and_merged_cells_are_reported_and_merges_filled(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "m.xlsx",
        {"S": [["Who", None, "Contact", None], ["First", "Last", "Email", "Phone"]]},
        hidden={"S": ["D"]},
        merges={"S": ["A1:B1", "C1:D1"]},
    )
    sheets = open_sheets(path)  # keep the generator alive: it owns the open workbook
    sheet = next(sheets)
    assert sheet.hidden_columns == frozenset({3})
    assert [m.ref for m in sheet.merged] == ["A1:B1", "C1:D1"]
    rows = list(sheet.rows)
    assert rows[0] == ["Who", "Who", "Contact", "Contact"]
    assert rows[1] == ["First", "Last", "Email", "Phone"]


def test_workbook_cells_keep_their_types(tmp_path: Path) -> None:
    import datetime as dt

    path = write_xlsx(tmp_path / "t.xlsx", {"S": [["n", "d"], [3, dt.datetime(2024, 1, 2)]]})
    assert rows_of(path)[1] == [3, dt.datetime(2024, 1, 2)]
