"""CSV outputs that are safe to double-click: formula cells defused, Excel told the encoding.

A spreadsheet opening a CSV runs a cell that starts with "=", "+", "-" or "@" as a formula
(DDE payloads such as ``=cmd|' /C calc'!A0`` start a program), and a leading TAB, CR or NUL
can hide such a start. OWASP's "CSV Injection" guidance (and ASVS 5, 1.2.10) is to write those
cells with a leading apostrophe, which the spreadsheet shows as text. Cells made only of digits,
spaces and number punctuation ("-12.5", "+1 555 0100", "(555) 201-3344") cannot call anything,
so they stay readable as they are. The workbook output needs none of this: every cell there is
a string cell, never a formula.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ade.worker.engine.cells import Cell

TRIGGERS = frozenset("=+-@\t\r\0")
"""First characters that make a spreadsheet read a cell as a formula (or hide one)."""

_INERT = re.compile(r"[\d\s+\-().,/]*\Z")
"""Digits, spaces and number or phone punctuation: a number, never a call."""

_MAY_START_FORMULA = re.compile(r"\n[=+\-@\t\r\x00]")
"""A trigger after a newline: in a row's text cells joined by newlines (see defusing)."""

BYTE_ORDER_MARK = "\ufeff"
"""Excel reads a CSV as UTF-8 only when it starts with this; otherwise "José" shows "JosÃ©"."""


def defuse(value: str) -> str:
    """The text a spreadsheet shows as written: a leading "'" where it would run a formula."""
    if value[:1] in TRIGGERS and value and not _INERT.match(value):
        return "'" + value
    return value


def defuse_row(row: list[Cell]) -> list[Cell]:
    """`row` itself when no cell needs defusing (the common case: no copy), else a copy."""
    for cell in row:
        if isinstance(cell, str) and cell[:1] in TRIGGERS and cell and not _INERT.match(cell):
            return [defuse(value) if isinstance(value, str) else value for value in row]
    return row


def defusing(writerow: Callable[[list[Cell]], int]) -> Callable[[list[Cell]], int]:
    """`writerow` (a csv writer's) that writes formula cells defused: one call a row.

    Runs once a row of every table, so the common case is made of C calls: the row's non-empty
    cells joined, each after a newline, and one regex search for a trigger after a newline. A
    hit (a formula, a negative number, a cell holding a newline before a trigger) or a cell
    that is no text (a number kept from a workbook, which join refuses) takes the exact test.
    """
    search = _MAY_START_FORMULA.search
    join = "\n".join

    def write(row: list[Cell]) -> int:
        suspect: object
        try:
            suspect = search("\n" + join(filter(None, row)))  # type: ignore[arg-type]
        except TypeError:
            suspect = True
        return writerow(defuse_row(row) if suspect else row)

    return write
