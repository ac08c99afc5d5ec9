"""Write minimal XLSX files whose parts are streamed from generators, for hostile-input tests.

A decompression bomb is built the way an attacker builds one: a part of highly repetitive XML
deflated chunk by chunk, so neither the test nor the benchmark ever holds (or stores) the
unzipped part. ``lie_about_size`` rewrites the central directory to claim a smaller unzipped
size than the part really has, as a hand-made bomb would to pass a directory-only check.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    b"</Types>"
)
_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="People" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId2" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    b'Target="sharedStrings.xml"/></Relationships>'
)
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


def _escape(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


def sheet_xml(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """A worksheet of inline strings, streamed row by row (in batches of bytes)."""
    yield SHEET_HEAD
    batch: list[bytes] = []
    for number, row in enumerate(rows, start=1):
        cells = b"".join(
            b'<c t="inlineStr"><is><t>' + _escape(value) + b"</t></is></c>" for value in row
        )
        batch.append(b'<row r="%d">' % number + cells + b"</row>")
        if len(batch) >= 1000:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch)
    yield SHEET_TAIL


def padded_sheet_xml(rows: list[list[str]], padding_bytes: int) -> Iterator[bytes]:
    """A small worksheet followed by `padding_bytes` of empty rows' XML (the sheet bomb)."""
    yield from list(sheet_xml(rows))[:-1]
    filler = b"<row/>" * 100_000
    left = padding_bytes
    while left > 0:
        yield filler[:left]
        left -= len(filler)
    yield SHEET_TAIL


def shared_strings_xml(count: int, text: str = "") -> Iterator[bytes]:
    """`count` shared strings, all equal to `text` (empty ones make the densest bomb)."""
    yield b'<?xml version="1.0" encoding="UTF-8"?>'
    yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    item = b"<si><t>" + _escape(text) + b"</t></si>"
    block = item * 10_000
    left = count
    while left > 0:
        take = min(left, 10_000)
        yield block if take == 10_000 else item * take
        left -= take
    yield b"</sst>"


def write_xlsx_stream(
    path: Path,
    sheet: Iterable[bytes],
    shared_strings: Iterable[bytes] | None = None,
    *,
    zip64: bool = True,
    level: int = 9,
) -> Path:
    """An XLSX with one sheet "People", its parts deflated from the given byte streams."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        for name, stream in (
            ("xl/sharedStrings.xml", shared_strings),
            ("xl/worksheets/sheet1.xml", sheet),
        ):
            if stream is None:
                continue
            with archive.open(name, "w", force_zip64=zip64) as part:
                for chunk in stream:
                    part.write(chunk)
    return path


def lie_about_size(path: Path, member: str, claimed: int) -> None:
    """Rewrite `member`'s unzipped size in the central directory and local header to `claimed`.

    Only for members written without a ZIP64 extra field (small enough ones): the sizes are
    then the plain 32-bit fields.
    """
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    # Local header: the unzipped size is at offset 22.
    struct.pack_into("<I", data, info.header_offset + 22, claimed)
    name = member.encode()
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + name_length] == name:
            struct.pack_into("<I", data, position + 24, claimed)
            break
        position = data.find(b"PK\x01\x02", position + 4)
    path.write_bytes(bytes(data))


def shared_string_references(rows: int, per_row: int, header: list[str]) -> Iterator[bytes]:
    """A sheet: an inline-string header row, then `rows` rows of `per_row` cells that all
    point to shared string 0 (a few bytes each, whatever that string's length)."""
    yield SHEET_HEAD
    yield b'<row r="1">' + b"".join(
        b'<c t="inlineStr"><is><t>' + _escape(text) + b"</t></is></c>" for text in header
    ) + b"</row>"
    cells = b'<c t="s"><v>0</v></c>' * per_row
    for number in range(2, rows + 2):
        yield b'<row r="%d">' % number + cells + b"</row>"
    yield SHEET_TAIL


def long_shared_strings(*texts: str) -> Iterator[bytes]:
    """A shared-strings part holding `texts` (index 0 first)."""
    yield b'<?xml version="1.0" encoding="UTF-8"?>'
    yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    for text in texts:
        yield b"<si><t>" + _escape(text) + b"</t></si>"
    yield b"</sst>"


def write_ods_repeated(path: Path, rows: int, columns: int) -> Path:
    """An ODS whose header row is followed by one row of "Ann" cells, `columns` of them and
    repeated `rows` times: a few hundred bytes that calamine expands to rows x columns."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="People"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>First Name</text:p>'
        '</table:table-cell><table:table-cell office:value-type="string"><text:p>Last Name'
        "</text:p></table:table-cell></table:table-row>"
        f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell '
        f'office:value-type="string" table:number-columns-repeated="{columns}"><text:p>Ann'
        "</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
            'manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>',
        )
        archive.writestr("content.xml", content)
    return path


def letters(number: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "ba": distinct names made of letters only, as names are (a
    name with digits is no name to the engine)."""
    text = ""
    while True:
        number, digit = divmod(number, 26)
        text = "abcdefghijklmnopqrstuvwxyz"[digit] + text
        if not number:
            return text
