"""Refuse decompression bombs: a workbook's ZIP parts may unzip only so far, and so many times.

An XLSX, XLSB or ODS file is a ZIP archive whose parts (sheets, shared strings) are read by
calamine, mostly whole. A few hundred kilobytes of repetitive XML can unzip to gigabytes, so
before any part is read, every part is checked against :class:`ZipLimits`:

- its unzipped size may be at most ``max_ratio`` times its zipped size (real workbooks compress
  5-20x; a bomb 1,000x), checked only above ``ratio_floor_bytes`` so a tiny, very regular part
  (styles, an empty sheet) never trips it;
- at most ``max_part_bytes`` for the XLSX worksheets that are streamed row by row in constant
  memory, and at most ``max_whole_part_bytes`` for every part read whole (shared strings,
  XLSB sheets, ODS content), since those cost memory in proportion to their size.

The sizes come first from the ZIP's central directory, which is cheap to read but written by
whoever made the file, so each part is also inflated here, its output counted as it streams
(:func:`inflate`): a part that unzips to more than its directory entry claims, or than the
limits allow, stops the run at that point. Parts calamine reads whole are inflated and counted
before calamine opens the file; streamed worksheets are counted by the scan of their XML that
the reader makes anyway (:func:`ade.worker.engine.readers.scan_sheet_xml`), so that costs
nothing extra.

ZIP ratios do not show every bomb: an XLSX cell of type "s" holds a copy of the shared string it
points to, so a long string behind many short references multiplies in memory. A sheet read
whole may hold at most ``max_sheet_text_bytes`` of such text (:func:`check_sheet_text`). ODS
has its own: repeat attributes that calamine expands (:func:`check_ods_cells`).

Such a run fails with the code ``too_large``. The limits are the process's (:func:`configure`):
the worker sets them from its settings in each engine child; ``ade extract`` uses the defaults.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ade.worker.engine.errors import EngineError

MiB = 1024 * 1024
_CHUNK = 1024 * 1024
_LOCAL_HEADER = struct.Struct("<4s5H3I2H")


@dataclass(frozen=True)
class ZipLimits:
    """How far the parts of a workbook may unzip (see the module docstring)."""

    max_ratio: float = 100.0
    max_part_bytes: int = 4096 * MiB
    max_whole_part_bytes: int = 160 * MiB
    ratio_floor_bytes: int = 1 * MiB
    max_sheet_text_bytes: int = 256 * MiB


_limits = ZipLimits()


def configure(limits: ZipLimits) -> None:
    """Set the limits this process applies (the worker's engine child, from its settings)."""
    global _limits
    _limits = limits


def current() -> ZipLimits:
    return _limits


def is_streamed(file_format: str, member: str) -> bool:
    """True for the parts read row by row in constant memory: XLSX worksheets' XML."""
    return (
        file_format in ("xlsx", "xlsm")
        and member.startswith("xl/worksheets/")
        and member.endswith(".xml")
    )


def _size(count: float) -> str:
    return f"{count / MiB:,.0f} MiB" if count >= MiB else f"{count / 1024:,.0f} KiB"


def _too_large(path: Path, member: str, detail: str) -> EngineError:
    return EngineError(
        "too_large",
        f"{path.name} is refused as a possible decompression bomb: its part {member} {detail}",
    )


def _cap(file_format: str, member: str, limits: ZipLimits) -> int:
    return (
        limits.max_part_bytes if is_streamed(file_format, member) else limits.max_whole_part_bytes
    )


def check_directory(path: Path, archive: zipfile.ZipFile, file_format: str) -> None:
    """Check every part's sizes as the central directory states them (cheap: no inflating)."""
    limits = _limits
    for info in archive.infolist():
        cap = _cap(file_format, info.filename, limits)
        if info.file_size > cap:
            raise _too_large(
                path,
                info.filename,
                f"unzips to {_size(info.file_size)}, more than the limit of {_size(cap)}",
            )
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            raise _too_large(
                path,
                info.filename,
                f"unzips to {_size(info.file_size)} from {_size(info.compress_size)}, "
                f"{ratio:,.0f} times its zipped size (limit {limits.max_ratio:,.0f} times)",
            )


def check_parts(
    path: Path, archive: zipfile.ZipFile, file_format: str, shared_strings: str | None = None
) -> int:
    """Check the directory, then inflate and count every part read whole (see module doc).

    Returns the length of the longest item of the `shared_strings` part (in bytes of XML,
    tags included: an upper bound), 0 without one: what a sheet's cells can multiply.
    """
    check_directory(path, archive, file_format)
    longest = 0
    for info in archive.infolist():
        if not is_streamed(file_format, info.filename) and not info.is_dir():
            chunks = inflate(path, archive, info, file_format)
            if info.filename == shared_strings:
                longest = _longest_item(chunks)
            else:
                for _ in chunks:
                    pass
    return longest


_ODS_CONTENT = "content.xml"
# An ODS row or cell start tag; a cell with an office:value-type holds a value (empty cells,
# which LibreOffice repeats to the sheet's edge, are not stored by calamine).
_ODS_TAG = re.compile(rb"<table:(table-row|table-cell|covered-table-cell)\b([^>]*)>")
_ROWS_REPEATED = re.compile(rb'number-rows-repeated="([0-9]+)"')
_COLUMNS_REPEATED = re.compile(rb'number-columns-repeated="([0-9]+)"')
# What calamine holds per cell of an ODS sheet, roughly (its value and the slot).
ODS_CELL_BYTES = 64


def check_ods_cells(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse an ODS whose repeat attributes expand into more cells than memory allows.

    OpenDocument writes a run of equal rows or cells once, with `number-rows-repeated` or
    `number-columns-repeated`, and calamine expands them: a sub-kilobyte content.xml can ask
    for a hundred million cells, a bomb no ZIP ratio shows. The expanded count of cells that
    hold a value is summed from the start tags (one pass; ODS content is read whole anyway)."""
    if _ODS_CONTENT not in archive.NameToInfo:
        return
    budget = _limits.max_sheet_text_bytes // ODS_CELL_BYTES
    total = 0
    row_repeat = 1
    carry = b""
    for chunk in inflate(path, archive, archive.getinfo(_ODS_CONTENT), "ods"):
        buffer = carry + chunk
        end = buffer.rfind(b"<")
        end = end if end > 0 else len(buffer)
        for match in _ODS_TAG.finditer(buffer, 0, end):
            kind, attributes = match.groups()
            if kind == b"table-row":
                repeated = _ROWS_REPEATED.search(attributes)
                row_repeat = int(repeated.group(1)) if repeated else 1
            elif b"value-type" in attributes:
                repeated = _COLUMNS_REPEATED.search(attributes)
                total += row_repeat * (int(repeated.group(1)) if repeated else 1)
        carry = buffer[end:]
        carry = carry if len(carry) < _CHUNK else carry[-4096:]
        if total > budget:
            raise _too_large(
                path,
                _ODS_CONTENT,
                f"repeats its cells into more than {budget:,} cells holding a value "
                f"(about {_size(budget * ODS_CELL_BYTES)} in memory)",
            )


_ITEM = b"<si"
_STRING_CELL = re.compile(rb'<c\b[^>]*?\bt="s"[^>]*>\s*<v>([0-9]+)</v>')
_CELL_END = b"</c>"


def _longest_item(chunks: Iterable[bytes]) -> int:
    """The longest stretch between two `<si` marks, at C speed (split, map, max)."""
    longest = current = 0
    for chunk in chunks:
        parts = chunk.split(_ITEM)
        if len(parts) == 1:
            current += len(chunk)
            continue
        middle = max(map(len, parts[1:-1]), default=0)
        longest = max(longest, current + len(parts[0]), middle)
        current = len(parts[-1])
    return max(longest, current)


def check_sheet_text(
    path: Path,
    archive: zipfile.ZipFile,
    sheet: str,
    shared_strings: str,
    string_cells: int,
    longest: int,
) -> None:
    """Refuse a sheet read whole whose cells would hold more text than the limit allows.

    Each cell of type "s" holds a copy of the shared string it points to, so a kilobyte string
    behind a sheet of short references is a bomb that no ZIP ratio shows (a few kB of file,
    gigabytes in memory). ``string_cells * longest`` bounds the text cheaply; only when that
    bound is over the limit are the references summed exactly (a rare, slower path)."""
    budget = _limits.max_sheet_text_bytes
    if string_cells * longest <= budget:
        return
    lengths = array("Q")
    current = 0
    for chunk in inflate(path, archive, archive.getinfo(shared_strings), "xlsx"):
        parts = chunk.split(_ITEM)
        if len(parts) > 1:
            lengths.append(current + len(parts[0]))
            lengths.extend(map(len, parts[1:-1]))
            current = len(parts[-1])
        else:
            current += len(chunk)
    lengths.append(current)
    del lengths[0]  # what precedes the first item
    total = 0
    carry = b""
    for chunk in inflate(path, archive, archive.getinfo(sheet), "xlsx"):
        buffer = carry + chunk
        end = buffer.rfind(_CELL_END) + len(_CELL_END)
        carry = buffer[end:] if end >= len(_CELL_END) else buffer
        carry = carry if len(carry) < _CHUNK else carry[-4096:]  # no cell is that long
        indexes = [int(i) for i in _STRING_CELL.findall(buffer, 0, max(end, 0))]
        total += sum(lengths[i] for i in indexes if i < len(lengths))
        if total > budget:
            raise _too_large(
                path,
                sheet,
                f"repeats shared strings into more than {_size(budget)} of cell text "
                "(a few long strings referenced by many cells)",
            )


def inflate(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_format: str
) -> Iterator[bytes]:
    """The part's unzipped bytes in chunks, stopping the run (``too_large``) as soon as they
    exceed what the directory claims or the limits allow. Deflated parts are inflated from the
    raw stream, so a stream that goes on past its stated size is noticed (Python's zipfile
    would silently stop at the stated size); other methods go through zipfile, whose output
    ends at the stated size and is then CRC-checked."""
    limits = _limits
    cap = min(_cap(file_format, info.filename, limits), info.file_size)
    ratio_cap = max(limits.max_ratio * max(info.compress_size, 1), limits.ratio_floor_bytes)
    cap = int(min(cap, ratio_cap)) if info.file_size > limits.ratio_floor_bytes else cap
    if info.compress_type != zipfile.ZIP_DEFLATED:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                yield chunk
        return
    produced = 0
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    with path.open("rb") as handle:
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header of {info.filename}")
        fields = _LOCAL_HEADER.unpack(header)
        handle.seek(fields[-2] + fields[-1], 1)  # the name and the extra field
        left = info.compress_size
        while left > 0 and not inflater.eof:
            raw = handle.read(min(_CHUNK // 4, left))
            if not raw:
                raise zipfile.BadZipFile(f"{info.filename} is truncated")
            left -= len(raw)
            while raw and not inflater.eof:
                try:
                    chunk = inflater.decompress(raw, _CHUNK)
                except zlib.error as exc:
                    raise zipfile.BadZipFile(f"{info.filename} is damaged ({exc})") from None
                raw = inflater.unconsumed_tail
                produced += len(chunk)
                if produced > cap:
                    raise _overflow(path, info, file_format, produced)
                if chunk:
                    yield chunk
    if produced != info.file_size:
        raise zipfile.BadZipFile(
            f"{info.filename} unzips to {produced} bytes, not the {info.file_size} it states"
        )


def _overflow(path: Path, info: zipfile.ZipInfo, file_format: str, produced: int) -> EngineError:
    limits = _limits
    if produced > info.file_size:
        return _too_large(
            path,
            info.filename,
            f"unzips to more than the {_size(info.file_size)} its ZIP directory states",
        )
    cap = _cap(file_format, info.filename, limits)
    return _too_large(
        path,
        info.filename,
        f"unzips to more than {_size(min(cap, limits.max_ratio * info.compress_size))} "
        f"(limits: {limits.max_ratio:,.0f} times its zipped size of "
        f"{_size(info.compress_size)}, and {_size(cap)})",
    )
