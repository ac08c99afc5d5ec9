"""Map a table's source columns to the configuration's fields, with a reason for every column.

A column is mapped on two kinds of evidence: its header (scored by
:mod:`ade.worker.engine.header_match`) and its values (a sample of the column's first non-empty
cells, checked against the field type's profile in :mod:`ade.worker.engine.value_profiles`).
Precision comes first: a wrong mapping silently corrupts data a person then trusts, a missed one
only leaves a column unmapped, and unmapped columns are kept in the outputs. So, per column:

1. a blank or placeholder header ("Column 7") has no header evidence; a CSV column past the
   header's fields (``overflow_column``: cells shifted there by rows with an unquoted
   delimiter) is never mapped;
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
person's name, and the parts have the better headers. A last-name column of whole names
written family name first in capitals ("Nom": "DUPONT Jean"), in a table without a first-name
column, is the full name. Last, a field still unmapped may take a
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
from ade.worker.engine.header_match import (
    CODE_HEADS,
    EXACT_ALIAS_SCORE,
    ID_SUBJECT_WORDS,
    ORGANISATION_WORDS,
    SUBJECT_WORDS,
    HeaderMatch,
    HeaderScorer,
    is_identifier_field,
)
from ade.worker.engine.normalize import surname_first
from ade.worker.engine.table_model import TableInfo
from ade.worker.engine.value_profiles import (
    DISTINCTIVE_TYPES,
    MIN_EVIDENCE,
    ValueEvidence,
    column_samples,
    evidence,
    is_academic_title,
    is_bare_phone_digits,
    is_code,
    is_label,
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
    "overflow_column",
]

BY_VALUES_SHARE = 0.9
NAME_PARTS_AGREEMENT = 0.5
ORGANISATION_SHARE = 0.5
PERSON_SHARE = 0.8
GIVEN_NAME_SHARE = 0.8
CODE_SHARE = 0.8
# Fields that say how to reach or name a person: in a table of organisations they are taken only
# from columns that say they are the contact person's ("Contact Email").
_CONTACT_TYPES = frozenset({"name", "full_name", "email", "phone"})
_PERSONAL_TYPES = frozenset({"name", "email", "phone", "date"})
_CONTACT_WORDS = frozenset({"contact", "person"})
_PLAYER_WORDS = frozenset({"player", "players", "athlete", "athletes"})
_PERSON_ROLES = frozenset(
    """manager managers supervisor supervisors guardian guardians parent parents mother father
    spouse partner mentor coach recruiter referrer doctor physician approver reviewer
    requester requestor submitter witness beneficiary dependent dependant sponsor""".split()
)
"""Party words that name people (not companies): a list of them is a list of people."""
# A department is an organisation's unit, or the region of a country (Uruguay, Colombia, France):
# beside the city, it is the city's.
# In English a Department after the City is still the person's unit ("Office City, Department"
# is a common HR layout); only the Spanish and French words also name a region.
_DEPARTMENT_WORDS = frozenset({"departamento", "departement"})  # accents dropped
_PLACE_WORDS = frozenset(
    {"city", "town", "ciudad", "localidad", "municipio", "municipality", "ville", "commune"}
)
_RECORD_WORDS = frozenset({"record", "row", "line", "entry", "serial", "reference", "ref", "file"})
"""Words of a first-column key that number the rows themselves ("Record ID", "Row No")."""
_COUNTER_WORDS = frozenset({"id", "number", "serial"})
"""A header of only these words ("ID", "Serial No") may just count the export's rows."""
_OBJECT_KEY_WORDS = frozenset({"serial"})
"""Words of a key that numbers objects as often as people (a device's "Serial Number"): the
person's ID only in a table that names its people."""
_ORGANISATION_HEADER = ORGANISATION_WORDS | {"name"}
"""The words of a header naming the organisation a row is about ("Company Name")."""

_PLACEHOLDER = re.compile(
    r"^(unnamed( \d+)?( level \d+)?|column ?\d*|col ?\d+|field ?\d+|f\d+|none|null|nan|n ?a|x)$"
)


def is_placeholder(header: str) -> bool:
    """Blank, punctuation-only, or a tool's filler name ("Unnamed: 3", "Column1", "-")."""
    key = header_key(header)
    return not key or bool(_PLACEHOLDER.match(key))


MAX_CANDIDATES = 3
"""Fields listed per column in summary.json's ``candidates``: the decision and the runners-up."""
CHOSEN = "chosen"


@dataclass(frozen=True)
class FieldCandidate:
    """One field a column could have fed, its evidence, and why it was not taken (or CHOSEN)."""

    field: str
    header: float
    evidence: ValueEvidence
    why: str

    def as_dict(self) -> dict[str, object]:
        sample = self.evidence.sample
        return {
            "field": self.field,
            "header": round(self.header, 3),
            "values": round(self.evidence.share, 3) if sample else None,
            "sample": sample,
            "why": self.why,
        }


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
    candidates: tuple[FieldCandidate, ...] = ()
    """The decision's field first, then the fields the header scored next (see
    :meth:`Mapper.explain`): what `ade extract --explain` and the run page show."""

    def as_dict(self, candidates: bool = True) -> dict[str, object]:
        """summary.json's entry; without `candidates` for the event log's table.found (the
        log says what was decided; summary.json also says what else was weighed)."""
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
        if candidates and self.candidates:
            data["candidates"] = [candidate.as_dict() for candidate in self.candidates]
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
    note: str | None = None
    """What the values show beyond the field type's own evidence, for the column's reason."""


_NAMING_WORDS = frozenset(
    """name title department dept division unit team group section branch office position
    role job occupation rank company employer organization organisation agency""".split()
)
"""Words of a text field's name or label that make its values names of things, not codes."""


class Mapper:
    """Decides the mappings of every table of one run (one configuration)."""

    def __init__(self, spec: ConfigurationSpec) -> None:
        self.spec = spec
        self.scorer = HeaderScorer(spec)
        self._types = {item.name: item.type for item in spec.fields}
        self._prefixes = [item.name for item in spec.fields if item.type == "name_prefix"]
        self._labels = [item.display_label for item in spec.fields]
        self._overrides = {header_words(k): v for k, v in spec.header_overrides.items()}
        self._named = frozenset(
            item.name
            for item in spec.fields
            if item.type == "text"
            and not is_identifier_field(item.name, item.match_names())
            and _NAMING_WORDS.intersection(header_words(item.name), header_words(item.label or ""))
        )
        """Text fields that hold names of things (a department, a job title), never codes. Only
        fields whose own name or label says so: a configuration's "salary" or "notes" text
        field may well hold numbers."""
        self._identifiers = frozenset(
            item.name
            for item in spec.fields
            if item.type == "text" and is_identifier_field(item.name, item.match_names())
        )
        self._identifying = frozenset(
            item.name
            for item in spec.fields
            if item.type in _PERSONAL_TYPES | {"full_name"} or item.name in self._identifiers
        )

    def known_field(self, header: str) -> str | None:
        """The field this text names well enough to be mapped, or None. (Table detection asks:
        to tell a new table's header from data, and two tables side by side from one.) A
        "Description" of a field's thing is not known yet: only its values can tell a label from
        a text of duties."""
        match = self.scorer.match(header)
        usable = match.usable and match.score >= self.spec.match_threshold
        usable = usable and match.described_by is None
        return match.field if usable else None

    def not_records(self, mapping: TableMapping) -> str | None:
        """Why a table holds none of the configuration's records, or None when it does: it
        maps none of the fields only a record has (for people: a name, an e-mail, an ID, a
        phone, a date), so it is a lookup list of departments, a sheet of orders or a chart's
        counts. A configuration without such fields takes every table."""
        if not self._identifying or self._identifying & set(mapping.positions):
            return None
        wanted = ", ".join(sorted(self._identifying))
        return f"it maps none of the fields only a record has ({wanted})"

    def is_known(self, header: str) -> bool:
        """Does this text name some field well enough to be mapped?"""
        return self.known_field(header) is not None

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
        self._party_as_subject(table, samples, candidates, decided)
        self._organisation_rows(table, samples, candidates, decided)
        self._rows_of_another_entity(table, samples, candidates, decided)
        self._players(table, samples, candidates, decided)
        self._object_keys(table, samples, candidates, decided)
        self._regions(table, samples, candidates, decided)
        positions = self._resolve(table, candidates, samples, decided)
        self._surname_first_names(samples, positions, decided)
        self._check_name_parts(table, sample_rows, positions, decided)
        self._given_names(table, samples, sample_rows, positions, decided)
        if self.spec.map_by_values:
            self._map_by_values(table, samples, positions, decided)
        columns = [decided[offset] for offset in range(table.width)]
        kept = self._kept(columns) if self.spec.keep_unmapped_columns else []
        for offset, header in kept:
            columns[offset] = replace(columns[offset], output_header=header)
        for offset, column in enumerate(columns):
            found = self.explain(table, offset, column, samples[offset], positions)
            columns[offset] = replace(column, candidates=found)
        return TableMapping(columns=columns, positions=positions, kept=kept)

    # -- explaining a decision (once per column, after every decision is taken) ---------------

    def explain(
        self,
        table: TableInfo,
        offset: int,
        column: ColumnMapping,
        values: list[Cell],
        positions: dict[str, int],
    ) -> tuple[FieldCandidate, ...]:
        """Up to MAX_CANDIDATES fields this column could have fed: the decision's field (the
        mapped one, or the closest that was refused, with the column's own reason), then the
        fields the header scores next, each with why it lost. Explains, never decides."""
        decision = column.field or column.best_candidate
        found: list[FieldCandidate] = []
        if decision is not None:
            why = CHOSEN if column.field else column.detail
            ev = column.evidence if column.evidence is not None else None
            if ev is None or ev.type != self._types[decision]:
                ev = evidence(values, self._types[decision])
            found.append(FieldCandidate(decision, column.score, ev, why))
        if column.reason in ("overflow_column", "blank_header", "hidden_column", "excluded"):
            return tuple(found)
        for match in self._field_matches(table.header_parts[offset]):
            if len(found) >= MAX_CANDIDATES:
                break
            name = match.field
            if name is None or name == decision or match.score <= 0:
                continue
            ev = evidence(values, self._types[name])
            why = self._lost(table, offset, match, ev, column, positions)
            found.append(FieldCandidate(name, match.score, ev, why))
        return tuple(found)

    def _field_matches(self, parts: list[str]) -> list[HeaderMatch]:
        """Every field's best match for a (possibly two-row) header, as :meth:`score_parts`
        weighs the rows (the lower row alone at 95%), best first."""
        combined = " ".join(p for p in parts if p)
        best = {m.field: m for m in self.scorer.by_field(combined)}
        if len(parts) > 1 and parts[-1] and parts[-1] != combined:
            for lower in self.scorer.by_field(parts[-1]):
                held = best.get(lower.field)
                if lower.block is None and (
                    held is None or held.block is not None or lower.score * 0.95 > held.score
                ):
                    best[lower.field] = replace(lower, score=lower.score * 0.95)
        order = {item.name: i for i, item in enumerate(self.spec.fields)}
        return sorted(best.values(), key=lambda m: (-m.score, order.get(m.field or "", 0)))

    def _lost(
        self,
        table: TableInfo,
        offset: int,
        match: HeaderMatch,
        found: ValueEvidence,
        column: ColumnMapping,
        positions: dict[str, int],
    ) -> str:
        """Why a runner-up field did not take this column, in one phrase."""
        name = match.field or ""
        if match.block == "other_party":
            return f"{match.word!r} makes it another party's {self._types[name]}"
        if match.block == "code":
            return f"{match.word!r} makes it a code or key, not the {self._types[name]} itself"
        if match.block == "modifier":
            return f"{match.word!r} changes what the header means"
        if match.score < self.spec.match_threshold:
            return f"header score below match_threshold ({self.spec.match_threshold:.2f})"
        if positions.get(name, offset) != offset:
            return (
                f"{name} is mapped from column {column_letter(table.first_col + positions[name])}"
            )
        if found.conclusive and found.share < self.spec.value_match_threshold:
            return f"only {found.matched} of {found.sample} sampled values fit {found.type}"
        best = column.field or column.best_candidate
        if column.reason == "configured":
            return f"header_overrides maps this header to {best}"
        if best is None:
            return "only the header's best field is weighed"
        if match.score < column.score:
            return f"the header matches {best} better"
        if column.field is not None:
            return f"the values point to {best}"
        return f"{best} scores as well and comes first in the configuration"

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

        if table.header_fields is not None and column >= table.header_fields:
            detail = (
                f"past the header's {table.header_fields} fields: only rows with more fields "
                "than the header fill it, so its values are shifted cells of other columns"
            )
            return unmapped("overflow_column", detail)  # never mapped, not even by its values
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
        if match.block == "code":
            detail = (
                f"{match.word!r} makes this a code or key of {match.spelling!r}, not its "
                f"{self._types[name]} value; map it with header_overrides if it is {name}"
            )
            return ColumnMapping(
                column, letter, text, None, score, "unknown_header", detail, hidden, name
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
        note = self._phone_digits(name, score, values, found)
        if note is None and found.conclusive and found.share < spec.value_match_threshold:
            detail = (
                f"the header suggests {name}, but only {found.matched} of {found.sample} "
                f"sampled values look like {found.type} values"
            )
            return ColumnMapping(
                column, letter, text, None, score, "values_mismatch", detail, hidden, name,
                evidence=found,
            )  # fmt: skip
        if match.described_by is not None and not _labels(values):
            labels = sum(1 for value in values if is_label(value))
            detail = (
                f"{match.described_by!r} of {match.spelling!r} is its {name} only when the "
                f"values are short labels, but {labels} of {len(values)} sampled values are "
                f"(a description may be prose, as a job's duties); map it with "
                f"header_overrides if it is {name}"
            )
            return ColumnMapping(
                column, letter, text, None, score, "values_mismatch", detail, hidden, name,
                evidence=found,
            )  # fmt: skip
        if name in self._identifiers and set(header_words(text)) <= _COUNTER_WORDS:
            key = _record_key(values)
            foreign = self._foreign_key(table, offset) if key == "row numbers" else None
            if foreign is not None:
                note = (
                    f"row numbers, but {foreign!r} beside it is a key of another table: a "
                    f"database table's own key, this person's ID there"
                )
            elif key is not None:
                detail = (
                    f"a bare {text!r} of {key}: the export's own record key, not the person's "
                    f"{name}; map it with header_overrides if it is"
                )
                return ColumnMapping(
                    column, letter, text, None, score, "values_mismatch", detail, hidden, name,
                    evidence=found,
                )  # fmt: skip
        if name in self._named and found.conclusive and self._titles_field(name, values) == name:
            titles = sum(1 for value in values if is_academic_title(value))
            if titles >= CODE_SHARE * found.sample:
                detail = (
                    f"the header suggests {name}, but {titles} of {found.sample} sampled values "
                    f"are academic or courtesy titles ({values[0]!r}), not {name} values"
                )
                return ColumnMapping(
                    column, letter, text, None, score, "values_mismatch", detail, hidden, name,
                    evidence=found,
                )  # fmt: skip
        codes = sum(1 for value in values if is_code(value))
        if name in self._named and found.conclusive and codes >= CODE_SHARE * found.sample:
            detail = (
                f"the header suggests {name}, but {codes} of {found.sample} sampled values are "
                f"codes or numbers ({values[0]!r}), not names"
            )
            return ColumnMapping(
                column, letter, text, None, score, "values_mismatch", detail, hidden, name,
                evidence=found,
            )  # fmt: skip
        candidates.append(_Candidate(offset, self._titles_field(name, values), score, False, note))
        return None

    def _foreign_key(self, table: TableInfo, offset: int) -> str | None:
        """The first other header that is a key of another thing ("id departamento",
        "department_id", "manager_id", "DeptID"), or None. A bare "ID" of row numbers beside
        one is a database table's primary key, as in any dump of a people table with its
        foreign keys: the person's ID in that database, not a count of the export's rows."""
        for other, parts in enumerate(table.header_parts):
            words = header_words(" ".join(parts))
            if other == offset or "id" not in words or len(words) < 2:
                continue
            match = self.score_parts(parts)
            if match.field in self._identifiers and match.block is None:
                continue  # "Employee ID": the person's own ID, the bare one counts rows
            return table.headers[other]
        return None

    def _phone_digits(
        self, name: str, score: float, values: list[Cell], found: ValueEvidence
    ) -> str | None:
        """Under a header that is a phone spelling itself ("Téléphone", "Phone Number"), bare
        runs of 7 to 9 digits are phone numbers written without separators or trunk 0 (French,
        Malagasy, Spanish registers): alone they could be IDs, so they need that header. The
        note for the column's reason, or None when the values need no help or get none."""
        if self._types[name] != "phone" or score < EXACT_ALIAS_SCORE or not found.conclusive:
            return None
        if found.share >= self.spec.value_match_threshold:
            return None
        bare = sum(1 for value in values if is_bare_phone_digits(value))
        if found.matched + bare < self.spec.value_match_threshold * found.sample:
            return None
        return (
            f"{bare} of {found.sample} are bare runs of 7 to 9 digits, phone numbers under "
            f"this header"
        )

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
        """In a table whose rows are organisations (a vendor master, a customer list: a column
        of company names, or a "Company Name" header, and no person named but as a contact),
        an unqualified "Email", "Phone" or "ID" is the organisation's. Only columns that say
        they are the contact person's may feed a people-configuration's fields. A table that
        names a person of its own ("First Name" beside "Company") is a table of people."""
        if not any(t in ("name", "full_name") for t in self._types.values()):
            return  # the configuration is not about people
        people = {c.offset for c in candidates if self._types[c.field] in ("name", "full_name")}
        if any(not self._says_contact(table, offset) for offset in people):
            return
        subject = _organisation_column(table, samples, people)
        if subject is None:
            return
        letter = column_letter(table.first_col + subject)
        for candidate in list(candidates):
            if candidate.configured:
                continue
            words = set(header_words(table.headers[candidate.offset]))
            if candidate.field in self._identifiers:
                if words & ID_SUBJECT_WORDS:
                    continue  # "Employee ID" says whose it is
            elif self._types[candidate.field] not in _CONTACT_TYPES or words & _CONTACT_WORDS:
                continue
            what = "ID" if candidate.field in self._identifiers else self._types[candidate.field]
            detail = (
                f"the rows are organisations (column {letter} names them), so this is the "
                f"organisation's {what}, not a person's; map it with header_overrides if it is "
                f"the contact person's"
            )
            self._withdraw(table, samples, candidates, decided, candidate, "other_party", detail)

    def _withdraw(
        self,
        table: TableInfo,
        samples: list[list[Cell]],
        candidates: list[_Candidate],
        decided: dict[int, ColumnMapping],
        candidate: _Candidate,
        reason: Reason,
        detail: str,
    ) -> None:
        """Take a header candidate back because of what the table around it says, recording
        why (its field stays the column's best candidate, with the value evidence)."""
        candidates.remove(candidate)
        offset = candidate.offset
        column, letter, hidden = self._column(table, offset, "")
        decided[offset] = ColumnMapping(
            column, letter, table.headers[offset], None, candidate.score, reason, detail, hidden,
            candidate.field, evidence=evidence(samples[offset], self._types[candidate.field]),
        )  # fmt: skip

    def _party_as_subject(
        self,
        table: TableInfo,
        samples: list[list[Cell]],
        candidates: list[_Candidate],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """A list of managers ("ManagerName, ManagerID, DeptID") names its rows' people in its
        first column with a role word, and keys them by the same role: when that column is the
        table's only person name, the role is whose list it is, not another party's. (A lone
        "Guardian Name" beside a student's columns stays the guardian's.)"""
        first = decided.get(0)
        if first is None or first.reason != "other_party" or first.best_candidate is None:
            return
        name = first.best_candidate
        if self._types[name] not in ("name", "full_name"):
            return
        if any(self._types[c.field] in ("name", "full_name") for c in candidates):
            return
        words = set(header_words(table.headers[0]))
        role = words & _PERSON_ROLES
        keyed = any(
            role & set(header_words(header)) and set(header_words(header)) & CODE_HEADS
            for header in table.headers[1:]
        )
        found = evidence(samples[0], self._types[name])
        if not (role and keyed and found.conclusive):
            return
        if found.share < self.spec.value_match_threshold:
            return
        del decided[0]
        candidates.append(_Candidate(0, name, first.score, configured=False))

    def _rows_of_another_entity(
        self,
        table: TableInfo,
        samples: list[list[Cell]],
        candidates: list[_Candidate],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """A table keyed by another entity's ID in its first column ("OrderID", "Invoice No")
        lists that entity: its "EmployeeID" or "Customer Number" points to a person described
        elsewhere, not to the row's own person, so it is another party's. (Names stay: a
        registration list keyed by "Registration No." still names its attendees.)"""
        if not table.headers or any(c.offset == 0 for c in candidates):
            return
        words = header_words(table.headers[0])
        entity = set(words[:-1])
        if len(words) < 2 or words[-1] not in CODE_HEADS or not entity:
            return
        if entity & (SUBJECT_WORDS | ORGANISATION_WORDS | _RECORD_WORDS):
            return  # the row's own person or organisation, or a neutral record number
        what = " ".join(words[:-1])
        for candidate in list(candidates):
            if candidate.configured or candidate.field not in self._identifiers:
                continue
            header = table.headers[candidate.offset]
            party = set(header_words(header)) & SUBJECT_WORDS
            if not party:
                continue
            detail = (
                f"the rows are {what} records (column {column_letter(table.first_col)} "
                f"{table.headers[0]!r} is their key), so {header!r} points to a "
                f"{sorted(party)[0]} described elsewhere; map it with header_overrides if it is"
            )
            self._withdraw(table, samples, candidates, decided, candidate, "other_party", detail)

    @staticmethod
    def _says_contact(table: TableInfo, offset: int) -> bool:
        return bool(set(header_words(table.headers[offset])) & _CONTACT_WORDS)

    def _players(
        self,
        table: TableInfo,
        samples: list[list[Cell]],
        candidates: list[_Candidate],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """In a roster of players or athletes, "Team" and "Position" are the game's, not an
        employer's department and job title: those fields are left to the organisation's own
        staff lists."""
        names = [c for c in candidates if self._types[c.field] in ("name", "full_name")]
        players = [c for c in names if set(header_words(table.headers[c.offset])) & _PLAYER_WORDS]
        if not players:
            return
        who = table.headers[players[0].offset]
        for candidate in list(candidates):
            if candidate.configured or candidate.field not in self._named:
                continue
            detail = (
                f"the rows are players ({who!r}): this is their {table.headers[candidate.offset]!r}"
                f" in the game, not a {candidate.field}; map it with header_overrides if it is"
            )
            self._withdraw(table, samples, candidates, decided, candidate, "unknown_header", detail)

    def _object_keys(
        self,
        table: TableInfo,
        samples: list[list[Cell]],
        candidates: list[_Candidate],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """A "Serial" is a police officer's or a soldier's service number in a roster that
        names its people, and a device's in an inventory: taken as the person's ID only when
        the table also maps a name of the person (or the header says whose: "Employee Serial")."""
        if any(self._types[c.field] in ("name", "full_name") for c in candidates):
            return
        for candidate in list(candidates):
            if candidate.configured or candidate.field not in self._identifiers:
                continue
            header = table.headers[candidate.offset]
            words = set(header_words(header))
            if not words & _OBJECT_KEY_WORDS or words & ID_SUBJECT_WORDS:
                continue
            detail = (
                f"{header!r} numbers things as well as people, and no column names a person "
                f"here; map it with header_overrides if it is {candidate.field}"
            )
            self._withdraw(table, samples, candidates, decided, candidate, "unknown_header", detail)

    def _regions(
        self,
        table: TableInfo,
        samples: list[list[Cell]],
        candidates: list[_Candidate],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """A "Department" right after a "City" column is where the person lives: the city's
        region (a departamento of Uruguay or Colombia, a département of France), not the unit
        they work in. Left unmapped, with the reason."""
        for candidate in list(candidates):
            offset = candidate.offset
            if candidate.configured or offset == 0:
                continue
            words = set(header_words(table.headers[offset]))
            if not words & _DEPARTMENT_WORDS:
                continue
            beside = table.headers[offset - 1]
            if not set(header_words(beside)) & _PLACE_WORDS:
                continue
            detail = (
                f"right after {beside!r}: the region the city lies in, not an organisation's "
                f"unit; map it with header_overrides if it is {candidate.field}"
            )
            self._withdraw(table, samples, candidates, decided, candidate, "unknown_header", detail)

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
                if candidate.note is not None:
                    detail = f"{detail}; {candidate.note}"
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

    def _surname_first_names(
        self,
        samples: list[list[Cell]],
        positions: dict[str, int],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """A last-name column ("Nom", "Surname") whose values are whole names written family
        name first in capitals ("RAKOTOBE Hery", "DUPONT Jean Pierre": French and administrative
        registers) is the full name, when the table has no first-name column: the given names
        are in it, and `normalize.normalize_full_name` puts them first."""
        for rule in self.spec.derive_names:
            offset = positions.get(rule.last_name)
            if offset is None or rule.full_name in positions or rule.first_name in positions:
                continue
            texts = [v.strip() for v in samples[offset] if isinstance(v, str) and v.strip()]
            whole = sum(1 for text in texts if surname_first(text) is not None)
            if len(texts) < MIN_EVIDENCE or whole < GIVEN_NAME_SHARE * len(texts):
                continue
            example = next(text for text in texts if surname_first(text) is not None)
            detail = (
                f"the header suggests {rule.last_name}, but {whole} of {len(texts)} sampled "
                f"values are a family name in capitals followed by given names ({example!r}): "
                f"whole names, so {rule.full_name}"
            )
            found = evidence(samples[offset], self._types[rule.full_name])
            decided[offset] = replace(
                decided[offset], field=rule.full_name, detail=detail, evidence=found
            )
            del positions[rule.last_name]
            positions[rule.full_name] = offset

    def _given_names(
        self,
        table: TableInfo,
        samples: list[list[Cell]],
        rows: Sequence[Sequence[Cell]],
        positions: dict[str, int],
        decided: dict[int, ColumnMapping],
    ) -> None:
        """A "Name" column refused as a full name is the given name ("NAME" beside "SURNAME",
        a roster's "Name" of first names, Spanish "Nombre" beside "Apellido") when its values
        are single words, or when they are names that never hold the row's own last name
        (given names of two words, "Andrea María", beside "Provenzano Giribaldi"): offered to
        the first-name field when that has no column and another of the person's fields has."""
        for rule in self.spec.derive_names:
            if rule.first_name in positions or not any(
                self._is_personal(name) for name in positions if name != rule.full_name
            ):
                continue
            for offset, mapping in sorted(decided.items()):
                if mapping.reason != "values_mismatch" or mapping.best_candidate != rule.full_name:
                    continue
                values = samples[offset]
                found = evidence(values, self._types[rule.first_name])
                if found.share < GIVEN_NAME_SHARE:
                    continue
                single = sum(1 for v in values if isinstance(v, str) and len(v.split()) == 1)
                if single >= GIVEN_NAME_SHARE * len(values):
                    why = f"{single} of {len(values)} sampled values are single words"
                else:
                    apart = _apart_from_last_names(rows, offset, positions.get(rule.last_name))
                    if apart is None:
                        continue
                    why = f"none of {apart} sampled values holds the row's last name"
                detail = (
                    f"the header suggests {rule.full_name}, but {why}: given names, so "
                    f"{rule.first_name}"
                )
                decided[offset] = replace(
                    mapping, field=rule.first_name, reason="mapped", detail=detail, evidence=found
                )
                positions[rule.first_name] = offset
                break

    def _is_personal(self, name: str) -> bool:
        """A field only a person has: a name part, an e-mail, a phone, a date, an ID."""
        return name in self._identifiers or self._types[name] in _PERSONAL_TYPES

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


def _labels(values: list[Cell]) -> bool:
    """Enough values, nearly all short labels ("Robbery Squad"), to read a "Description" column
    as the name of what it describes."""
    labels = sum(1 for value in values if is_label(value))
    return len(values) >= MIN_EVIDENCE and labels >= BY_VALUES_SHARE * len(values)


def _apart_from_last_names(
    rows: Sequence[Sequence[Cell]], offset: int, last: int | None
) -> int | None:
    """How many sampled rows hold both a name and a last name, when at least MIN_EVIDENCE do
    and no name shares a word with its row's last name (else None): they are given names."""
    if last is None:
        return None
    compared = 0
    for row in rows:
        name, family = _words(row[offset]), _words(row[last])
        if name and family:
            if family & name:
                return None
            compared += 1
    return compared if compared >= MIN_EVIDENCE else None


def _organisation_column(
    table: TableInfo, samples: list[list[Cell]], people: set[int]
) -> int | None:
    """The column naming the organisation a row is about: a header that names one ("Company
    Name", "Organisation"), or else the leftmost column of company names before any column of
    full names."""
    for offset, header in enumerate(table.headers):
        words = set(header_words(header))
        if offset not in people and words & ORGANISATION_WORDS and words <= _ORGANISATION_HEADER:
            return offset
    for offset, values in enumerate(samples):
        if offset in people:
            break
        if _is_organisations(values):
            return offset
        if len(values) >= 5 and evidence(values, "full_name").share >= PERSON_SHARE:
            return None  # the rows are about the person named here
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


_MACHINE_KEY = re.compile(
    r"^(?:[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|[0-9a-f]{12,}|"
    r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?)$"
)


def _record_key(values: list[Cell]) -> str | None:
    """What makes a bare "ID" column a system's record key rather than the person's ID:
    row numbers (1, 2, 3, ... in order) or machine keys (hex strings, UUIDs, 15/18-character
    CRM keys with letters and digits mixed), or None."""
    numbers = [_counter(value) for value in values]
    if len(values) >= 3 and None not in numbers:
        start = numbers[0]
        if start in (0, 1) and numbers == list(range(start, start + len(numbers))):
            return "row numbers"
    keys = [
        v
        for v in values
        if isinstance(v, str)
        and _MACHINE_KEY.match(v.strip())
        and any(c.isdigit() for c in v)
        and any(c.isalpha() for c in v)
    ]
    if len(values) >= 2 and len(keys) >= BY_VALUES_SHARE * len(values):
        return "machine keys"
    return None


def _counter(value: Cell) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and not value.strip().startswith("0"):
        return int(value)
    return None
