"""Correcting a run's mapping from its page: what a person chose, as ``header_overrides``.

Each correctable column of the run page's mapping table has a ``<select>`` named
``map-<table>-<column letter>``: a field of the run's configuration, or "" for "not mapped".
Only the choices are posted; the headers and the current fields are read again from the run's
stored summary, so a form cannot correct a column the run does not have.

A change becomes ``header_overrides[header] = field`` (or ``null``: this header never maps) in a
new configuration. The engine matches overrides on ``header_words`` of the header it shows in
the summary (the combined text of a two-row header, or its lower row: ``Mapper._override``), so
the summary's header, stored as is, is the key the next file with the same header matches. An
existing override whose header reads the same is replaced, never doubled (the configuration
would be refused: two headers that normalize alike).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ade.db.configuration_spec import header_words

UNCORRECTABLE_REASONS = frozenset({"blank_header", "overflow_column", "hidden_column"})
"""Columns an override cannot reach: the engine decides these before it reads overrides (a
blank or placeholder header, cells past a CSV header, a hidden column the configuration
skips), so a choice there could not be remembered."""

NOT_MAPPED = ""
CORRECTED_MARK = " (corrected "
MAX_NAME = 200


class CorrectionError(ValueError):
    """A choice that cannot be saved; the message is for the person who made it."""


def control_name(table: int, column: str) -> str:
    return f"map-{table}-{column}"


def correctable(entry: Mapping[str, Any]) -> bool:
    """Can an override change this mapping entry's decision?"""
    header = entry.get("header")
    return (
        isinstance(header, str)
        and bool(header_words(header))
        and str(entry.get("reason") or "") not in UNCORRECTABLE_REASONS
        and bool(entry.get("column"))
    )


@dataclass(frozen=True)
class Change:
    table: int
    column: str
    header: str
    before: str | None
    after: str | None

    @property
    def control(self) -> str:
        return control_name(self.table, self.column)


def proposed_changes(
    summary: Mapping[str, Any], fields: list[str], choices: Callable[[str], str | None]
) -> list[Change]:
    """The columns whose chosen field differs from the run's; CorrectionError for a field the
    configuration lacks, or one header given two different fields."""
    known = set(fields)
    changes: list[Change] = []
    for table in summary.get("tables") or []:
        number = int(table.get("number") or 0)
        for entry in table.get("mapping") or []:
            if not isinstance(entry, dict) or not correctable(entry):
                continue
            column = str(entry["column"])
            chosen = choices(control_name(number, column))
            if chosen is None:
                continue  # not posted: unchanged
            after = chosen or None
            if after is not None and after not in known:
                raise CorrectionError(f"“{after}” is not a field of this configuration.")
            before = str(entry["field"]) if entry.get("field") else None
            if after != before:
                changes.append(Change(number, column, str(entry["header"]), before, after))
    _check_agreement(changes)
    return changes


def _check_agreement(changes: list[Change]) -> None:
    seen: dict[tuple[str, ...], Change] = {}
    for change in changes:
        first = seen.setdefault(header_words(change.header), change)
        if first.after != change.after:
            raise CorrectionError(
                f"Columns {first.column} and {change.column} have the same header "
                f"(“{first.header}”, “{change.header}”) but were given different fields; "
                "ADE remembers a choice per header. Choose one."
            )


def corrected_overrides(
    overrides: Mapping[str, str | None], changes: list[Change]
) -> dict[str, str | None]:
    """``overrides`` with each changed header set to its new field (``None``: never maps)."""
    replaced = {header_words(change.header) for change in changes}
    kept = {key: value for key, value in overrides.items() if header_words(key) not in replaced}
    for change in changes:
        kept[change.header] = change.after
    return kept


def corrected_spec(spec: Mapping[str, Any], changes: list[Change]) -> dict[str, Any]:
    """A copy of the configuration's JSON with the corrections in ``header_overrides``."""
    copy = dict(spec)
    copy["header_overrides"] = corrected_overrides(
        dict(spec.get("header_overrides") or {}), changes
    )
    return copy


def corrected_name(name: str, now: datetime) -> str:
    """ "Staff (corrected 2026-12-03 10:51)": a second correction replaces the mark, so names
    do not grow with every correction."""
    base = name.split(CORRECTED_MARK)[0].rstrip() or "Configuration"
    mark = f"{CORRECTED_MARK}{now:%Y-%m-%d %H:%M})"
    return base[: MAX_NAME - len(mark)] + mark
