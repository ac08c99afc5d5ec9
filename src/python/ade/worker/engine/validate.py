"""Turn a table's source cells into output rows, recording every problem as an issue.

One RowProcessor per table is compiled from the mapping: for each configured field, the source
cell index and normalizer (memoized per column, since exports repeat their values). Rows go
through a single list comprehension; only a row where some normalizer raised takes the slow
path that finds the culprit. An invalid value keeps its raw text in the output (nothing is
lost) and yields an issue. Unmapped source columns the configuration keeps follow the fields,
values as written. Required fields are checked after name derivation, so a required first name
is satisfied by splitting a full name. A required field with no column at all is one
table-level issue, not one per row. A CSV row with more fields than the header is one issue of
its own (field "(row)", code ``ragged_row``), its row still written.

Name derivation fills empty parts from a full name (the courtesy title and suffix too, even when
first and last have columns of their own) and an empty full name from the parts, never with the
title (see NameDerivation). A date field's value whose source held a time other than midnight
is no issue: the date is right; the table summary counts them per field ("times_dropped").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Literal

from ade.db.configuration_spec import ConfigurationSpec, NameDerivation
from ade.worker.engine.cells import Cell, Row, column_letter
from ade.worker.engine.mapping import TableMapping
from ade.worker.engine.normalize import (
    DateWithoutTime,
    InvalidValue,
    Memo,
    NameParts,
    family_of,
    join_full_name,
    keep_value,
    may_hold_title,
    normalize_text,
    normalizer_for,
    split_full_name,
)
from ade.worker.engine.table_model import RaggedRow, TableInfo

IssueCode = Literal[
    "invalid_value",
    "required_missing",
    "required_column_missing",
    "ragged_row",
    "cut_in_workbook",
]
_VALUE_LIMIT = 1000
ROW_FIELD = "(row)"
"""The `field` of an issue about a whole row's structure, not one field's value."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem, located: row is the 1-based sheet row (None for a table-level issue)."""

    table: int
    sheet: str
    row: int | None
    column: str | None
    field: str
    value: str
    code: IssueCode
    message: str

    def as_row(self) -> list[Cell]:
        return [
            self.table,
            self.sheet,
            self.row,
            self.column,
            self.field,
            self.value,
            self.code,
            self.message,
        ]


ISSUE_COLUMNS = ["table", "sheet", "row", "column", "field", "value", "code", "message"]


EXAMPLES_PER_FIELD = 3


@dataclass
class IssueTally:
    """Issue counts by field and code, and each field's first few issues (what the run page
    shows a person before they open the workbook's issues sheet)."""

    by_field: dict[str, dict[str, int]] = field(default_factory=dict)
    examples: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    total: int = 0

    def add(self, issue: Issue) -> None:
        codes = self.by_field.setdefault(issue.field, {})
        codes[issue.code] = codes.get(issue.code, 0) + 1
        self.total += 1
        first = self.examples.setdefault(issue.field, [])
        if len(first) < EXAMPLES_PER_FIELD:
            first.append(dict(zip(ISSUE_COLUMNS, issue.as_row(), strict=True)))


def _spreader(fields: int, planned: list[int]) -> Callable[[list[Cell]], tuple[Cell, ...]] | None:
    """What picks a row of every field from the mapped fields' values (in plan order) with a
    None appended, the unmapped fields taking that None; None when every field is mapped. An
    itemgetter: the unmapped fields cost no Python call a row."""
    if len(planned) == fields:
        return None
    if fields == 1:
        return lambda values: (None,)  # an itemgetter of one index returns no tuple
    where = {index: at for at, index in enumerate(planned)}
    return itemgetter(*(where.get(index, len(planned)) for index in range(fields)))


def _shown(value: Cell) -> str:
    text = "" if value is None else str(value)
    return text[:_VALUE_LIMIT]


class RowProcessor:
    """Normalizes and validates the rows of one table."""

    def __init__(
        self,
        spec: ConfigurationSpec,
        table_number: int,
        table: TableInfo,
        mapping: TableMapping,
        date_orders: dict[str, str],
        on_issue: Callable[[Issue], None],
        phone_countries: dict[str, str] | None = None,
    ) -> None:
        self.table_number = table_number
        self.sheet = table.sheet
        self.on_issue = on_issue
        self.fields = [item.name for item in spec.fields]
        self._index = {name: i for i, name in enumerate(self.fields)}
        # The mapped fields only, in field order: (source cell index, memoized normalizer).
        self.plan: list[tuple[int, Memo]] = []
        self._planned: list[int] = []  # the field index of each plan entry
        self.letters: list[str | None] = []
        # Mapped date fields, whose values may come back as DateWithoutTime: counted per field
        # for the table summary ("times_dropped"), not reported per cell.
        self._dates: list[int] = []
        self._dropped: dict[int, int] = {}
        for index, item in enumerate(spec.fields):
            position = mapping.positions.get(item.name)
            if position is None:
                self.letters.append(None)
                continue
            if item.type == "date":
                self._dates.append(index)
                self._dropped[index] = 0
            normalizer = normalizer_for(
                item.type,
                date_order=date_orders.get(item.name, spec.date_order),
                phone_country_code=(phone_countries or {}).get(
                    item.name, spec.default_phone_country_code
                ),
            )
            self.plan.append((position, Memo(normalizer)))
            self._planned.append(index)
            self.letters.append(column_letter(table.first_col + position))
        self._source = dict(
            zip(self._planned, (position for position, _ in self.plan), strict=True)
        )
        self._spread = _spreader(len(self.fields), self._planned)
        self.rules: list[_NameRule] = []
        derivable: set[str] = set()
        for rule in spec.derive_names:
            self.rules.append(_NameRule.of(rule, self._index))
            if rule.full_name in mapping.positions and rule.direction != "join":
                derivable.update(name for _, name in rule.referenced()[1:])
            parts_mapped = {rule.first_name, rule.last_name} & set(mapping.positions)
            if parts_mapped and rule.direction != "split":
                derivable.add(rule.full_name)
        # Unmapped source columns written after the fields, values as written.
        self.kept = [offset for offset, _ in mapping.kept]
        self.required: list[int] = []
        self.missing_required: list[str] = []
        for item in spec.fields:
            if not item.required:
                continue
            if item.name in mapping.positions or item.name in derivable:
                self.required.append(self._index[item.name])
            else:
                self.missing_required.append(item.name)

    @property
    def date_columns(self) -> list[int]:
        """The output columns of the mapped date fields (ISO dates, or invalid text)."""
        return list(self._dates)

    @property
    def times_dropped(self) -> dict[str, int]:
        """Per date field, the values whose time of day (not midnight) was dropped."""
        return {self.fields[index]: n for index, n in self._dropped.items() if n}

    def table_issues(self) -> list[Issue]:
        """Issues about the table as a whole (required fields with no column)."""
        return [
            Issue(
                self.table_number,
                self.sheet,
                None,
                None,
                name,
                "",
                "required_column_missing",
                f"required field {name!r} has no matching column in this table",
            )
            for name in self.missing_required
        ]

    def ragged_issue(self, row_index: int, ragged: RaggedRow) -> Issue:
        """A row with more fields than the header: where the overflow starts, and its values
        (so they are in the outputs even when they lie past the table's columns)."""
        message = (
            f"this row has {ragged.fields} fields where the header has {ragged.expected}: a "
            "value holding the delimiter unquoted (a comma in an address) shifts the cells "
            "after it right; the row is written as read, check it in the source"
        )
        overflow = " | ".join(_shown(v) for v in ragged.overflow)
        return Issue(
            self.table_number,
            self.sheet,
            row_index + 1,
            column_letter(ragged.expected),
            ROW_FIELD,
            overflow[:_VALUE_LIMIT],
            "ragged_row",
            message,
        )

    def process(self, row_index: int, cells: Row) -> list[Cell]:
        """The output row for one source row (0-based sheet index), reporting issues."""
        try:
            out = [memo[cells[position]] for position, memo in self.plan]
        except InvalidValue:
            out = self._slow(row_index, cells)
        if self._spread is not None:
            out.append(None)  # what the unmapped fields take
            out = list(self._spread(out))
        for index in self._dates:
            value = out[index]
            if value.__class__ is DateWithoutTime:
                self._dropped[index] += 1
                out[index] = str(value)  # the writers (and their pickles) get a plain str
        if self.rules:
            self._derive(out, cells)
        for index in self.required:
            if out[index] is None:
                self._report(
                    row_index,
                    index,
                    "",
                    "required_missing",
                    f"required field {self.fields[index]!r} is empty",
                )
        if self.kept:
            out.extend([keep_value(cells[position]) for position in self.kept])
        return out

    def _report(
        self, row_index: int, index: int, value: str, code: IssueCode, message: str
    ) -> None:
        """One issue at (row, mapped column ``index``) of this table."""
        self.on_issue(
            Issue(
                self.table_number,
                self.sheet,
                row_index + 1,
                self.letters[index],
                self.fields[index],
                value,
                code,
                message,
            )
        )

    def _slow(self, row_index: int, cells: Row) -> list[Cell]:
        out: list[Cell] = []
        for index, (position, memo) in zip(self._planned, self.plan, strict=True):
            raw = cells[position]
            try:
                out.append(memo[raw])
            except InvalidValue as exc:
                out.append(normalize_text(raw))
                self._report(row_index, index, _shown(raw), "invalid_value", str(exc))
        return out

    def _derive(self, out: list[Cell], cells: Row) -> None:
        for rule in self.rules:
            whole = out[rule.full]
            if isinstance(whole, str) and rule.direction != "join":
                if out[rule.first] is None or out[rule.last] is None:
                    # The source cell, for where a "Family Name, Given" family name ends.
                    family = family_of(cells[self._source[rule.full]])
                    _fill(out, rule.parts, split_full_name(whole, family))
                elif rule.titles and may_hold_title(whole):
                    # First and last have their own columns: only the title and suffix, which
                    # those columns cannot hold, come from the full name.
                    _fill(out, rule.titles, split_full_name(whole))
            elif whole is None and rule.direction != "split":
                parts = [out[i] if i is not None else None for i in rule.joined]
                out[rule.full] = join_full_name(*(p if isinstance(p, str) else None for p in parts))


@dataclass(frozen=True, slots=True)
class _NameRule:
    """A derive_names rule as output column indices."""

    direction: str
    full: int
    first: int
    last: int
    parts: tuple[tuple[int, int], ...]
    """(index in NameParts, output column) of every role the rule has a field for."""
    titles: tuple[tuple[int, int], ...]
    """The same for the prefix and suffix only (empty when the rule has neither)."""
    joined: tuple[int | None, ...]
    """The parts a joined full name is made of: no prefix (see NameDerivation)."""

    @classmethod
    def of(cls, rule: NameDerivation, index: dict[str, int]) -> _NameRule:
        def at(name: str | None) -> int | None:
            return index[name] if name else None

        first, last = index[rule.first_name], index[rule.last_name]
        middle, prefix, suffix = at(rule.middle_name), at(rule.name_prefix), at(rule.name_suffix)
        slots = (prefix, first, middle, last, suffix)  # NameParts order
        parts = tuple((i, slot) for i, slot in enumerate(slots) if slot is not None)
        titles = tuple((i, slot) for i, slot in parts if i in (0, 4))
        return cls(
            rule.direction,
            index[rule.full_name],
            first,
            last,
            parts,
            titles,
            (first, middle, last, suffix),
        )


def _fill(out: list[Cell], slots: tuple[tuple[int, int], ...], parts: NameParts) -> None:
    """Put each part into its output column where that column is still empty."""
    for item, slot in slots:
        if out[slot] is None:
            out[slot] = parts[item]
