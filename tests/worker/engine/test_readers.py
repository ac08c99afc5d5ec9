"""Readers on real files: encodings, delimiters, quoting, every workbook format, broken input."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from ade.worker.engine import readers
from ade.worker.engine.errors import EngineError
from ade.worker.engine.readers import detect_format, open_sheets, sniff_delimiter, sniff_encoding
from tests.worker.engine.builders import write_csv, write_xlsx

FIXTURES = Path(__file__).parent / "fixtures"

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


def test_text_that_would_decode_to_control_characters_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes("Name,City\nZoë,Malmö\n".encode("cp1252") + b"Ann,\x01\x02\x03\x0e\x0f\x10\n")
    with pytest.raises(EngineError, match="neither UTF-8 nor text") as caught:
        sniff_encoding(path)
    assert caught.value.code == "unreadable_file"


@pytest.mark.parametrize(
    ("early", "late", "expected"),
    [
        (b"", "Zoë".encode(), "utf-8"),  # valid UTF-8 all through, several reads long
        (b"", "Zoë".encode("cp1252"), "cp1252"),  # the only non-UTF-8 byte is megabytes in
        (b"", "山田 太郎".encode("shift_jis"), "cp932"),  # the only evidence is megabytes in
    ],
)
def test_the_encoding_is_judged_on_the_whole_file(
    tmp_path: Path, early: bytes, late: bytes, expected: str
) -> None:
    path = tmp_path / "long.csv"
    line = b"Ann,Oslo,0150\n"
    filler = line * (3 * 1024 * 1024 // len(line))  # past the sample and several read chunks
    path.write_bytes(b"Name,City,Zip\nBo," + early + b"\n" + filler + late + b"\n")
    assert sniff_encoding(path) == expected


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


def test_damaged_ole2_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(EngineError) as caught:
        rows_of(path)
    assert caught.value.code == "unreadable_file"
    assert "not a readable Excel 97-2003 (.xls) workbook" in caught.value.message


def test_encrypted_workbook_is_unsupported_with_a_clear_message() -> None:
    # Excel's password protection wraps the whole .xlsx in an OLE2 container, like a legacy .xls.
    with pytest.raises(EngineError) as caught:
        rows_of(FIXTURES / "encrypted.xlsx")
    assert caught.value.code == "unsupported_format"
    assert "password-protected" in caught.value.message


def test_opendocument_text_is_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "letter.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(EngineError) as caught:
        rows_of(path)
    assert caught.value.code == "unsupported_format"
    assert "opendocument.text" in caught.value.message


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
    moment = dt.datetime(2024, 1, 2, 3, 4, 5)
    path = write_xlsx(tmp_path / "t.xlsx", {"S": [["n", "x", "d"], [3, 2.5, moment]]})
    [row] = rows_of(path)[1:]
    assert row == [3, 2.5, moment]
    assert isinstance(row[0], int)  # stored as 3.0 by Excel; text must read "3", not "3.0"


# ------------------------------------------------------ every format, on files LibreOffice made

HEADER = [
    "Emp ID",
    "First Name",
    "Last Name",
    "Email",
    "Hire Date",
    "Salary",
    "Active",
    "Start Time",
    "Check",
]
ANN = [1001, "ann", "LEE", "ANN@X.ORG", dt.date(2021, 5, 3), 52000.5, True, dt.time(9, 30)]
BOB = [1002, "Bob", "Roy", "bob@x.org", dt.datetime(2020, 1, 5, 13, 30), 61000, False]
BOB += [dt.time(13, 0), "ok"]
GROUPS = [None, "Person", "Person", "Contact", "Contact", None, None, None, None]


def fixture_sheets(name: str, tmp_path: Path, as_name: str | None = None) -> dict[str, Any]:
    """{sheet: (rows, hidden column indexes, merged refs, state)}; the file may be renamed."""
    path = FIXTURES / name
    if as_name:
        path = Path(shutil.copy(path, tmp_path / as_name))
    return {
        sheet.name: (
            list(sheet.rows),
            sorted(sheet.hidden_columns),
            [m.ref for m in sheet.merged],
            sheet.details["state"],
        )
        for sheet in open_sheets(path)
    }


@pytest.mark.parametrize("name", ["roster.xlsx", "roster.xlsm"])
def test_xlsx_from_libreoffice_reads_as_a_person_sees_it(name: str, tmp_path: Path) -> None:
    sheets = fixture_sheets(name, tmp_path)
    assert list(sheets) == ["Roster", "Offset", "Lists"]
    rows, hidden, merged, state = sheets["Roster"]
    assert rows[0][0] == "Staff export" and all(cell is None for cell in rows[0][1:])
    assert rows[2] == GROUPS  # merged group headers read as repeated labels
    assert rows[3] == HEADER
    assert rows[4] == [*ANN, "#DIV/0!"]  # the error cell keeps its text, as openpyxl gave it
    assert rows[5] == BOB
    assert rows[6][:2] == ["A-3", "Cy"] and set(rows[6][2:]) == {None}
    assert (hidden, merged, state) == ([8], ["B3:C3", "D3:E3"], "visible")
    offset_rows = sheets["Offset"][0]
    assert [row[2:4] for row in offset_rows[2:]] == [["SKU", "Qty"], ["x-1", 3]]
    assert all(len(row) == 4 for row in offset_rows[2:])  # cells keep their column letters
    assert sheets["Lists"][0] == [["Departments"], ["Sales"], ["Ops"]]
    assert sheets["Lists"][3] == "hidden"


def test_xls_from_libreoffice(tmp_path: Path) -> None:
    rows, hidden, merged, state = fixture_sheets("roster.xls", tmp_path)["Roster"]
    assert rows[2:6] == [GROUPS, HEADER, [*ANN, None], BOB]  # calamine reads errors as empty
    assert merged == ["B3:C3", "D3:E3"]  # from calamine
    assert hidden == []  # .xls column visibility is not read


def test_ods_from_libreoffice(tmp_path: Path) -> None:
    sheets = fixture_sheets("roster.ods", tmp_path)
    rows, hidden, merged, state = sheets["Roster"]
    # LibreOffice stores booleans as numbers with a TRUE/FALSE format; ODS merges and hidden
    # columns are not read, so the group row keeps its single labels.
    assert rows[2] == [None, "Person", None, "Contact", None, None, None, None, None]
    assert rows[3:6] == [HEADER, [*ANN[:6], 1, ANN[7], None], [*BOB[:6], 0, *BOB[7:]]]
    assert (hidden, merged) == ([], [])
    assert sheets["Lists"][3] == "hidden"


def test_xlsb(tmp_path: Path) -> None:
    rows = fixture_sheets("roster.xlsb", tmp_path)["Roster"][0]
    assert rows[3:6] == [HEADER[:7], ANN[:7], BOB[:7]]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("roster.xlsx", "xlsx"),
        ("roster.xlsm", "xlsm"),
        ("roster.xls", "xls"),
        ("roster.ods", "ods"),
        ("roster.xlsb", "xlsb"),
    ],
)
def test_formats_are_sniffed_by_content_not_name(name: str, expected: str, tmp_path: Path) -> None:
    renamed = Path(shutil.copy(FIXTURES / name, tmp_path / "export.csv"))
    assert detect_format(renamed) == expected
    assert fixture_sheets(name, tmp_path, "export.csv")["Roster"][0][3][:7] == HEADER[:7]


def test_csv_named_like_a_workbook_is_read_as_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "report.xlsx", ROWS)
    assert detect_format(path) == "csv"
    assert rows_of(path) == ROWS


@pytest.mark.parametrize("name", ["roster.xlsx", "roster.xlsm"])
def test_streaming_reader_gives_the_same_sheets(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sheets above the in-memory limit are streamed by another binding: same rows, same facts."""
    whole = fixture_sheets(name, tmp_path)
    monkeypatch.setattr(readers, "CALAMINE_IN_MEMORY_LIMIT", 0)
    assert fixture_sheets(name, tmp_path) == whole


def test_error_cells_split_across_read_chunks_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "_CHUNK", 7)  # every tag is cut somewhere
    rows = fixture_sheets("roster.xlsx", tmp_path)["Roster"][0]
    assert rows[4][8] == "#DIV/0!"
