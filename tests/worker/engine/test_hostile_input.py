"""Oversized and odd input that used to cost too much or pass as garbage: a field of megabytes,
HTML "Excel exports", text in legacy encodings, a file of one column."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ade.db.configuration_spec import default_configuration
from ade.worker.engine import html_tables
from ade.worker.engine.errors import EngineError
from ade.worker.engine.readers import MAX_FIELD_CHARS, detect_format, open_sheets
from tests.worker.engine.builders import read_table, run

PEOPLE = "Name,Email,City\nAna Lima,ana@example.com,Porto\nBo Chen,bo@example.com,Oslo\n"


def read_rows(path: Path, max_field_chars: int = MAX_FIELD_CHARS) -> list[list[object]]:
    sheets = open_sheets(path, max_field_chars=max_field_chars)
    return [list(row) for sheet in sheets for row in sheet.rows]


# ------------------------------------------------------------------------ 4. field size


def test_a_field_over_the_limit_fails_the_run_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(PEOPLE + f"Cy Diaz,cy@example.com,{'x' * (MAX_FIELD_CHARS + 1)}\n")
    with pytest.raises(EngineError) as caught:
        run(path, tmp_path / "out")
    assert caught.value.code == "too_large"
    assert "line 4" in caught.value.message
    assert "1,048,576 characters" in caught.value.message
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_quoted_field_spanning_lines_is_bounded_too(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    note = "line of a long note\n" * 100
    path.write_text(PEOPLE + f'Cy Diaz,cy@example.com,"{note}"\nDi Eng,di@example.com,Rome\n')
    with pytest.raises(EngineError) as caught:
        read_rows(path, max_field_chars=1024)
    assert caught.value.code == "too_large"
    assert "line 55" in caught.value.message  # where the note passes 1,024 characters


def test_a_line_far_longer_than_the_limit_is_refused_before_it_is_read_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(PEOPLE + ",".join(["abc"] * 5000) + "\n")  # 20,000 characters, short fields
    with pytest.raises(EngineError) as caught:
        read_rows(path, max_field_chars=1024)
    assert caught.value.code == "too_large"
    assert "line 4 is longer than 8,192 characters" in caught.value.message


def test_fields_up_to_the_limit_are_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(PEOPLE + f"Cy Diaz,cy@example.com,{'x' * 1024}\n")
    rows = read_rows(path, max_field_chars=1024)
    assert rows[-1][2] == "x" * 1024


def test_the_field_limit_is_a_configuration_setting(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(PEOPLE + f"Cy Diaz,cy@example.com,{'x' * 5000}\n")
    spec = default_configuration().model_copy(update={"csv_max_field_chars": 4096})
    with pytest.raises(EngineError, match="4,096 characters"):
        run(path, tmp_path / "out", spec)
    summary, _ = run(path, tmp_path / "out2")  # the default, 1 MiB, reads it
    assert summary.rows == 3
    assert read_table(tmp_path / "out2", 1)[-1]["City"] == "x" * 5000


# ------------------------------------------------------------------------ 6. one column


def test_a_list_of_emails_under_email_is_a_table(tmp_path: Path) -> None:
    path = tmp_path / "newsletter.csv"
    emails = [f"reader{n}@example.org" for n in range(30)]
    path.write_text("Email\n" + "\n".join(emails) + "\n")
    summary, _ = run(path, tmp_path / "out")
    [table] = summary.tables
    assert table["range"] == "A1:A31"
    assert [r["Email"] for r in read_table(tmp_path / "out", 1)] == emails


def test_a_title_above_a_one_column_list_is_preamble(tmp_path: Path) -> None:
    path = tmp_path / "newsletter.csv"
    path.write_text("Subscribers, March\nE-mail\nana@example.com\nbo@example.com\n")
    summary, _ = run(path, tmp_path / "out")
    [table] = summary.tables
    assert table["header_rows"] == [2]
    assert table["rows"] == 2


def test_a_column_whose_header_names_no_field_is_still_no_table(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("Things to do\nCall the bank\nBuy stamps\nWater the plants\n")
    with pytest.raises(EngineError) as caught:
        run(path, tmp_path / "out")
    assert caught.value.code == "no_table_found"


def test_one_value_under_a_field_name_is_no_table(tmp_path: Path) -> None:
    path = tmp_path / "note.csv"
    path.write_text("Email\nana@example.com\n")
    with pytest.raises(EngineError) as caught:
        run(path, tmp_path / "out")
    assert caught.value.code == "no_table_found"


# ------------------------------------------------------------------- 5. legacy encodings

ROSTER_JA = [
    ["Name", "Email", "Department"],
    ["山田 太郎", "taro.yamada@example.jp", "営業部"],
    ["佐藤 花子", "hanako.sato@example.jp", "経理部"],
    ["鈴木 一郎", "ichiro.suzuki@example.jp", "人事部"],
]


def test_a_shift_jis_csv_is_read_as_shift_jis_and_the_summary_says_so(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes("".join(",".join(row) + "\r\n" for row in ROSTER_JA).encode("shift_jis"))
    summary, _ = run(path, tmp_path / "out")
    [sheet] = summary.sheets
    assert sheet["encoding"] == "cp932"  # Windows' Shift-JIS, a superset of it
    assert sheet["encoding_basis"] == "detected"
    [table] = summary.tables
    columns = [m["header"] for m in table["mapping"]]
    assert columns == ROSTER_JA[0]
    records = read_table(tmp_path / "out", 1)
    assert [r["Email"] for r in records] == [row[1] for row in ROSTER_JA[1:]]
    assert [r["Department"] for r in records] == ["営業部", "経理部", "人事部"]
    assert "山田" in records[0]["Full Name"]


def test_western_legacy_text_stays_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_bytes("Name,City\nZoë Ærø,Malmö\nJosé,São Paulo\n".encode("cp1252"))
    summary, _ = run(path, tmp_path / "out")
    assert summary.sheets[0]["encoding"] == "cp1252"
    assert read_table(tmp_path / "out", 1)[1]["City"] == "São Paulo"


def test_bytes_that_are_no_text_in_any_encoding_fail_the_run(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    noise = bytes(b or 1 for b in random.Random(0).randbytes(4000))  # no NUL: not "binary"
    path.write_bytes(b"Name,Email\n" + noise + b"\n")
    with pytest.raises(EngineError) as caught:
        run(path, tmp_path / "out")
    assert caught.value.code == "unreadable_file"
    assert "neither UTF-8 nor text" in caught.value.message


# ------------------------------------------------------------------- 5. HTML "Excel exports"

# What HR portals and ERPs send as "Export to Excel": HTML with Office namespaces, a declared
# legacy charset, conditional comments, a grouped header (colspan/rowspan), named .xls.
HTML_EXPORT = """<html xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
<meta name=ProgId content=Excel.Sheet>
<!--[if gte mso 9]><xml><x:ExcelWorkbook><x:ExcelWorksheets><x:ExcelWorksheet>
<x:Name>Staff</x:Name></x:ExcelWorksheet></x:ExcelWorksheets></x:ExcelWorkbook>
</xml><![endif]-->
<style>td { mso-number-format:"\\@"; }</style>
</head>
<body>
<h2>Staff export &ndash; 03/12/2026</h2>
<table border="1" cellspacing="0">
<caption>Staff</caption>
<thead>
<tr><th colspan="2">Name</th><th rowspan="2">E-mail</th><th>Hired</th></tr>
<tr><th>First Name</th><th>Last Name</th><th>Date</th></tr>
</thead>
<tbody>
<tr><td>José</td><td>García</td><td>jose.garcia@example.com</td><td x:num>2021-03-04</td></tr>
<tr><td>Zoë</td><td><b>Müller</b><br></td><td>zoe.muller@example.com</td><td>2019-11-20</td></tr>
<tr><td>Ann</td><td>O'Neil</td><td>ann.oneil@example.com</td><td>&nbsp;</td></tr>
</tbody>
</table>
</body>
</html>
"""


def test_an_html_excel_export_is_read_as_a_table(tmp_path: Path) -> None:
    path = tmp_path / "staff_export.xls"
    path.write_bytes(HTML_EXPORT.encode("cp1252"))
    summary, _ = run(path, tmp_path / "out")
    assert summary.format == "html"
    [sheet] = summary.sheets
    assert (sheet["name"], sheet["encoding"], sheet["encoding_basis"]) == (
        "Staff",
        "windows-1252",
        "declared",
    )
    [table] = summary.tables
    assert table["header_rows"] == [1, 2]
    fields = {m["header"]: m["field"] for m in table["mapping"]}
    assert fields["First Name"] == "first_name"
    assert fields["E-mail"] == "email"
    records = read_table(tmp_path / "out", 1)
    assert [r["Full Name"] for r in records] == ["José García", "Zoë Müller", "Ann O'Neil"]
    assert [r["Hire Date"] for r in records] == ["2021-03-04", "2019-11-20", ""]


def test_each_table_of_a_page_is_a_sheet_and_layout_tables_are_not(tmp_path: Path) -> None:
    page = (
        "<!DOCTYPE html><html><body><table><tr><td>"  # a layout table around everything
        "<table><tr><th>Name</th><th>Email</th></tr>"
        "<tr><td>Ana Lima</td><td>ana@example.com</td></tr>"
        "<tr><td>Bo Chen</td><td>bo@example.com</td></tr></table>"
        "</td></tr></table>"
        "<table><caption>Contractors</caption><tr><th>Name</th><th>Email</th></tr>"
        "<tr><td>Cy Diaz</td><td>cy@example.com</td></tr>"
        "<tr><td>Di Eng</td><td>di@example.com</td></tr></table></body></html>"
    )
    path = tmp_path / "report.xls"
    path.write_text(page, encoding="utf-8")
    sheets = [(s.name, [list(r) for r in s.rows]) for s in open_sheets(path)]
    assert sheets == [
        (
            "Table 2",
            [["Name", "Email"], ["Ana Lima", "ana@example.com"], ["Bo Chen", "bo@example.com"]],
        ),
        (
            "Contractors",
            [["Name", "Email"], ["Cy Diaz", "cy@example.com"], ["Di Eng", "di@example.com"]],
        ),
    ]


def test_a_web_page_without_a_table_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_text(
        "<!DOCTYPE html>\n<html><body><p>Session expired, log in again.</p></body></html>"
    )
    with pytest.raises(EngineError) as caught:
        run(path, tmp_path / "out")
    assert caught.value.code == "no_table_found"
    assert "web page (HTML) without a table" in caught.value.message


def test_an_html_page_beyond_the_limit_is_too_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(html_tables, "MAX_HTML_BYTES", 1024)
    path = tmp_path / "staff_export.xls"
    path.write_bytes(HTML_EXPORT.encode("cp1252"))
    with pytest.raises(EngineError) as caught:
        run(path, tmp_path / "out")
    assert caught.value.code == "too_large"


def test_excel_2003_xml_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_text(
        '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S">'
        '<Table><Row><Cell><Data ss:Type="String">Name</Data></Cell></Row></Table>'
        "</Worksheet></Workbook>\n"
    )
    with pytest.raises(EngineError) as caught:
        detect_format(path)
    assert caught.value.code == "unsupported_format"
    assert "Excel 2003 XML" in caught.value.message


@pytest.mark.parametrize(
    "text",
    ["Name,Email\n<b>Ana</b>,ana@example.com\n", "<Name>,Email\nAna,ana@example.com\n"],
)
def test_a_csv_with_angle_brackets_is_still_a_csv(tmp_path: Path, text: str) -> None:
    path = tmp_path / "people.csv"
    path.write_text(text)
    assert detect_format(path) == "csv"
