"""Map a table's source columns to the configuration's fields, with a reason for every column.

A column is mapped on two kinds of evidence: its header (scored by
:mod:`ade.worker.engine.header_match`) and its values (a sample of the column's first non-empty
cells, checked against the field type's profile in :mod:`ade.worker.engine.value_profiles`).
Precision comes first: a wrong mapping silently corrupts data a person then trusts, a missed one
only leaves a column unmapped, and unmapped columns are kept in the outputs. So, per column:

1. a blank or placeholder header ("Column 7") has no header evidence;
2. a hidden column is skipped if the configuration excludes hidden columns;
3. ``header_overrides`` decide before any scoring: a field (``configured``) or never
   (``excluded``);
4. the header's best field must reach ``match_threshold`` and not be blocked: a header about
   another party (``other_party``) or qualified by a word the engine cannot interpret
   (``unknown_header``, the word named);
5. the values must not contradict the field's type: with enough sampled values, at least
   ``value_match_threshold`` of them must fit (else ``values_mismatch``, with the share);
6. a header that names a plain-text field but whose values are courtesy titles (Outlook's and
   Salesforce's "Title": Mr., Ms., Dr.) feeds the configuration's name_prefix field instead:
   text values cannot contradict a header, titles can (>= 90% of at least 5 values).

Then conflicts: a configured column beats a scored one, then the best score, then the leftmost
column; the loser is a ``duplicate``. A full name whose values disagree with the table's own
first- and last-name columns is dropped (``name_parts_disagree``): one of them is not this
person's name, and the parts have the better headers. Last, a field still unmapped may take a
column with no usable header whose values leave no doubt (``mapped_by_values``: e-mail or phone
values, one unmapped field of that type, >= 90% of at least 5 values).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from ade.db.configuration_spec import ConfigurationSpec, header_key, header_words
from ade.worker.engine.cells import Cell, column_letter
from ade.worker.engine.header_match import HeaderMatch, HeaderScorer
from ade.worker.engine.table_model import TableInfo
from ade.worker.engine.value_profiles import (
    DISTINCTIVE_TYPES,
    ValueEvidence,
    column_samples,
    evidence,
    is_organisation,
)

Reason = Literal[
    "mapped",
    "configured",
    "mapped_by_values",
    "unknown_header",
    "other_party",
    "values_mismatch",
    "duplicate",
    "name_parts_disagree",
    "excluded",
    "blank_header",
    "hidden_column",
]

BY_VALUES_SHARE = 0.9
NAME_PARTS_AGREEMENT = 0.5
ORGANISATION_SHARE = 0.5
PERSON_SHARE = 0.8
# Fields that say how to reach or name a person: in a table of organisations they are taken only
# from columns that say they are the contact person's ("Contact Email").
_CONTACT_TYPES = frozenset({"name", "full_name", "email", "phone"})

_PLACEHOLDER = re.compile(
    r"^(unnamed( \d+)?( level \d+)?|column ?\d*|col ?\d+|field ?\d+|f\d+|none|null|nan|n ?a|x)$"
)


def is_placeholder(header: str) -> bool:
    """Blank, punctuation-only, or a tool's filler name ("Unnamed: 3", "Column1", "-")."""
    key = header_key(header)
    return not key or bool(_PLACEHOLDER.match(key))


@dataclass(frozen=True)
class ColumnMapping:
    """The decision for one source column, and why."""

    column: int
    letter: str
    header: str
    field: str | None
    score: float
    reason: Reason
    detail: str
    hidden: bool = False
    best_candidate: str | None = None
    duplicate_of: str | None = None
    evidence: ValueEvidence | None = None
    output_header: str | None = None
    """The header this column is written under when kept as an unmapped column."""

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "column": self.letter,
            "header": self.header,
            "field": self.field,
            "score": round(self.score, 3),
            "reason": self.reason,
            "detail": self.detail,
        }
        if self.evidence is not None:
            data["evidence"] = self.evidence.as_dict()
        if self.hidden:
            data["hidden"] = True
        if self.best_candidate and self.field is None:
            data["best_candidate"] = self.best_candidate
        if self.duplicate_of:
            data["duplicate_of"] = self.duplicate_of
        if self.output_header is not None:
            data["kept_as"] = self.output_header
        return data


@dataclass
class TableMapping:
    columns: list[ColumnMapping]
    # field name -> index of its column within the table's cells
    positions: dict[str, int] = field(default_factory=dict)
    # unmapped columns written after the fields: (index within the table's cells, output header)
    kept: list[tuple[int, str]] = field(default_factory=list)

    def mapped(self) -> list[ColumnMapping]:
        return [c for c in self.columns if c.field is not None]


@dataclass
class _Candidate:
    offset: int
    field: str
    score: float
    configured: bool


class Mapper:
    """Decides the mappings of every table of one run (one configuration)."""

    def __init__(self, spec: ConfigurationSpec) -> None:
        self.spec = spec
        self.scorer = HeaderScorer(spec)
        self._types = {item.name: item.type for item in spec.fields}
        self._prefixes = [item.name for item in spec.fields if item.type == "name_prefix"]
        self._labels = [item.display_label for item in spec.fields]
        self._overrides = {header_words(k): v for k, v in spec.header_overrides.items()}

    def is_known(self, header: str) -> bool:
        """Does this text name some field well enough to be mapped? (Table detection asks.)"""
        match = self.scorer.match(header)
        return match.usable and match.score >= self.spec.match_threshold

    def score_parts(self, parts: list[str]) -> HeaderMatch:
        """Best match for a (possibly two-row) header; the lower row alone counts at 95%."""
        combined = " ".join(p for p in parts if p)
        best = self.scorer.match(combined)
        if len(parts) > 1 and parts[-1] and parts[-1] != combined:
            lower = self.scorer.match(parts[-1])
            if lower.usable and (not best.usable or lower.score * 0.95 > best.score):
                best = replace(lower, score=lower.score * 0.95)
        return best

    def _override(self, parts: list[str]) -> tuple[bool, str | None]:
        combined = " ".join(p for p in parts if p)
        for text in (combined, parts[-1]):
            words = header_words(text)
            if words in self._overrides:
                return True, self._overrides[words]
        return False, None

    # -- one table -----------------------------------------------------------------------------

    def map_table(self, table: TableInfo, sample_rows: Sequence[Sequence[Cell]]) -> TableMapping:
        """Decide, for every column of the table, which field it feeds, or why none."""
        samples = column_samples(sample_rows, table.width)
        decided: dict[int, ColumnMapping] = {}
        candidates: list[_Candidate] = []
        for offset, (text, parts) in enumerate(zip(table.headers, table.header_parts, strict=True)):
            decision = self._decide(table, offset, text, parts, samples[offset], candidates)
            if decision is not None:
                decided[offset] = decision
        self._organisation_rows(table, samples, candidates, decided)
        positions = self._resolve(table, candidates, samples, decided)
        self._check_name_parts(table, sample_rows, positions, decided)
        if self.spec.map_by_values:
            self._map_by_values(table, samples, positions, decided)
        columns = [decided[offset] for offset in range(table.width)]
        kept = self._kept(columns) if self.spec.keep_unmapped_columns else []
        for offset, header in kept:
            columns[offset] = replace(columns[offset], output_header=header)
        return TableMapping(columns=columns, positions=positions, kept=kept)

    def _column(self, table: TableInfo, offset: int, text: str) -> tuple[int, str, bool]:
        column = table.first_col + offset
        return column, column_letter(column), column in table.hidden_columns

    def _decide(
        self,
        table: TableInfo,
        offset: int,
        text: str,
        parts: list[str],
        values: list[Cell],
        candidates: list[_Candidate],
    ) -> ColumnMapping | None:
        """A final decision for the column, or None after adding it to `candidates`."""
        column, letter, hidden = self._column(table, offset, text)
        spec = self.spec

        def unmapped(reason: Reason, detail: str) -> ColumnMapping:
            return ColumnMapping(column, letter, text, None, 0.0, reason, detail, hidden)

        if is_placeholder(text):
            return unmapped("blank_header", "no header text")
        if hidden and not spec.include_hidden_columns:
            return unmapped("hidden_column", "hidden, and include_hidden_columns is false")
        overridden, target = self._override(parts)
        if overridden and target is None:
            return unmapped("excluded", "header_overrides says this header never maps")
        if overridden and target is not None:
            candidates.append(_Candidate(offset, target, 1.0, configured=True))
            return None
        match = self.score_parts(parts)
        name, score = match.field, match.score
        if name is None or score < spec.match_threshold:
            detail = "no field's name, label or alias matches this header"
            if name is not None:
                detail = f"closest is {name} ({score:.2f}), below match_threshold"
            return ColumnMapping(
                column, letter, text, None, score, "unknown_header", detail, hidden, name
            )
        if match.block == "other_party":
            detail = (
                f"{match.word!r} makes this another party's {self._types[name]}, not the "
                f"row's person; map it with header_overrides if it is"
            )
            return ColumnMapping(
                column, letter, text, None, score, "other_party", detail, hidden, name
            )
        if match.block == "modifier":
            detail = (
                f"{match.word!r} changes what {match.spelling!r} means here; map it with "
                f"header_overrides if it is {name}"
            )
            return ColumnMapping(
                column, letter, text, None, score, "unknown_header", detail, hidden, name
            )
        found = evidence(values, self._types[name])
        if found.conclusive and found.share < spec.value_match_threshold:
            detail = (
                f"the header suggests {name}, but only {found.matched} of {found.sample} "
                f"sampled values look like {found.type} values"
            )
            return ColumnMapping(
                column, letter, text, None, score, "values_mismatch", detail, hidden, name,
                evidence=found,
            )  # fmt: skip
        candidates.append(_Candidate(offset, self._titles_field(name, values), score, False))
        return None

    def _titles_field(self, name: str, values: list[Cell]) -> str:
        """`name`, or the configuration's one name_prefix field when `name` is a text field and
        the column's values are courtesy titles ("Title": a job title or "Mr."?)."""
        if self._types[name] != "text" or len(self._prefixes) != 1:
            return name
        found = evidence(values, "name_prefix")
        return self._prefixes[0] if found.conclusive and found.share >= BY_VALUES_SHARE else name

    def _organisation_rows(
        self,
        table: TableInfo,
        samples: list[list[Cell]],
        candidates: list[_Candidate],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """In a table whose rows are organisations (its first column of names holds company
        names: a vendor master, a customer list), an unqualified "Email" or "Phone" is the
        organisation's. Only columns that say they are the contact person's may feed a
        people-configuration's name, e-mail and phone fields."""
        if not any(t in ("name", "full_name") for t in self._types.values()):
            return  # the configuration is not about people
        people = {c.offset for c in candidates if self._types[c.field] in ("name", "full_name")}
        subject = _first_name_column(samples, people)
        if subject is None or subject in people or not _is_organisations(samples[subject]):
            return
        letter = column_letter(table.first_col + subject)
        for candidate in list(candidates):
            if candidate.configured or self._types[candidate.field] not in _CONTACT_TYPES:
                continue
            words = set(header_words(table.headers[candidate.offset]))
            if words & {"contact", "person"}:
                continue
            candidates.remove(candidate)
            column, col_letter, hidden = self._column(table, candidate.offset, "")
            detail = (
                f"the rows are organisations (column {letter} holds their names), so this is "
                f"the organisation's {self._types[candidate.field]}, not a person's; map it with "
                f"header_overrides if it is the contact person's"
            )
            decided[candidate.offset] = ColumnMapping(
                column, col_letter, table.headers[candidate.offset], None, candidate.score,
                "other_party", detail, hidden, candidate.field,
                evidence=evidence(samples[candidate.offset], self._types[candidate.field]),
            )  # fmt: skip

    def _resolve(
        self,
        table: TableInfo,
        candidates: list[_Candidate],
        samples: list[list[Cell]],
        decided: dict[int, ColumnMapping],
    ) -> dict[str, int]:
        """Give each field to its best column; the others become duplicates."""
        order = sorted(candidates, key=lambda c: (not c.configured, -c.score, c.offset))
        winners: dict[str, int] = {}
        for candidate in order:
            winners.setdefault(candidate.field, candidate.offset)
        for candidate in candidates:
            offset, name = candidate.offset, candidate.field
            column, letter, hidden = self._column(table, offset, table.headers[offset])
            found = evidence(samples[offset], self._types[name])
            if winners[name] == offset:
                reason: Reason = "configured" if candidate.configured else "mapped"
                detail = self._mapped_detail(table.header_parts[offset], name, found, reason)
                decided[offset] = ColumnMapping(
                    column, letter, table.headers[offset], name, candidate.score, reason,
                    detail, hidden, evidence=found,
                )  # fmt: skip
            else:
                winner = column_letter(table.first_col + winners[name])
                detail = f"{name} is mapped from column {winner}, which matches better"
                decided[offset] = ColumnMapping(
                    column, letter, table.headers[offset], None, candidate.score, "duplicate",
                    detail, hidden, name, winner, found,
                )  # fmt: skip
        return dict(winners)

    def _mapped_detail(
        self, parts: list[str], name: str, found: ValueEvidence, reason: Reason
    ) -> str:
        if reason == "configured":
            head = f"header_overrides maps this header to {name}"
        else:
            match = self.score_parts(parts)
            head = f"header matches {match.spelling!r}"
            if match.typos:
                head += f" (read as a typo: {', '.join(match.typos)})"
        if not found.sample:
            return f"{head}; no values sampled"
        return f"{head}; {found.matched} of {found.sample} sampled values fit {found.type}"

    def _check_name_parts(
        self,
        table: TableInfo,
        rows: Sequence[Sequence[Cell]],
        positions: dict[str, int],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """Unmap a full name that contradicts the same table's first and last names."""
        for rule in self.spec.derive_names:
            wanted = (rule.full_name, rule.first_name, rule.last_name)
            if not all(name in positions for name in wanted):
                continue
            full, first, last = (positions[name] for name in wanted)
            compared = agreeing = 0
            for row in rows:
                whole, given, family = (_words(row[i]) for i in (full, first, last))
                if whole and given and family:
                    compared += 1
                    agreeing += given <= whole and family <= whole
            if compared < 5 or agreeing / compared >= NAME_PARTS_AGREEMENT:
                continue
            current = decided[full]
            detail = (
                f"the full name matches the first and last name columns in only {agreeing} "
                f"of {compared} sampled rows"
            )
            decided[full] = replace(
                current,
                field=None,
                reason="name_parts_disagree",
                detail=detail,
                best_candidate=rule.full_name,
            )
            del positions[rule.full_name]

    def _map_by_values(
        self,
        table: TableInfo,
        samples: list[list[Cell]],
        positions: dict[str, int],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """Give a still-unmapped field a headerless column whose values leave no doubt."""
        for field_type in DISTINCTIVE_TYPES:
            free = [
                item.name
                for item in self.spec.fields
                if item.type == field_type and item.name not in positions
            ]
            if len(free) != 1:
                continue  # none to fill, or no way to tell which of several is meant
            best: tuple[float, int, ValueEvidence] | None = None
            for offset, mapping in decided.items():
                if mapping.reason != "blank_header":
                    continue
                found = evidence(samples[offset], field_type)
                unmistakable = found.conclusive and found.share >= BY_VALUES_SHARE
                if unmistakable and (best is None or found.share > best[0]):
                    best = (found.share, offset, found)
            if best is None:
                continue
            _, offset, found = best
            name = free[0]
            detail = (
                f"no header, but {found.matched} of {found.sample} sampled values are "
                f"{field_type} values and {name} had no column"
            )
            decided[offset] = replace(
                decided[offset],
                field=name,
                score=0.0,
                reason="mapped_by_values",
                detail=detail,
                evidence=found,
            )
            positions[name] = offset

    def _kept(self, columns: list[ColumnMapping]) -> list[tuple[int, str]]:
        """Unmapped columns to keep, with output headers unique among all output columns."""
        taken = {label.casefold() for label in self._labels}
        kept: list[tuple[int, str]] = []
        for offset, mapping in enumerate(columns):
            if mapping.field is not None or mapping.reason == "hidden_column":
                continue
            base = mapping.header if not is_placeholder(mapping.header) else ""
            base = base or f"Column {mapping.letter}"
            header, number = base, 2
            while header.casefold() in taken:
                header, number = f"{base} ({number})", number + 1
            taken.add(header.casefold())
            kept.append((offset, header))
        return kept


def _first_name_column(samples: list[list[Cell]], people: set[int]) -> int | None:
    """The leftmost column naming what a row is about: a person (a column already taken for a
    person's name, or full of full names) or an organisation (full of company names)."""
    for offset, values in enumerate(samples):
        if offset in people:
            return offset
        if _is_organisations(values) or (
            len(values) >= 5 and evidence(values, "full_name").share >= PERSON_SHARE
        ):
            return offset
    return None


def _is_organisations(values: list[Cell]) -> bool:
    if len(values) < 5:
        return False
    return sum(1 for v in values if is_organisation(v)) / len(values) >= ORGANISATION_SHARE


def _words(value: Cell) -> set[str]:
    if not isinstance(value, str):
        return set()
    plain = unicodedata.normalize("NFKD", value)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    return set(re.findall(r"[^\W\d_]+", plain))
