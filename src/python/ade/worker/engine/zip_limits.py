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

Such a run fails with the code ``too_large``. The limits are the process's (:func:`configure`):
the worker sets them from its settings in each engine child; ``ade extract`` uses the defaults.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
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


def check_parts(path: Path, archive: zipfile.ZipFile, file_format: str) -> None:
    """Check the directory, then inflate and count every part read whole (see module doc)."""
    check_directory(path, archive, file_format)
    for info in archive.infolist():
        if not is_streamed(file_format, info.filename) and not info.is_dir():
            for _ in inflate(path, archive, info, file_format):
                pass


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
                chunk = inflater.decompress(raw, _CHUNK)
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
