"""The hostile-input battery's cases: how each file is made and what must become of it.

Shared by ``benchmarks/hostile_inputs.py`` (every case, through ``ade extract`` and through the
running service) and ``tests/api/test_hostile_service.py`` (a few, through the service). Each
case builds its file in a folder by streaming (bombs are deflated from generators, never held
or kept) and states its expected ending: ``ok`` or a failure code, a fragment of the message,
and for some a check of the outputs (read through :class:`Outputs`, so the same check holds for
the files ``ade extract`` wrote and for the downloads of the API).
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tests.support.xlsx_stream import (
    letters,
    lie_about_size,
    long_shared_strings,
    padded_sheet_xml,
    shared_string_references,
    shared_strings_xml,
    sheet_xml,
    write_ods_repeated,
    write_xlsx_stream,
)

MiB = 1024 * 1024
OK = "ok"
HEADER = ["First Name", "Last Name", "Email"]
ROWS = [HEADER, ["Ann", "Lee", "ann@example.org"], ["Bob", "Ray", "bob@example.org"]]


class Outputs(Protocol):
    """A finished run's outputs, wherever they are."""

    def table_csv(self, number: int) -> bytes: ...


def csv_records(raw: bytes) -> list[dict[str, str]]:
    """A table CSV's rows by header (the BOM the product writes for Excel removed)."""
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@dataclass(frozen=True)
class Case:
    """One hostile input. ``expect`` is ``ok`` or the failure code; ``message`` a fragment of
    the one-line error (or of nothing, for ``ok``); ``check`` asserts on the outputs of a run
    that succeeded. ``slow`` cases take more than a few seconds (the test leaves them out)."""

    name: str
    build: Callable[[Path], Path]
    expect: str
    message: str = ""
    check: Callable[[Outputs], None] | None = None
    slow: bool = False
    api_refused: tuple[int, str] | None = None
    """The HTTP status and a fragment of the problem's detail when the API must refuse the
    upload itself (and store nothing)."""
    chunked: bool = False
    """Upload without a Content-Length (the server must count while it reads)."""
    through: tuple[str, ...] = ("extract", "api")


# ----------------------------------------------------------------------------- builders


def people(count: int) -> Iterator[list[str]]:
    yield ["First Name", "Last Name", "Email", "Department", "Notes"]
    for n in range(count):
        name = letters(n)
        yield [f"Ann{name}", f"Lee{name}", f"a{n}@example.org", f"Dept {n % 40}", f"note {n}"]


def _text(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(text.encode(encoding))
        return path

    build.__name__ = name
    return build


def _bytes(name: str, data: Callable[[], bytes]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data())
        return path

    build.__name__ = name
    return build


def sheet_bomb(folder: Path) -> Path:
    """The issue's 0.7 MB XLSX whose sheet unzips to 700 MB."""
    return write_xlsx_stream(folder / "sheet_bomb.xlsx", padded_sheet_xml(ROWS, 700 * MiB))


def strings_bomb(folder: Path) -> Path:
    """An 85 kB XLSX whose shared strings unzip to 80 MB."""
    return write_xlsx_stream(
        folder / "strings_bomb.xlsx", sheet_xml(ROWS), shared_strings_xml(5_000_000)
    )


def echo_bomb(folder: Path) -> Path:
    """A 1 MB shared string behind 3,000 cells: 3 GB of cell text from a few kB."""
    return write_xlsx_stream(
        folder / "echo_bomb.xlsx",
        shared_string_references(300, 10, ["First Name", "Notes"]),
        long_shared_strings("x" * 1_000_000),
    )


def lying_bomb(folder: Path) -> Path:
    """A sheet whose ZIP directory claims 50 kB and which unzips to 200 MB."""
    path = write_xlsx_stream(folder / "lying.xlsx", padded_sheet_xml(ROWS, 200 * MiB), zip64=False)
    lie_about_size(path, "xl/worksheets/sheet1.xml", 50_000)
    return path


def ods_bomb(folder: Path) -> Path:
    """An ODS whose content.xml unzips 1,000 times its size."""
    path = folder / "content_bomb.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        with archive.open("content.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><office:document-content>')
            filler = b"<table:table-row/>" * 50_000
            for _ in range(300 * MiB // len(filler)):
                part.write(filler)
            part.write(b"</office:document-content>")
    return path


def ods_repeats(folder: Path) -> Path:
    """An 800-byte ODS whose repeat attributes ask for 20 million cells."""
    return write_ods_repeated(folder / "repeated.ods", rows=20_000, columns=1000)


def big_workbook(folder: Path) -> Path:
    """A real 300,000-row XLSX: its sheet's XML is over 64 MiB, so it is streamed."""
    return write_xlsx_stream(folder / "big.xlsx", sheet_xml(people(300_000)), level=1)


def million_rows(folder: Path) -> Path:
    """The issue's legitimate 1.1-million-row CSV."""
    path = folder / "million.csv"
    with path.open("w") as handle:
        handle.write("First Name,Last Name\n")
        handle.writelines(f"Ann{letters(n)},Lee\n" for n in range(1_100_000))
    return path


def wide(folder: Path) -> Path:
    """20,000 columns: more than an Excel sheet's 16,384."""
    path = folder / "wide.csv"
    extra = ",".join(str(n) for n in range(19_998))
    with path.open("w") as handle:
        handle.write("First Name,Last Name," + ",".join(f"C{n}" for n in range(19_998)) + "\n")
        for n in range(100):
            handle.write(f"Ann{letters(n)},Lee,{extra}\n")
    return path


def long_cell(folder: Path) -> Path:
    """A 40,000-character cell: more than an Excel cell's 32,767."""
    path = folder / "long_cell.csv"
    path.write_text("First Name,Last Name,Notes\nAnn,Lee," + "y" * 40_000 + "\nBob,Ray,short\n")
    return path


def long_line(folder: Path) -> Path:
    """The issue's 50 MB CSV line."""
    path = folder / "long_line.csv"
    with path.open("w") as handle:
        handle.write("First Name,Last Name,Notes\nAnn,Lee,")
        chunk = "z" * MiB
        for _ in range(50):
            handle.write(chunk)
        handle.write("\nBob,Ray,short\n")
    return path


def truncated_xlsx(folder: Path) -> Path:
    """A real workbook cut in half, as an interrupted download leaves it."""
    path = write_xlsx_stream(folder / "truncated.xlsx", sheet_xml(ROWS))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def xxe_xlsx(folder: Path) -> Path:
    """A sheet whose DOCTYPE declares an external entity reading /etc/passwd."""
    sheet = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c t="inlineStr"><is><t>First Name</t></is></c>'
        b'<c t="inlineStr"><is><t>Last Name</t></is></c></row>'
        b'<row r="2"><c t="inlineStr"><is><t>&x;</t></is></c>'
        b'<c t="inlineStr"><is><t>Lee</t></is></c></row></sheetData></worksheet>'
    )
    return write_xlsx_stream(folder / "xxe.xlsx", [sheet])


def laughs_xlsx(folder: Path) -> Path:
    """Billion laughs in the shared strings."""
    entities = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (n, b"".join(b"&l%d;" % (n - 1) for _ in range(10)))
        for n in range(1, 10)
    )
    strings = (
        b'<?xml version="1.0"?><!DOCTYPE sst [' + entities + b"]>"
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>&l9;</t></si></sst>"
    )
    sheet = shared_string_references(2, 1, ["First Name"])
    return write_xlsx_stream(folder / "laughs.xlsx", sheet, [strings])


def traversal_xlsx(folder: Path) -> Path:
    """A workbook with members named ../../evil.sh and /etc/cron.d/x beside its parts."""
    path = write_xlsx_stream(folder / "traversal.xlsx", sheet_xml(ROWS))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("../../evil.sh", b"#!/bin/sh\necho owned\n")
        archive.writestr("/etc/cron.d/x", b"* * * * * root true\n")
    return path


def encrypted_ole(folder: Path) -> Path:
    """What a password-protected .xlsx is: an OLE2 container holding EncryptionInfo."""
    path = folder / "encrypted.xlsx"
    header = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    path.write_bytes(header + bytes(512 - len(header)) + b"EncryptionInfo" + bytes(2048))
    return path


def random_bytes(folder: Path) -> Path:
    path = folder / "random.xlsx"
    path.write_bytes(random.Random(18).randbytes(200_000))
    return path


def _rows_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


FORMULAS = [
    ["First Name", "Last Name", "Email", "Notes", '=HYPERLINK("http://x.invalid","click")'],
    ["=cmd|' /C calc'!A0", "Smith", "a@example.org", "-12.5", "a"],
    ["@SUM(1+1)*cmd|' /C calc'!A0", "Jones", "b@example.org", "+1+cmd|' /C calc'!A0", "b"],
    ["José", "García", "jose@example.com", "\t=1+1", "c"],
]


def check_formulas(outputs: Outputs) -> None:
    raw = outputs.table_csv(1)
    assert raw.startswith(b"\xef\xbb\xbf"), "the table CSV has no byte-order mark"
    records = csv_records(raw)
    assert records[0]["First Name"] == "'=cmd|' /C calc'!A0", records[0]
    assert records[1]["First Name"] == "'@SUM(1+1)*cmd|' /C calc'!A0", records[1]
    assert records[2]["First Name"] == "José", records[2]
    cells = [value for record in records for value in record.values()]
    cells += list(records[0].keys())
    risky = [c for c in cells if c[:1] in ("=", "@", "\t", "\r") or c.startswith("+1+")]
    assert not risky, f"formula cells left as they are: {risky}"


HTML_EXPORT = (
    '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>'
    '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    "<meta name=ProgId content=Excel.Sheet></head><body><h2>Staff export</h2>"
    '<table border="1"><caption>Staff</caption>'
    "<tr><th>First Name</th><th>Last Name</th><th>E-mail</th></tr>"
    "<tr><td>José</td><td>García</td><td>jose.garcia@example.com</td></tr>"
    "<tr><td>Zoë</td><td><b>Müller</b><br></td><td>zoe.muller@example.com</td></tr>"
    "<tr><td>Ann</td><td>O'Neil</td><td>ann.oneil@example.com</td></tr>"
    "</table></body></html>"
)


def check_html(outputs: Outputs) -> None:
    records = csv_records(outputs.table_csv(1))
    assert [r["Last Name"] for r in records] == ["García", "Müller", "O'Neil"], records


ROSTER_JA = [
    ["Name", "Email", "Department"],
    ["山田 太郎", "taro.yamada@example.jp", "営業部"],
    ["佐藤 花子", "hanako.sato@example.jp", "経理部"],
    ["鈴木 一郎", "ichiro.suzuki@example.jp", "人事部"],
]


def check_shift_jis(outputs: Outputs) -> None:
    records = csv_records(outputs.table_csv(1))
    assert [r["Department"] for r in records] == ["営業部", "経理部", "人事部"], records


EMAILS = [f"reader{n}@example.org" for n in range(30)]


def check_one_column(outputs: Outputs) -> None:
    assert [r["Email"] for r in csv_records(outputs.table_csv(1))] == EMAILS


PEOPLE = (
    "First Name,Last Name,E-mail,Phone\n"
    "Ada,Lovelace,ADA@example.com,555-123-4567\n"
    "Alan,Turing,alan@example.com,(555) 987 6543\n"
)


def check_people(outputs: Outputs) -> None:
    records = csv_records(outputs.table_csv(1))
    assert [r["Email"] for r in records] == ["ada@example.com", "alan@example.com"], records


ENCRYPTED = Path("tests", "worker", "engine", "fixtures", "encrypted.xlsx")


def encrypted(folder: Path) -> Path:
    """A password-protected workbook saved by LibreOffice (the engine's fixture: beside this
    module in a checkout, in the working directory in a Pants sandbox)."""
    beside = Path(__file__).parents[2] / ENCRYPTED
    path = folder / "encrypted.xlsx"
    path.write_bytes((beside if beside.is_file() else ENCRYPTED).read_bytes())
    return path


def pdf(folder: Path) -> Path:
    path = folder / "report.xlsx"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 40)
    return path


def xlsx_named_csv(folder: Path) -> Path:
    """A workbook whose name says CSV: the format is read from the content."""
    return write_xlsx_stream(folder / "people.csv", sheet_xml(ROWS))


def zip_of_text(folder: Path) -> Path:
    path = folder / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return path


def _over_the_limit(extra: int) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        """A file ``extra`` bytes over the service's upload limit (sparse: costs no disk)."""
        from tests.support.ade_service import UPLOAD_LIMIT

        path = folder / "huge.csv"
        with path.open("wb") as handle:
            handle.write(b"First Name,Last Name\n")
            handle.truncate(UPLOAD_LIMIT + extra)
        return path

    return build


NOISE = b"Name,Email\n" + bytes(b or 1 for b in random.Random(0).randbytes(4000)) + b"\n"
NO_TABLE_PAGE = "<!DOCTYPE html><html><body><p>Session expired</p></body></html>"


def check_people_rows(outputs: Outputs) -> None:
    records = csv_records(outputs.table_csv(1))
    assert [r["Email"] for r in records] == ["ann@example.org", "bob@example.org"], records


CASES: list[Case] = [
    # decompression bombs
    Case("sheet bomb (700 MiB sheet XML)", sheet_bomb, "too_large", "decompression bomb"),
    Case("shared-strings bomb (80 MB)", strings_bomb, "too_large", "decompression bomb"),
    Case("long string x 3,000 cells (3 GB)", echo_bomb, "too_large", "repeats shared strings"),
    Case("lying ZIP directory (200 MiB)", lying_bomb, "too_large", "its ZIP directory"),
    Case("ODS content bomb (300 MiB)", ods_bomb, "too_large", "decompression bomb"),
    Case("ODS repeated cells (20 million)", ods_repeats, "too_large", "repeats its cells"),
    Case("XLSX billion laughs", laughs_xlsx, "unreadable_file", "unrecognized entity"),
    Case("XLSX external entity (XXE)", xxe_xlsx, "unreadable_file", "unrecognized entity"),
    # Excel's limits and big legitimate files
    Case("XLSX 300,000 rows (streamed)", big_workbook, OK, slow=True),
    Case("CSV 1,100,000 rows", million_rows, OK, slow=True),
    Case("CSV 20,000 columns", wide, OK, slow=True),
    Case("CSV 40,000-character cell", long_cell, OK),
    Case("CSV 50 MB line", long_line, "too_large", "line 2"),
    # broken, disguised and unsupported files
    Case("XLSX cut in half", truncated_xlsx, "unreadable_file", "damaged ZIP archive"),
    Case("XLSX with ../ members", traversal_xlsx, OK),
    Case("password-protected workbook", encrypted, "unsupported_format", "password-protected"),
    Case("random bytes named .xlsx", random_bytes, "unreadable_file", "binary data"),
    Case("PDF named .xlsx", pdf, "unreadable_file", "binary data"),
    Case("ZIP of text named .xlsx", zip_of_text, "unreadable_file", "not a spreadsheet"),
    Case("XLSX named .csv", xlsx_named_csv, OK, check=check_people_rows),
    Case(
        "noise in no encoding",
        _bytes("noise.csv", lambda: NOISE),
        "unreadable_file",
        "neither UTF-8 nor text",
    ),
    Case(
        "NUL bytes in a CSV",
        _bytes("nul.csv", lambda: PEOPLE.encode().replace(b"Lovelace", b"Love\0lace")),
        "unreadable_file",
        "binary data",
    ),
    Case(
        "header without rows",
        _text("header.csv", "First Name,Last Name,Email\n"),
        "no_table_found",
        "no table found",
    ),
    Case("UTF-16 CSV with a BOM", _text("utf16.csv", PEOPLE, "utf-16"), OK, check=check_people),
    Case(
        "web page without a table .xls",
        _text("expired.xls", NO_TABLE_PAGE),
        "no_table_found",
        "web page (HTML) without a table",
    ),
    Case(
        "empty file",
        _bytes("empty.csv", bytes),
        "empty_file",
        "is empty",
        api_refused=(400, "the uploaded file is empty"),
    ),
    # the upload limit (only the service has one)
    Case(
        "upload over the limit (declared length)",
        _over_the_limit(2 * MiB),  # past the multipart allowance: refused before a byte is read
        "-",
        api_refused=(413, "upload exceeds the limit of 67108864 bytes"),
        through=("api",),
    ),
    Case(
        "upload over the limit (chunked)",
        _over_the_limit(1),
        "-",
        api_refused=(413, "request body too large; nothing was stored"),
        chunked=True,
        through=("api",),
    ),
    # what used to pass as garbage, or be lost
    Case(
        "formula injection CSV",
        _text("formulas.csv", _rows_csv(FORMULAS)),
        OK,
        check=check_formulas,
    ),
    Case(
        "HTML 'Excel export' .xls",
        _text("staff_export.xls", HTML_EXPORT, "cp1252"),
        OK,
        check=check_html,
    ),
    Case(
        "Shift-JIS CSV",
        _text("roster.csv", _rows_csv(ROSTER_JA), "shift_jis"),
        OK,
        check=check_shift_jis,
    ),
    Case(
        "one column of e-mails",
        _text("newsletter.csv", "Email\n" + "\n".join(EMAILS) + "\n"),
        OK,
        check=check_one_column,
    ),
    # and the service still does its work
    Case("a normal file afterwards", _text("people.csv", PEOPLE), OK, check=check_people),
]
