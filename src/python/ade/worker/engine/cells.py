"""Cell values as the readers hand them over, and the few predicates every stage shares."""

from __future__ import annotations

import datetime as dt

Cell = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None
Row = list[Cell]


def is_empty(value: Cell) -> bool:
    """None, "" and whitespace-only strings are empty; 0 and False are values."""
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def is_blank_row(row: Row, start: int = 0, stop: int | None = None) -> bool:
    """True when every cell of row[start:stop] is empty (a missing cell is empty)."""
    for value in row[start:stop]:
        if value is None:
            continue
        if isinstance(value, str) and (not value or value.isspace()):
            continue
        return False
    return True


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> "A", 27 -> "AB")."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_ref(row: int, column: int) -> str:
    """0-based row/column -> "B3"."""
    return f"{column_letter(column)}{row + 1}"
