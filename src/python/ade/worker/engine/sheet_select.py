"""Which sheets a run reads: by name, by position, or the one the workbook opens on.

A selection comes from the caller (`ade extract --sheet`, strings) or else from the
configuration (`sheets`: names as strings, 1-based positions as integers; `active_sheet_only`).
:func:`select_sheets` turns it into sheet names before any row is read, so the readers keep
taking names only. Nothing is opened when the selection is empty or names only: a run without
positions or the active sheet costs what it did.

- Positions count every sheet in workbook order, hidden ones too (as the workbook lists them).
- A caller's string is a sheet name when the workbook has a sheet of that name, otherwise, if it
  is a number, a position: `--sheet 2` still reads a sheet named "2", and the second sheet of a
  workbook without one. The configuration's types say it outright (`"2"` vs `2`).
- The active sheet: XLSX/XLSM: `<workbookView activeTab>` of xl/workbook.xml (read with the same
  regular expressions as the readers: no XML parser, which would expand entities); ODS: the
  `ActiveTable` of settings.xml; XLS and XLSB (calamine does not expose it, and their binary
  records are not read here): the first visible sheet; CSV: its one sheet; HTML: every table.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ade.db.configuration_spec import ConfigurationSpec
from ade.worker.engine import zip_limits
from ade.worker.engine.errors import EngineError

# Bounded reads of small metadata parts (a workbook.xml lists sheet names and views only).
_METADATA_BYTES = 16 * 2**20
_SHEET_TAG = re.compile(rb"<(?:\w+:)?(sheet|workbookView)\b([^>]*)>")
_ATTR = re.compile(rb"([\w:]+)=\"([^\"]*)\"")
_ODS_ACTIVE = re.compile(
    rb'<config:config-item\s+config:name="ActiveTable"[^>]*>([^<]*)</config:config-item>'
)


def select_sheets(
    path: Path, file_format: str, spec: ConfigurationSpec, sheets: Sequence[str] | None
) -> list[str] | None:
    """Sheet names to read (None: every worksheet), from the caller's `sheets` or else the
    configuration's `sheets`/`active_sheet_only`; EngineError for a position past the end."""
    if sheets:
        if not any(_number(s) for s in sheets):
            return list(sheets)  # names only: the readers check them, as always
        names = sheet_names(path, file_format)
        return [s if s in names or not _number(s) else _at(path, names, int(s)) for s in sheets]
    if spec.active_sheet_only:
        return active_sheet(path, file_format)
    if spec.sheets:
        if all(isinstance(s, str) for s in spec.sheets):
            return [str(s) for s in spec.sheets]
        names = sheet_names(path, file_format)
        return [s if isinstance(s, str) else _at(path, names, s) for s in spec.sheets]
    return None


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _at(path: Path, names: list[str], position: int) -> str:
    if not 1 <= position <= len(names):
        listed = ", ".join(f"{n} {name!r}" for n, name in enumerate(names, 1))
        raise EngineError(
            "sheet_not_found",
            f"no sheet number {position} in {path.name} ({len(names)} sheet(s): {listed})",
        )
    return names[position - 1]


def sheet_names(path: Path, file_format: str) -> list[str]:
    """Every sheet's name, in workbook order."""
    if file_format == "csv":
        return [path.stem or "Sheet1"]  # as readers._csv_sheets names it
    if file_format == "html":
        from ade.worker.engine.html_tables import html_sheets

        return [sheet.name for sheet in html_sheets(path)]
    if file_format in ("xlsx", "xlsm"):
        return [name for name, _ in _xlsx_sheets(path, file_format)[0]]
    workbook = _calamine(path)
    try:
        return list(workbook.sheet_names)
    finally:
        workbook.close()


def active_sheet(path: Path, file_format: str) -> list[str] | None:
    """The sheet the workbook opens on, as a one-name selection (None: every sheet)."""
    if file_format == "csv":
        return None
    if file_format == "html":
        return None
    if file_format in ("xlsx", "xlsm"):
        sheets, active = _xlsx_sheets(path, file_format)
        if sheets:
            return [sheets[active if 0 <= active < len(sheets) else 0][0]]
    if file_format == "ods":
        name = _ods_active(path)
        if name is not None:
            return [name]
    workbook = _calamine(path)
    try:
        visible = [
            m.name
            for m in workbook.sheets_metadata
            if str(m.visible).rpartition(".")[2] == "Visible"
            and str(m.typ).rpartition(".")[2] == "WorkSheet"
        ]
        return visible[:1] or list(workbook.sheet_names)[:1] or None
    finally:
        workbook.close()


def _open_zip(path: Path, file_format: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise EngineError(
            "unreadable_file", f"{path.name} is not a readable workbook ({exc})"
        ) from None
    try:
        zip_limits.check_directory(path, archive, file_format)
    except EngineError:
        archive.close()
        raise
    return archive


def _read_member(archive: zipfile.ZipFile, member: str) -> bytes:
    try:
        with archive.open(member) as handle:
            return handle.read(_METADATA_BYTES)
    except KeyError:
        return b""
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise EngineError("unreadable_file", f"{member} is corrupt ({exc})") from None


def _xlsx_sheets(path: Path, file_format: str) -> tuple[list[tuple[str, str]], int]:
    """(name, state) of each sheet of xl/workbook.xml in order, and the activeTab index."""
    import html

    with _open_zip(path, file_format) as archive:
        xml = _read_member(archive, "xl/workbook.xml")
    sheets: list[tuple[str, str]] = []
    active = 0
    for match in _SHEET_TAG.finditer(xml):
        attributes = {
            key.decode(): html.unescape(value.decode("utf-8", "replace"))
            for key, value in _ATTR.findall(match.group(2))
        }
        if match.group(1) == b"sheet":
            sheets.append((attributes.get("name", ""), attributes.get("state", "visible")))
        elif attributes.get("activeTab", "").isdigit():
            active = int(attributes["activeTab"])
    return sheets, active


def _ods_active(path: Path) -> str | None:
    import html

    with _open_zip(path, "ods") as archive:
        match = _ODS_ACTIVE.search(_read_member(archive, "settings.xml"))
    return html.unescape(match.group(1).decode("utf-8", "replace")) if match else None


def _calamine(path: Path):  # type: ignore[no-untyped-def]
    from python_calamine import CalamineWorkbook

    from ade.worker.engine.readers import WORKBOOK_NAMES, detect_format

    try:
        return CalamineWorkbook.from_path(path)
    except Exception as exc:  # the same failures the readers report, in their words
        kind = WORKBOOK_NAMES.get(detect_format(path), "spreadsheet")
        raise EngineError(
            "unreadable_file", f"{path.name} is not a readable {kind} workbook ({exc})"
        ) from None
