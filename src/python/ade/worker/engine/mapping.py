"""Map a table's source columns to the configuration's fields, with a reason for every column.

Scoring a header against a field's spellings (name, label, aliases), all compared after
`header_key` (case, accents, punctuation, camelCase, whitespace):
  - same key: 1.0; same key once spaces are removed ("E-Mail" vs "email"): 0.95;
  - the spelling's words all appear in the header ("Contact Email" vs "email"):
    0.7 + 0.3 * spelling words / header words, + 0.05 when the header's last word is among them
    (English puts the head noun last: "Employee Email" is an email, not an employee);
  - the header's words all appear in the spelling ("Date" vs "hire date"): 0.5 + 0.3 * share;
  - otherwise string similarity (difflib ratio) * 0.95, so typos like "Emial" still reach 0.76.
A two-row header is also scored on its lower row alone (* 0.95) and the better score counts.

Conflicts: candidates at or above the threshold are taken best score first, then leftmost
column; a field already taken makes the later column a `duplicate` of the winner. Ties between
fields for one column go to the field listed first in the configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal

from ade.db.configuration_spec import ConfigurationSpec, header_key
from ade.worker.engine.cells import column_letter
from ade.worker.engine.tables import TableInfo

Reason = Literal["mapped", "unknown_header", "duplicate", "blank_header", "hidden_column"]

_PLACEHOLDER = re.compile(
    r"^(unnamed( \d+)?( level \d+)?|column ?\d*|col ?\d+|field ?\d+|f\d+|none|null|nan|n ?a|x)$"
)


def is_placeholder(header: str) -> bool:
    """Blank, punctuation-only, or a tool's filler name ("Unnamed: 3", "Column1", "-")."""
    key = header_key(header)
    return not key or bool(_PLACEHOLDER.match(key))


@dataclass(frozen=True)
class ColumnMapping:
    """The decision for one source column."""

    column: int
    letter: str
    header: str
    field: str | None
    score: float
    reason: Reason
    hidden: bool = False
    best_candidate: str | None = None
    duplicate_of: str | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "column": self.letter,
            "header": self.header,
            "field": self.field,
            "score": round(self.score, 3),
            "reason": self.reason,
        }
        if self.hidden:
            data["hidden"] = True
        if self.best_candidate and self.field is None:
            data["best_candidate"] = self.best_candidate
        if self.duplicate_of:
            data["duplicate_of"] = self.duplicate_of
        return data


@dataclass
class TableMapping:
    columns: list[ColumnMapping]
    # field name -> index of its column within the table's cells
    positions: dict[str, int] = field(default_factory=dict)

    def mapped(self) -> list[ColumnMapping]:
        return [c for c in self.columns if c.field is not None]


class FieldMatcher:
    """Scores headers against one configuration; cached, since headers repeat across tables."""

    def __init__(self, spec: ConfigurationSpec) -> None:
        self.spec = spec
        self._exact: dict[str, str] = {}
        self._compact: dict[str, str] = {}
        self._entries: list[tuple[str, str, frozenset[str]]] = []
        for item in spec.fields:
            for spelling in item.match_names():
                key = header_key(spelling)
                self._exact.setdefault(key, item.name)
                self._compact.setdefault(key.replace(" ", ""), item.name)
                self._entries.append((item.name, key, frozenset(key.split())))
        self._order = {item.name: i for i, item in enumerate(spec.fields)}
        self.best = lru_cache(maxsize=4096)(self._best)

    def _best(self, header: str) -> tuple[str | None, float]:
        """(field, score) of the best-scoring field for one header text, (None, 0.0) if none."""
        key = header_key(header)
        if not key:
            return None, 0.0
        if key in self._exact:
            return self._exact[key], 1.0
        compact = key.replace(" ", "")
        if compact in self._compact:
            return self._compact[compact], 0.95
        words = key.split()
        tokens = frozenset(words)
        scores: dict[str, float] = {}
        for name, spelling, spelling_tokens in self._entries:
            if spelling_tokens <= tokens:
                score = 0.7 + 0.3 * len(spelling_tokens) / len(tokens)
                if words[-1] in spelling_tokens:
                    score += 0.05
            elif tokens <= spelling_tokens:
                score = 0.5 + 0.3 * len(tokens) / len(spelling_tokens)
            else:
                score = SequenceMatcher(None, key, spelling).ratio() * 0.95
            if score > scores.get(name, 0.0):
                scores[name] = min(score, 0.94)
        if not scores:
            return None, 0.0
        name = min(scores, key=lambda n: (-scores[n], self._order[n]))
        return name, scores[name]

    def score_parts(self, parts: list[str]) -> tuple[str | None, float]:
        """Best field for a (possibly two-row) header; the lower row alone counts at 95%."""
        combined = " ".join(p for p in parts if p)
        best = self.best(combined)
        if len(parts) > 1 and parts[-1] and parts[-1] != combined:
            name, score = self.best(parts[-1])
            if score * 0.95 > best[1]:
                best = (name, score * 0.95)
        return best

    def is_known(self, header: str) -> bool:
        """Does this text match some field well enough to be mapped?"""
        return self.best(header)[1] >= self.spec.match_threshold


def map_table(table: TableInfo, matcher: FieldMatcher) -> TableMapping:
    """Decide, for every column of the table, which field it feeds, or why none."""
    spec = matcher.spec
    threshold = spec.match_threshold
    hidden = set(table.hidden_columns)
    candidates: list[tuple[float, int, str]] = []
    best_of: dict[int, tuple[str | None, float]] = {}
    for offset, (text, parts) in enumerate(zip(table.headers, table.header_parts, strict=True)):
        column = table.first_col + offset
        if is_placeholder(text):
            continue
        if column in hidden and not spec.include_hidden_columns:
            continue
        name, score = matcher.score_parts(parts)
        best_of[offset] = (name, score)
        if name is not None and score >= threshold:
            candidates.append((-score, offset, name))
    winners: dict[str, int] = {}
    for _, offset, name in sorted(candidates):
        winners.setdefault(name, offset)
    columns: list[ColumnMapping] = []
    for offset, text in enumerate(table.headers):
        column = table.first_col + offset
        letter = column_letter(column)
        is_hidden = column in hidden
        name, score = best_of.get(offset, (None, 0.0))
        if is_placeholder(text):
            mapping = ColumnMapping(column, letter, text, None, 0.0, "blank_header", is_hidden)
        elif is_hidden and not spec.include_hidden_columns:
            mapping = ColumnMapping(column, letter, text, None, 0.0, "hidden_column", True)
        elif name is not None and score >= threshold and winners[name] == offset:
            mapping = ColumnMapping(column, letter, text, name, score, "mapped", is_hidden)
        elif name is not None and score >= threshold:
            winner = column_letter(table.first_col + winners[name])
            mapping = ColumnMapping(
                column, letter, text, None, score, "duplicate", is_hidden, name, winner
            )
        else:
            mapping = ColumnMapping(
                column, letter, text, None, score, "unknown_header", is_hidden, name
            )
        columns.append(mapping)
    positions = {name: offset for name, offset in winners.items()}
    return TableMapping(columns=columns, positions=positions)
