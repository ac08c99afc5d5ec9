"""Turn a CSV or spreadsheet file into a uniform stream of sheets: a name plus rows of cells.

The format is decided by the file's content, never its name: a ZIP container holding
`xl/workbook.xml` is XLSX (XLSM when its content types say macro-enabled), `xl/workbook.bin` is
XLSB, an OpenDocument `mimetype` is ODS; an OLE2 container is a legacy .xls (or an encrypted
workbook, which calamine recognizes and we refuse with a clear message); a page starting with an
HTML tag is HTML (the "Excel export" of web systems, read by :mod:`ade.worker.engine.html_tables`)
and Excel 2003's XML spreadsheet is refused by name; anything else is delimited text.

CSV: the encoding is sniffed (BOMs first; else a streaming strict UTF-8 check; else detected by
charset-normalizer from the file's non-ASCII lines, cp1252 first when it is a plausible reading,
and accepted only if the whole file decodes with it to no control characters: a wrong guess such
as Shift-JIS read as latin-1 shows as C1 controls) and the delimiter is chosen among `, ; TAB |` by
which one gives the most consistent field count over a sample. Rows are streamed, each as many
cells as it has fields, so table detection can tell a row with more fields than its header
(an unquoted delimiter inside a value) from the rest.

Workbooks are read with python-calamine (Rust calamine, ~13x faster than openpyxl). Its cell
types are mapped to what the engine expects: whole floats become ints (Excel stores every number
as a float, so 30 arrives as 30.0 and must stay "30"), empty cells and empty strings become
None; dates, times, durations and booleans pass through. calamine reads a whole sheet into
memory (about 2x the sheet's XML, i.e. ~1 KB per 12-column row), so an XLSX sheet whose XML is
larger than CALAMINE_IN_MEMORY_LIMIT is streamed instead with python-calamine-plus, a fork of
python-calamine that decodes rows straight from the ZIP in constant memory (the shared-strings
table stays in memory, as with any XLSX reader).

calamine exposes neither column visibility nor error cells (it returns them as empty), so for
XLSX the sheet's XML is scanned once, as raw bytes, for `<col hidden>`, `<mergeCell ref>` and
cells of type "e" (their text, e.g. "#DIV/0!", is put back, as openpyxl used to return it).
Merged ranges of .xls come from calamine; ODS and XLSB report neither merges nor hidden
columns. Merged ranges are filled with their top-left value as rows stream by: a header merged
across three columns then reads as three equal header cells, which is what table detection
expects of a grouped header.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import html
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from ade.worker.engine import zip_limits
from ade.worker.engine.cells import Cell, Row, cell_ref
from ade.worker.engine.errors import EngineError

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 64 * 1024
_CHUNK = 1024 * 1024
# What the encoding detector sees of a file that is not UTF-8: its lines holding non-ASCII bytes.
_DETECT_SAMPLE_BYTES = 64 * 1024
_DETECT_CANDIDATES = 3
_HIGH_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")
# Characters no text in a legacy encoding holds; TAB, LF and CR are text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

MAX_FIELD_CHARS = 1024 * 1024
"""Default longest CSV field, in characters (`csv_max_field_chars` of a configuration). Real
exports' longest cells are notes of a few kB; a field of megabytes is a damaged or hostile file,
and reading it whole costs several times its size in memory (csv holds 4 bytes a character)."""
LINE_CHARS_PER_FIELD = 8
"""A physical line is read at most this many field limits at a time: a line longer than that is
refused before it is held in memory whole, however its fields are split."""


@dataclass(frozen=True)
class MergedRange:
    """A merged block of cells, 0-based inclusive coordinates."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int

    @property
    def ref(self) -> str:
        return f"{cell_ref(self.min_row, self.min_col)}:{cell_ref(self.max_row, self.max_col)}"


@dataclass
class Sheet:
    """One sheet of input: rows are streamed once, in order, starting at row index 0.

    Consume a sheet's rows before asking `open_sheets` for the next sheet: the workbook behind
    them is closed once the sheet generator is finished.
    """

    name: str
    rows: Iterator[Row]
    hidden_columns: frozenset[int] = frozenset()
    merged: list[MergedRange] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    field_counts: bool = False
    """A row's length is its field count in the file (delimited text), so a row with more
    fields than its table's header is a fault of the file; a workbook row's length is only
    where its last cell happens to be."""


FileFormat = Literal["csv", "xlsx", "xlsm", "xlsb", "xls", "ods", "html"]
WORKBOOK_NAMES: dict[str, str] = {
    "xlsx": "Excel (.xlsx)",
    "xlsm": "Excel macro-enabled (.xlsm)",
    "xlsb": "Excel binary (.xlsb)",
    "xls": "Excel 97-2003 (.xls)",
    "ods": "OpenDocument (.ods)",
}
ZIP_FORMATS = frozenset({"xlsx", "xlsm", "xlsb", "ods"})
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_HEAD_BYTES = 4096
_HTML_STARTS = (b"<!doctype html", b"<html", b"<table", b"<head", b"<body", b"<meta")
_SPREADSHEET_ML = b"urn:schemas-microsoft-com:office:spreadsheet"


def detect_format(path: Path) -> FileFormat:
    """The file's format from its content; EngineError for missing, empty or unsupported."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except FileNotFoundError:
        raise EngineError("file_not_found", f"no such file: {path}") from None
    except IsADirectoryError:
        raise EngineError("unreadable_file", f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise EngineError("unreadable_file", f"cannot open {path}: {exc.strerror}") from None
    if not head:
        raise EngineError("empty_file", f"{path.name} is empty (0 bytes)")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_format(path)
    if head.startswith(_OLE2_MAGIC):
        # A legacy workbook, or an encrypted OOXML one (an "EncryptedPackage" stream in the same
        # container): calamine tells them apart when it opens the file (PasswordError).
        return "xls"
    return _markup_format(path, head)


def _markup_format(path: Path, head: bytes) -> FileFormat:
    """ "html" for a page that starts with an HTML tag (after a BOM, blanks, an XML declaration or
    comments); Excel 2003 XML is refused by name; anything else is read as delimited text."""
    text = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if not text.startswith(b"<"):
        return "csv"
    if _SPREADSHEET_ML in text:
        raise EngineError(
            "unsupported_format",
            f"{path.name} is an Excel 2003 XML spreadsheet; open it in Excel and save it as "
            ".xlsx, or export it as CSV",
        )
    while text.startswith((b"<?xml", b"<!--")):
        closing = b"?>" if text.startswith(b"<?") else b"-->"
        end = text.find(closing)
        if end < 0:
            return "csv"
        text = text[end + len(closing) :].lstrip()
    return "html" if text.startswith(_HTML_STARTS) else "csv"


def _zip_format(path: Path) -> FileFormat:
    """Which spreadsheet a ZIP container holds, from its member names (and content types)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                types = (
                    archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
                )
                return "xlsm" if b"macroEnabled.main+xml" in types else "xlsx"
            if "xl/workbook.bin" in names:
                return "xlsb"
            if "mimetype" in names:
                mimetype = archive.read("mimetype").strip()
                if mimetype == _ODS_MIMETYPE:
                    return "ods"
                kind = mimetype.decode("ascii", "replace")
                raise EngineError(
                    "unsupported_format",
                    f"{path.name} is an OpenDocument file of type {kind}, not a spreadsheet",
                )
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise EngineError(
            "unreadable_file", f"{path.name} is a damaged ZIP archive ({_describe(exc)})"
        ) from None
    raise EngineError(
        "unreadable_file",
        f"{path.name} is a ZIP archive but not a spreadsheet (no workbook inside); "
        "ADE reads CSV, XLSX, XLSM, XLSB, XLS and ODS",
    )


def open_sheets(
    path: Path,
    sheets: Sequence[str] | None = None,
    *,
    file_format: str | None = None,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> Iterator[Sheet]:
    """Yield the sheets of `path` (all, or the named ones in the order given).

    `file_format` is what :func:`detect_format` returned, for callers that already know it.
    `max_field_chars` bounds a CSV field (and so the memory one row can take).
    """
    file_format = file_format or detect_format(path)
    if file_format == "csv":
        yield from _csv_sheets(path, sheets, max_field_chars)
    elif file_format == "html":
        from ade.worker.engine.html_tables import html_sheets

        yield from html_sheets(path, sheets)
    else:
        yield from _workbook_sheets(path, sheets, file_format)


# --------------------------------------------------------------------------------------- CSV


def sniff_encoding(path: Path, declared: str | None = None) -> str:
    """Pick the text encoding of a delimited file (see module docstring).

    `declared` is what the file says of itself (an HTML page's charset), tried before detection.
    """
    return sniff_encoding_and_basis(path, declared)[0]


def sniff_encoding_and_basis(path: Path, declared: str | None = None) -> tuple[str, str]:
    """(encoding, how it was chosen): "byte-order mark", "UTF-8", "declared" or "detected"."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", "byte-order mark"
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32", "byte-order mark"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", "byte-order mark"
        handle.seek(0)
        sample = handle.read(_SAMPLE_BYTES)
        if 0 in sample:
            # UTF-16 without a BOM: ASCII text leaves every other byte zero. Any other NUL
            # byte means binary data: text files do not contain them.
            even_zeros = sample[0::2].count(0)
            odd_zeros = sample[1::2].count(0)
            if sample.count(0) > len(sample) // 4:
                if odd_zeros > even_zeros * 4:
                    return "utf-16-le", "zero bytes"
                if even_zeros > odd_zeros * 4:
                    return "utf-16-be", "zero bytes"
            raise EngineError("unreadable_file", f"{path.name} is binary data, not a CSV file")
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8", "UTF-8"
        except UnicodeDecodeError:
            pass
        # Not UTF-8 (rare): a legacy encoding, detected, then checked on the whole file.
        if declared and _known_codec(declared) and _reads_as_text(handle, declared):
            return declared, "declared"
        tried: list[str] = []
        for candidate in _detected_encodings(handle):
            tried.append(candidate)
            if _reads_as_text(handle, candidate):
                return candidate, "detected"
    guesses = f" (tried {', '.join(tried)})" if tried else ""
    raise EngineError(
        "unreadable_file",
        f"{path.name} is neither UTF-8 nor text in another encoding ADE recognizes: it would "
        f"read as control characters{guesses}; save it as UTF-8 (CSV UTF-8 in Excel)",
    )


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _detected_encodings(handle: IO[bytes]) -> list[str]:
    """charset-normalizer's plausible encodings for the file's non-ASCII lines, best first;
    cp1252 (the legacy encoding of most exports) first whenever it is among them, since the
    detector cannot tell the Western code pages apart on a few accented names."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(_non_ascii_lines(handle)))
    results = [match.encoding for match in matches]
    # A match lists the encodings that read the sample identically (cp1250 and cp1252 agree on
    # "Zoë, Malmö"): cp1252 is then the reading to take.
    if any("cp1252" in match.could_be_from_charset for match in matches):
        results = ["cp1252", *(name for name in results if name != "cp1252")]
    return results[:_DETECT_CANDIDATES]


def _non_ascii_lines(handle: IO[bytes]) -> bytes:
    """Up to _DETECT_SAMPLE_BYTES of the file's lines that hold non-ASCII bytes: the only
    evidence of an encoding (a few names in megabytes of ASCII would be lost in a plain sample)."""
    handle.seek(0)
    lines: list[bytes] = []
    size = 0
    carry = b""
    while chunk := handle.read(_CHUNK):
        buffer = carry + chunk
        cut = buffer.rfind(b"\n") + 1  # whole lines only: a cut may split a character
        carry, buffer = buffer[cut:], buffer[:cut]
        if buffer.isascii():
            continue
        for match in _HIGH_LINE.finditer(buffer):
            lines.append(match.group())
            size += len(match.group()) + 1
            if size >= _DETECT_SAMPLE_BYTES:
                return b"\n".join(lines)
    if not carry.isascii():
        lines.append(carry)
    return b"\n".join(lines)


def _reads_as_text(handle: IO[bytes], encoding: str) -> bool:
    """Does the whole file decode with `encoding` to text without control characters?"""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := handle.read(_CHUNK):
            if _CONTROL.search(decoder.decode(chunk)):
                return False
        return not _CONTROL.search(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        return False


def sniff_delimiter(sample: str) -> str:
    """The delimiter giving the most rows with one consistent field count (>1 fields).

    Ties go to the earlier candidate in `, ; TAB |`, so the choice is deterministic. A sample with
    a single column everywhere gets ",".
    """
    lines = sample.splitlines(keepends=True)
    if len(sample) >= _SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    text = "".join(lines)
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts: dict[int, int] = {}
        try:
            for row in csv.reader(text.splitlines(keepends=True), delimiter=delimiter):
                if len(row) > 1:
                    counts[len(row)] = counts.get(len(row), 0) + 1
        except csv.Error:
            continue
        if not counts:
            continue
        width, rows = max(counts.items(), key=lambda item: (item[1], item[0]))
        score = (rows, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_sheets(
    path: Path, sheets: Sequence[str] | None, max_field_chars: int = MAX_FIELD_CHARS
) -> Iterator[Sheet]:
    name = path.stem or "Sheet1"
    if sheets and list(sheets) != [name]:
        missing = [wanted for wanted in sheets if wanted != name]
        raise EngineError(
            "sheet_not_found",
            f"a CSV file has one sheet, named {name!r}; not found: {', '.join(missing)}",
        )
    encoding, basis = sniff_encoding_and_basis(path)
    with path.open("r", encoding=encoding, newline="") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    delimiter = sniff_delimiter(sample)
    yield Sheet(
        name=name,
        rows=_csv_rows(path, encoding, delimiter, max_field_chars),
        details={"encoding": encoding, "encoding_basis": basis, "delimiter": delimiter},
        field_counts=True,
    )


def _csv_rows(
    path: Path, encoding: str, delimiter: str, max_field_chars: int = MAX_FIELD_CHARS
) -> Iterator[Row]:
    """The file's records; EngineError("too_large") naming the line of a field longer than
    `max_field_chars` (or of a line longer than LINE_CHARS_PER_FIELD of them), before it is
    held in memory whole."""
    handle: IO[str]
    line_chars = max_field_chars * LINE_CHARS_PER_FIELD
    # The limit is the csv module's, process-wide: set it for this file as its rows are read.
    csv.field_size_limit(max_field_chars)
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.reader(_bounded_lines(handle, line_chars), delimiter=delimiter)
        try:
            # csv rows are list[str]; str is a Cell, so they are Rows as they stand.
            yield from reader
        except _LineTooLong:
            raise EngineError(
                "too_large",
                f"{path.name}, line {reader.line_num + 1} is longer than {line_chars:,} "
                f"characters (the limit is {LINE_CHARS_PER_FIELD} x csv_max_field_chars)",
            ) from None
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise EngineError(
                    "too_large",
                    f"{path.name}, line {reader.line_num}: a field is longer than "
                    f"{max_field_chars:,} characters (csv_max_field_chars)",
                ) from None
            raise EngineError(
                "unreadable_file", f"{path.name}, line {reader.line_num}: {exc}"
            ) from None
        except UnicodeDecodeError as exc:
            raise EngineError(
                "unreadable_file", f"{path.name}, line {reader.line_num}: {exc}"
            ) from None


class _LineTooLong(Exception):
    """A physical line of a CSV file is longer than the line limit."""


def _bounded_lines(handle: IO[str], limit: int) -> Iterator[str]:
    """The lines of `handle`, each read at most `limit` characters at a time: a longer line
    raises _LineTooLong instead of being read whole."""
    readline = handle.readline
    while line := readline(limit):
        if len(line) == limit and line[-1] not in "\r\n":
            raise _LineTooLong
        yield line


# --------------------------------------------------------------------------------- workbooks

# Sheets whose XML is larger than this are streamed (python-calamine-plus) instead of being read
# whole by python-calamine, which holds about twice the XML's size in memory: 64 MiB of XML is
# roughly 150,000 rows of 12 columns and ~130 MiB of cells.
CALAMINE_IN_MEMORY_LIMIT = 64 * 1024 * 1024
# Excel's largest exactly representable whole number: beyond it a float is not an integer count.
_EXACT_INT = 2.0**53

_COL_RE = re.compile(rb"<(?:\w+:)?col\b([^>]*)>")
_MERGE_RE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*\bref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")
_ATTR_RE = re.compile(rb"\b(min|max|hidden)=\"([^\"]*)\"")
_CELL_REF_RE = re.compile(rb"\br=\"([A-Z]+)([0-9]+)\"")
_VALUE_RE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_CELL_END_RE = re.compile(rb"</(?:\w+:)?c>")
_ERROR_MARKS = (b't="e"', b"t='e'")
_STRING_MARK = b't="s"'
_REF_RE = re.compile(r"([A-Z]+)([0-9]+)")
_STATES = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}


def _parse_ref(ref: str) -> tuple[int, int]:
    match = _REF_RE.fullmatch(ref)
    if not match:
        raise ValueError(ref)
    letters, digits = match.groups()
    return int(digits) - 1, _column_index(letters)


def _column_index(letters: str) -> int:
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return column - 1


@dataclass
class SheetXml:
    """What the engine needs from a worksheet's XML that calamine does not expose."""

    hidden_columns: frozenset[int] = frozenset()
    merged: list[MergedRange] = field(default_factory=list)
    # row index -> [(column index, error text such as "#DIV/0!")]
    errors: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    string_cells: int = 0
    """Cells of type "s" (about: a mark split between two chunks is missed)."""


def scan_sheet_xml(archive: zipfile.ZipFile, member: str, path: Path | None = None) -> SheetXml:
    """Hidden columns, merged ranges and error cells of one worksheet part, from its raw bytes.

    The part is decompressed in chunks and searched with bytes.find, never parsed as a whole:
    `<cols>` precedes `<sheetData>`, `<mergeCells>` follows it, and error cells (rare) are found
    by their `t="e"` attribute. Costs about a tenth of reading the sheet. Given the workbook's
    `path`, the part is inflated by :func:`zip_limits.inflate`, which stops (``too_large``) at
    a part that unzips beyond what its ZIP directory states: the check of streamed sheets.
    """
    hidden: set[int] = set()
    merged: set[MergedRange] = set()
    errors: dict[tuple[int, int], str] = {}
    carry = b""
    seen_data = False
    string_cells = 0
    for chunk in _sheet_chunks(archive, member, path):
        string_cells += chunk.count(_STRING_MARK)
        buffer = carry + chunk
        keep = max(len(buffer) - 256, 0)  # a tag split across chunks is seen whole next time
        if not seen_data:
            cut = buffer.find(b"sheetData")
            for match in _COL_RE.finditer(buffer if cut < 0 else buffer[:cut]):
                attrs = dict(_ATTR_RE.findall(match.group(1)))
                if attrs.get(b"hidden") in (b"1", b"true"):
                    low, high = int(attrs.get(b"min", b"1")), int(attrs.get(b"max", b"1"))
                    hidden.update(range(low - 1, min(high, 16384)))
            seen_data = cut >= 0
        for mark in _ERROR_MARKS:
            position = buffer.find(mark)
            while position >= 0:
                start = buffer.rfind(b"<", 0, position)
                unfinished = _read_error_cell(buffer, start, position, errors)
                if unfinished:
                    keep = min(keep, start)
                    break
                position = buffer.find(mark, position + 5)
        if b"mergeCell" in buffer:
            for match in _MERGE_RE.finditer(buffer):
                first, _, last = match.group(1).decode("ascii").partition(":")
                (r1, c1), (r2, c2) = _parse_ref(first), _parse_ref(last or first)
                merged.add(MergedRange(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
        carry = buffer[keep:]
    by_row: dict[int, list[tuple[int, str]]] = {}
    for (row, column), text in sorted(errors.items()):
        by_row.setdefault(row, []).append((column, text))
    return SheetXml(
        frozenset(hidden),
        sorted(merged, key=lambda m: (m.min_row, m.min_col)),
        by_row,
        string_cells,
    )


def _sheet_chunks(archive: zipfile.ZipFile, member: str, path: Path | None) -> Iterator[bytes]:
    if path is not None:
        yield from zip_limits.inflate(path, archive, archive.getinfo(member), "xlsx")
        return
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def _read_error_cell(
    buffer: bytes, start: int, position: int, errors: dict[tuple[int, int], str]
) -> bool:
    """Record the error cell whose start tag begins at `start`; True if it is cut off."""
    tag_end = buffer.find(b">", position)
    if start < 0 or tag_end < 0:
        return True
    ref = _CELL_REF_RE.search(buffer, start, tag_end)
    if buffer[tag_end - 1 : tag_end] == b"/" or ref is None:
        return False  # an error cell without a value, or without a position: nothing to put back
    end = _CELL_END_RE.search(buffer, tag_end)
    if end is None:
        return True
    value = _VALUE_RE.search(buffer, tag_end, end.start())
    if value is not None:
        row, column = int(ref.group(2)) - 1, _column_index(ref.group(1).decode("ascii"))
        errors[(row, column)] = value.group(1).decode("utf-8", "replace")
    return False


_TAG_ATTRS_RE = re.compile(rb"<(?:\w+:)?(sheet|Relationship)\b([^>]*)>")
_ATTR_PAIR_RE = re.compile(rb"([\w:]+)=\"([^\"]*)\"")


def _worksheet_parts(archive: zipfile.ZipFile) -> tuple[dict[str, zipfile.ZipInfo], str | None]:
    """Sheet name -> its worksheet part, from xl/workbook.xml and its relationships, and the
    shared-strings part (whatever its name: calamine finds it by its relationship too).

    Both parts are small; their `<sheet>` and `<Relationship>` tags are read with a regular
    expression rather than an XML parser, which would expand entities in untrusted input.
    """
    targets: dict[str, str] = {}
    shared_strings: str | None = None
    for _, attributes in _tags(archive, "xl/_rels/workbook.xml.rels", b"Relationship"):
        target = attributes.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        targets[attributes.get("Id", "")] = member
        if attributes.get("Type", "").endswith("/sharedStrings"):
            shared_strings = member
    parts: dict[str, zipfile.ZipInfo] = {}
    for _, attributes in _tags(archive, "xl/workbook.xml", b"sheet"):
        # The relationship id is `r:id`, whatever prefix the file binds to that namespace.
        ref = next((v for k, v in attributes.items() if k.endswith(":id")), "")
        with contextlib.suppress(KeyError):
            if ref in targets:
                parts[attributes.get("name", "")] = archive.getinfo(targets[ref])
    return parts, shared_strings


def _tags(
    archive: zipfile.ZipFile, member: str, name: bytes
) -> Iterator[tuple[str, dict[str, str]]]:
    for match in _TAG_ATTRS_RE.finditer(archive.read(member)):
        if match.group(1) == name:
            pairs = _ATTR_PAIR_RE.findall(match.group(2))
            yield name.decode(), {
                key.decode(): html.unescape(value.decode("utf-8", "replace"))
                for key, value in pairs
            }


def _cells(rows: Iterator[list[Any]], start_col: int = 0) -> Iterator[Row]:
    """calamine rows -> engine rows: whole floats as int, "" as None, columns from A."""
    pad: list[Cell] = [None] * start_col
    for raw in rows:
        row: Row = [
            (
                None
                if value == ""
                else (
                    int(value)
                    if value.__class__ is float
                    and value.is_integer()
                    and -_EXACT_INT < value < _EXACT_INT
                    else value
                )
            )
            for value in raw
        ]
        yield pad + row if start_col else row


def _put_back_errors(
    rows: Iterator[Row], errors: dict[int, list[tuple[int, str]]]
) -> Iterator[Row]:
    if not errors:
        yield from rows
        return
    for index, row in enumerate(rows):
        for column, text in errors.get(index, ()):
            if column >= len(row):
                row.extend([None] * (column + 1 - len(row)))
            row[column] = text
        yield row


def _fill_merged(rows: Iterator[Row], merged: list[MergedRange]) -> Iterator[Row]:
    """Copy each merged range's top-left value into all of its cells while streaming."""
    if not merged:
        yield from rows
        return
    by_start: dict[int, list[MergedRange]] = {}
    for block in merged:
        by_start.setdefault(block.min_row, []).append(block)
    active: list[tuple[MergedRange, Cell]] = []
    for index, row in enumerate(rows):
        for block in by_start.get(index, ()):
            value = row[block.min_col] if block.min_col < len(row) else None
            active.append((block, value))
        if active:
            width = max(block.max_col for block, _ in active) + 1
            if len(row) < width:
                row.extend([None] * (width - len(row)))
            for block, value in active:
                for column in range(block.min_col, block.max_col + 1):
                    row[column] = value
            active = [(b, v) for b, v in active if b.max_row > index]
        yield row


def _workbook_sheets(path: Path, wanted: Sequence[str] | None, file_format: str) -> Iterator[Sheet]:
    kind = WORKBOOK_NAMES.get(file_format, file_format)
    archive: zipfile.ZipFile | None = None
    parts: dict[str, zipfile.ZipInfo] = {}
    shared_strings: str | None = None
    longest = 0
    if file_format in ZIP_FORMATS:
        try:
            archive = zipfile.ZipFile(path)
            # Before calamine reads a byte: no part may unzip beyond the limits.
            zip_limits.check_directory(path, archive, file_format)
            if file_format in ("xlsx", "xlsm"):
                parts, shared_strings = _worksheet_parts(archive)
            longest = zip_limits.check_parts(path, archive, file_format, shared_strings)
            if file_format == "ods":
                zip_limits.check_ods_cells(path, archive)
        except EngineError:
            if archive is not None:
                archive.close()
            raise
        except (KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
            if archive is not None:
                archive.close()
            raise EngineError(
                "unreadable_file",
                f"{path.name} is not a readable {kind} workbook ({_describe(exc)})",
            ) from None
    try:
        selected = [parts[name] for name in (wanted or parts) if name in parts]
        streaming = any(info.file_size > CALAMINE_IN_MEMORY_LIMIT for info in selected)
        workbook = _open_workbook(path, kind, streaming)
        try:
            strings = (shared_strings, longest) if shared_strings and not streaming else None
            yield from _sheets_of(path, workbook, wanted, archive, parts, streaming, strings)
        finally:
            workbook.close()
    finally:
        if archive is not None:
            archive.close()


def _open_workbook(path: Path, kind: str, streaming: bool) -> Any:
    if streaming:
        from python_calamine_plus import CalamineWorkbook, PasswordError
    else:
        from python_calamine import CalamineWorkbook, PasswordError  # type: ignore[assignment]
    try:
        return CalamineWorkbook.from_path(path)
    except PasswordError:
        raise EngineError(
            "unsupported_format",
            f"{path.name} is password-protected (encrypted); remove the password in the "
            "spreadsheet program and save it again, or export it as CSV",
        ) from None
    except Exception as exc:  # calamine, ZIP and XML errors all mean "not a usable workbook"
        raise EngineError(
            "unreadable_file", f"{path.name} is not a readable {kind} workbook ({_describe(exc)})"
        ) from None


def _sheets_of(
    path: Path,
    workbook: Any,
    wanted: Sequence[str] | None,
    archive: zipfile.ZipFile | None,
    parts: dict[str, zipfile.ZipInfo],
    streaming: bool,
    strings: tuple[str, int] | None = None,
) -> Iterator[Sheet]:
    # The metadata enums are the binding's own classes (two bindings): compare by member name.
    states = {m.name: _STATES.get(_member(m.visible), "visible") for m in workbook.sheets_metadata}
    worksheets = [m.name for m in workbook.sheets_metadata if _member(m.typ) == "WorkSheet"]
    names = list(workbook.sheet_names)
    if wanted:
        missing = [name for name in wanted if name not in names]
        if missing:
            raise EngineError(
                "sheet_not_found",
                f"no sheet named {', '.join(map(repr, missing))} in {path.name} "
                f"(sheets: {', '.join(map(repr, names))})",
            )
        worksheets = list(dict.fromkeys(wanted))
    for name in worksheets:
        xml = SheetXml()
        if archive is not None and name in parts:
            # Metadata only: if it cannot be read, the rows themselves may still be. The scan
            # also counts the part's unzipped bytes (a too_large EngineError is not suppressed).
            with contextlib.suppress(zipfile.BadZipFile, ValueError, OSError, EOFError):
                xml = scan_sheet_xml(archive, parts[name].filename, path)
            if strings is not None:  # read whole: its shared-string cells all at once
                member, longest = strings
                zip_limits.check_sheet_text(
                    path, archive, parts[name].filename, member, xml.string_cells, longest
                )
        try:
            if streaming:
                raw, start_col = workbook.stream_sheet_by_name(name), 0
            else:
                sheet = workbook.get_sheet_by_name(name)
                raw, start_col = sheet.iter_rows(), (sheet.start or (0, 0))[1]
                if archive is None:  # calamine has the merged ranges of .xls
                    xml.merged = [
                        MergedRange(r1, c1, r2, c2)
                        for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or ()
                    ]
        except Exception as exc:
            raise EngineError(
                "unreadable_file", f"{path.name}, sheet {name!r} is corrupt ({_describe(exc)})"
            ) from None
        rows = _guarded_rows(path, name, _cells(raw, start_col))
        yield Sheet(
            name=name,
            rows=_fill_merged(_put_back_errors(rows, xml.errors), xml.merged),
            hidden_columns=xml.hidden_columns,
            merged=xml.merged,
            details={"state": states.get(name, "visible")},
        )


def _member(value: object) -> str:
    return str(value).rpartition(".")[2]


def _guarded_rows(path: Path, sheet: str, rows: Iterator[Row]) -> Iterator[Row]:
    """Re-raise errors met while streaming a sheet (corrupt XML, truncated ZIP) as EngineError."""
    try:
        yield from rows
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(
            "unreadable_file", f"{path.name}, sheet {sheet!r} is corrupt ({_describe(exc)})"
        ) from None


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
