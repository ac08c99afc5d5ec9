"""Turn a CSV or XLSX file into a uniform stream of sheets: a name plus rows of cell values.

The format is decided by the file's first bytes, not its name: a ZIP container is a workbook,
an OLE2 container is a legacy .xls or an encrypted workbook (unsupported), anything else is
delimited text.

CSV: the encoding is sniffed (BOMs first; else a streaming strict UTF-8 check; else cp1252, or
latin-1 when bytes undefined in cp1252 occur) and the delimiter is chosen among `, ; TAB |` by
which one gives the most consistent field count over a sample. Rows are streamed.

XLSX: rows are streamed with openpyxl's read-only mode (values only). Read-only mode exposes
neither merged cells nor column visibility, so the sheet's XML is scanned once, as raw bytes
(cheap next to parsing), for `<col hidden>` and `<mergeCell ref>`. Merged ranges are filled
with their top-left value as rows stream by: a header merged across three columns then reads as
three equal header cells, which is what table detection expects of a grouped header.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ade.worker.engine.cells import Cell, Row, cell_ref
from ade.worker.engine.errors import EngineError

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 64 * 1024
_CHUNK = 1024 * 1024
# Bytes that cp1252 leaves undefined: their presence means latin-1 is the honest guess.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")

csv.field_size_limit(64 * 1024 * 1024)


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


def detect_format(path: Path) -> str:
    """'xlsx' or 'csv' from the magic bytes; EngineError for missing, empty or unsupported."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        raise EngineError("file_not_found", f"no such file: {path}") from None
    except IsADirectoryError:
        raise EngineError("unreadable_file", f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise EngineError("unreadable_file", f"cannot open {path}: {exc.strerror}") from None
    if not head:
        raise EngineError("empty_file", f"{path.name} is empty (0 bytes)")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise EngineError(
            "unsupported_format",
            f"{path.name} is a legacy .xls or password-protected workbook; save it as .xlsx or CSV",
        )
    return "csv"


def open_sheets(
    path: Path, sheets: Sequence[str] | None = None, *, file_format: str | None = None
) -> Iterator[Sheet]:
    """Yield the sheets of `path` (all, or the named ones in the order given).

    `file_format` is what :func:`detect_format` returned, for callers that already know it.
    """
    if (file_format or detect_format(path)) == "xlsx":
        yield from _xlsx_sheets(path, sheets)
    else:
        yield from _csv_sheets(path, sheets)


# --------------------------------------------------------------------------------------- CSV


def sniff_encoding(path: Path) -> str:
    """Pick the text encoding of a delimited file (see module docstring)."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        sample = handle.read(_SAMPLE_BYTES)
        if 0 in sample:
            # UTF-16 without a BOM: ASCII text leaves every other byte zero. Any other NUL
            # byte means binary data: text files do not contain them.
            even_zeros = sample[0::2].count(0)
            odd_zeros = sample[1::2].count(0)
            if sample.count(0) > len(sample) // 4:
                if odd_zeros > even_zeros * 4:
                    return "utf-16-le"
                if even_zeros > odd_zeros * 4:
                    return "utf-16-be"
            raise EngineError("unreadable_file", f"{path.name} is binary data, not a CSV file")
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        undefined = False
        try:
            while chunk := handle.read(_CHUNK):
                if not undefined and not _CP1252_UNDEFINED.isdisjoint(chunk):
                    undefined = True
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        while chunk := handle.read(_CHUNK):
            if not undefined and not _CP1252_UNDEFINED.isdisjoint(chunk):
                undefined = True
        return "latin-1" if undefined else "cp1252"


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


def _csv_sheets(path: Path, sheets: Sequence[str] | None) -> Iterator[Sheet]:
    name = path.stem or "Sheet1"
    if sheets and list(sheets) != [name]:
        missing = [wanted for wanted in sheets if wanted != name]
        raise EngineError(
            "sheet_not_found",
            f"a CSV file has one sheet, named {name!r}; not found: {', '.join(missing)}",
        )
    encoding = sniff_encoding(path)
    with path.open("r", encoding=encoding, newline="") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    delimiter = sniff_delimiter(sample)
    yield Sheet(
        name=name,
        rows=_csv_rows(path, encoding, delimiter),
        details={"encoding": encoding, "delimiter": delimiter},
    )


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[Row]:
    handle: IO[str]
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            # csv rows are list[str]; str is a Cell, so they are Rows as they stand.
            yield from reader
        except (csv.Error, UnicodeDecodeError) as exc:
            raise EngineError(
                "unreadable_file", f"{path.name}, line {reader.line_num}: {exc}"
            ) from None


# -------------------------------------------------------------------------------------- XLSX

_COL_RE = re.compile(rb"<(?:\w+:)?col\b([^>]*)>")
_MERGE_RE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*\bref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")
_ATTR_RE = re.compile(rb"\b(min|max|hidden)=\"([^\"]*)\"")
_REF_RE = re.compile(r"([A-Z]+)([0-9]+)")


def _parse_ref(ref: str) -> tuple[int, int]:
    match = _REF_RE.fullmatch(ref)
    if not match:
        raise ValueError(ref)
    letters, digits = match.groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(digits) - 1, column - 1


def scan_sheet_xml(
    archive: zipfile.ZipFile, member: str
) -> tuple[frozenset[int], list[MergedRange]]:
    """Hidden columns and merged ranges of one worksheet part, from its raw XML bytes.

    `<cols>` precedes `<sheetData>` and `<mergeCells>` follows it, so the part is decompressed
    in chunks and only those two small regions are searched, never parsed as a whole.
    """
    hidden: set[int] = set()
    merged: list[MergedRange] = []
    tail = b""
    seen_data = False
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            buffer = tail + chunk
            if not seen_data:
                cut = buffer.find(b"sheetData")
                head = buffer if cut < 0 else buffer[:cut]
                for match in _COL_RE.finditer(head):
                    attrs = dict(_ATTR_RE.findall(match.group(1)))
                    if attrs.get(b"hidden") in (b"1", b"true"):
                        low, high = int(attrs.get(b"min", b"1")), int(attrs.get(b"max", b"1"))
                        hidden.update(range(low - 1, min(high, 16384)))
                if cut >= 0:
                    seen_data = True
            for match in _MERGE_RE.finditer(buffer):
                ref = match.group(1).decode("ascii")
                first, _, last = ref.partition(":")
                (r1, c1), (r2, c2) = _parse_ref(first), _parse_ref(last or first)
                merged.append(MergedRange(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
            # Keep an overlap so a tag split across chunks is seen whole next time; what is
            # matched twice collapses in the sets below.
            tail = buffer[-256:]
    unique = sorted(set(merged), key=lambda m: (m.min_row, m.min_col))
    return frozenset(hidden), unique


def _fill_merged(rows: Iterator[Sequence[Cell]], merged: list[MergedRange]) -> Iterator[Row]:
    """Copy each merged range's top-left value into all of its cells while streaming."""
    if not merged:
        for row in rows:
            yield list(row)
        return
    by_start: dict[int, list[MergedRange]] = {}
    for block in merged:
        by_start.setdefault(block.min_row, []).append(block)
    active: list[tuple[MergedRange, Cell]] = []
    for index, values in enumerate(rows):
        row = list(values)
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


def _xlsx_sheets(path: Path, wanted: Sequence[str] | None) -> Iterator[Sheet]:
    import openpyxl  # heavy: only when a workbook is actually read

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors all mean "not a usable workbook"
        raise EngineError(
            "unreadable_file", f"{path.name} is not a readable .xlsx workbook ({_describe(exc)})"
        ) from None
    try:
        names = list(workbook.sheetnames)
        if wanted:
            missing = [name for name in wanted if name not in names]
            if missing:
                raise EngineError(
                    "sheet_not_found",
                    f"no sheet named {', '.join(map(repr, missing))} in {path.name} "
                    f"(sheets: {', '.join(map(repr, names))})",
                )
            names = list(dict.fromkeys(wanted))
        archive = zipfile.ZipFile(path)
        try:
            for name in names:
                worksheet = workbook[name]
                member = getattr(worksheet, "_worksheet_path", None)
                hidden: frozenset[int] = frozenset()
                merged: list[MergedRange] = []
                if isinstance(member, str):
                    # Metadata only: if it cannot be read, the rows themselves may still be.
                    with contextlib.suppress(
                        KeyError, zipfile.BadZipFile, ValueError, OSError, EOFError
                    ):
                        hidden, merged = scan_sheet_xml(archive, member.lstrip("/"))
                rows = _guarded_rows(path, name, worksheet.iter_rows(values_only=True))
                yield Sheet(
                    name=name,
                    rows=_fill_merged(rows, merged),
                    hidden_columns=hidden,
                    merged=merged,
                    details={"state": getattr(worksheet, "sheet_state", "visible")},
                )
        finally:
            archive.close()
    finally:
        workbook.close()


def _guarded_rows(path: Path, sheet: str, rows: Iterator[Any]) -> Iterator[Sequence[Cell]]:
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
