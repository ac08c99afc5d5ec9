"""`ade extract FILE --explain`: summary.json's candidates per column, as plain text.

Per table, one line per column (letter, header, the field it feeds or "-", why), then its
candidate fields indented below it: the header score, the share of sampled values that fit the
field's type, and "chosen" or why the field lost. Long reasons wrap to the terminal's width
(80 columns when the output is piped), so the lines stay readable in a log too. It reads only
the summary's dicts: no engine import, so `ade extract` without --explain pays nothing for it.
"""

from __future__ import annotations

import shutil
import textwrap
from typing import Any

_FIELD_WIDTH = 16
_MIN_WIDTH = 60


def explain_lines(summary: dict[str, Any], width: int | None = None) -> list[str]:
    """The --explain report of one run's summary, wrapped to `width` (default: the terminal's)."""
    width = max(_MIN_WIDTH, width or shutil.get_terminal_size((80, 24)).columns)
    lines: list[str] = []
    for table in summary.get("tables") or []:
        lines.append(
            f"table {table.get('number')}: sheet {table.get('sheet')!r} {table.get('range', '')}"
            " - candidates per column"
        )
        for entry in table.get("mapping") or []:
            lines.extend(_column_lines(entry, width))
    if not lines:
        lines.append("no tables: nothing to explain")
    return lines


def _column_lines(entry: dict[str, Any], width: int) -> list[str]:
    field = entry.get("field") or "-"
    head = f"  {entry.get('column', '?'):<3} {str(entry.get('header', ''))!r} -> {field}"
    lines = [head]
    candidates = entry.get("candidates") or []
    if not candidates:  # else the first candidate's "lost:" is the column's own reason
        lines += _wrap(
            f"no candidate ({entry.get('reason', '')}): {entry.get('detail', '')}", 6, width
        )
    for candidate in candidates:
        values = candidate.get("values")
        shown = "no values" if values is None else f"{values:.0%} of {candidate.get('sample')}"
        why = candidate.get("why", "")
        verdict = "chosen" if why == "chosen" else f"lost: {why}"
        text = (
            f"{candidate.get('field')!s:<{_FIELD_WIDTH}} header {candidate.get('header', 0):.2f}"
            f"  values {shown:<11} {verdict}"
        )
        lines += _wrap(text, 6, width, hang=6 + _FIELD_WIDTH + 1)
    return lines


def _wrap(text: str, indent: int, width: int, hang: int | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=" " * indent,
        subsequent_indent=" " * (hang if hang is not None else indent + 2),
        break_on_hyphens=False,
    ) or [" " * indent]
