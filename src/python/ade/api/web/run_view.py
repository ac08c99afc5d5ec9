"""What the run page says: failures in plain words, the column mapping as rows a person can
read, issues by field, and the first rows of each output table.

The summary is read generically: whatever keys a mapping entry or its ``evidence`` carries are
shown, and missing ones are skipped, so summaries written by older and newer engines both
render (the engine adds reasons and evidence over time).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from typing import Any

from ade.api.web.corrections import control_name, correctable
from ade.storage.base import BlobStore
from ade.storage.errors import BlobNotFound

PREVIEW_ROWS = 50
PREVIEW_MAX_BYTES = 1024 * 1024
"""The preview reads at most this much of a table's CSV, however large the table."""

_FAILURES: dict[str, str] = {
    "file_not_found": "ADE could not find the uploaded file.",
    "empty_file": "The file is empty: there is nothing to extract.",
    "unreadable_file": "ADE could not read this file. It may be damaged, or not really the "
    "kind of file its name says.",
    "unsupported_format": "ADE cannot read this kind of file. Save it as .xlsx or CSV and "
    "upload it again.",
    "sheet_not_found": "The sheet the run asked for is not in this workbook.",
    "no_table_found": "ADE found no table in this file: no row looked like a header over "
    "rows of data.",
    "invalid_configuration": "The configuration used for this run is not valid. Fix it on the "
    "Configurations page, then run again.",
    "too_large": "This file is larger than ADE reads (a field, line or part beyond its limits). "
    "The message says which limit; split or clean the file and upload it again.",
    "document_missing": "The uploaded file was deleted before the run could read it.",
    "cancelled": "The run was cancelled.",
    "engine_crashed": "The extraction stopped unexpectedly, several times. The file may be too "
    "large for this server; try again, or ask your administrator.",
    "lease_expired": "The worker processing this run stopped responding, several times. Try "
    "again; if it keeps happening, ask your administrator.",
}
_SERVICE_PROBLEM = (
    "ADE's storage or database was unavailable while this run was processed. Nothing is wrong "
    "with your file: run it again later."
)
_UNKNOWN_FAILURE = (
    "Something went wrong inside ADE. Run it again; if it fails again, give your administrator "
    "the run id."
)

_REASONS: dict[str, str] = {
    "mapped": "the header matches this field",
    "configured": "mapped by the configuration",
    "mapped_by_values": "mapped by its values (the header alone did not decide)",
    "values_mismatch": "the header matches, but the values do not fit the field",
    "unknown_header": "no field matches this header",
    "duplicate": "another column already holds this field",
    "blank_header": "the header is blank",
    "hidden_column": "a hidden column, left out",
    "overflow_column": "no header: only rows with too many fields reach it",
    "excluded": "excluded by the configuration",
}
_SHOWN_KEYS = {
    "column",
    "header",
    "field",
    "score",
    "reason",
    "evidence",
    "best_candidate",
    "duplicate_of",
    "hidden",
    "kept_as",
    "candidates",
}
"""Keys a mapping entry's row shows in plain words; any other (the engine's ``detail``, keys
of newer engines) is listed under the row's Details, with the reason's code."""


def explain_failure(code: str | None, status: str) -> str:
    """One or two sentences for the person who uploaded the file."""
    if status == "cancelled" and code in (None, "cancelled"):
        return _FAILURES["cancelled"]
    if code in _FAILURES:
        return _FAILURES[code]
    if code and (code.startswith("storage_") or code in ("database_unavailable", "io_error")):
        return _SERVICE_PROBLEM
    return _UNKNOWN_FAILURE


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.0%}" if 0 <= value <= 1 else f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_plain(item)}" for key, item in value.items())
    return str(value)


@dataclass(frozen=True)
class MappingRow:
    column: str
    header: str
    field: str | None
    reason_code: str
    reason: str
    score: str
    evidence: list[tuple[str, str]]
    notes: list[str]
    details: list[tuple[str, str]]
    """What a person sees only on asking (a <details>): the reason's code, the engine's own
    wording, keys this page does not know."""
    candidates: list[str] = dataclass_field(default_factory=list)
    """The fields the engine weighed for this column (summary.json's ``candidates``), one
    sentence each, shown inside the Details."""
    control: str | None = None
    """The name of the page's field chooser for this column; None where an override cannot
    change the decision (see :data:`ade.api.web.corrections.UNCORRECTABLE_REASONS`)."""


def mapping_rows(table: dict[str, Any]) -> list[MappingRow]:
    rows = []
    number = int(table.get("number") or 0)
    for entry in table.get("mapping") or []:
        if not isinstance(entry, dict):
            continue
        code = str(entry.get("reason") or "")
        notes = []
        if entry.get("duplicate_of"):
            notes.append(f"duplicate of column {entry['duplicate_of']}")
        if entry.get("best_candidate"):
            notes.append(f"closest field: {entry['best_candidate']}")
        if entry.get("hidden"):
            notes.append("hidden in the spreadsheet")
        if entry.get("kept_as"):
            notes.append(f"kept in the outputs as “{entry['kept_as']}”")
        details = [("reason code", code)] if code else []
        details += [
            (str(key), _plain(value)) for key, value in entry.items() if key not in _SHOWN_KEYS
        ]
        evidence = entry.get("evidence")
        score = entry.get("score")
        rows.append(
            MappingRow(
                column=str(entry.get("column") or ""),
                header=str(entry.get("header") or ""),
                field=str(entry["field"]) if entry.get("field") else None,
                reason_code=code,
                reason=_REASONS.get(code, code.replace("_", " ")),
                score=_plain(float(score)) if isinstance(score, int | float) else "",
                evidence=(
                    [(str(k), _plain(v)) for k, v in evidence.items()]
                    if isinstance(evidence, dict)
                    else []
                ),
                notes=notes,
                details=details,
                candidates=candidate_sentences(entry.get("candidates")),
                control=(
                    control_name(number, str(entry["column"])) if correctable(entry) else None
                ),
            )
        )
    return rows


def candidate_sentences(candidates: Any) -> list[str]:
    """summary.json's candidates of one column as sentences: "Chosen: email (header 0.99,
    values 100% of 15)", "Also considered: first_name (header 0.65, values 100% of 6) — lost:
    header score below match_threshold (0.75)". Anything malformed is left out."""
    if not isinstance(candidates, list):
        return []
    sentences = []
    for item in candidates:
        if not isinstance(item, dict) or not item.get("field"):
            continue
        evidence = []
        header = item.get("header")
        if isinstance(header, int | float):
            evidence.append(f"header {float(header):.2f}")
        values = item.get("values")
        if isinstance(values, int | float):
            evidence.append(f"values {float(values):.0%} of {item.get('sample')}")
        else:
            evidence.append("no values sampled")
        text = f"{item['field']} ({', '.join(evidence)})"
        why = str(item.get("why") or "")
        if why == "chosen":
            sentences.append(f"Chosen: {text}")
        else:
            sentences.append(f"Also considered: {text}" + (f" — lost: {why}" if why else ""))
    return sentences


def unmapped_columns(table: dict[str, Any]) -> list[str]:
    """Source columns the outputs keep although no field took them (newer summaries), each as
    a sentence: "Column G “Employer”: no field matches this header"."""
    kept = table.get("unmapped_columns") or []
    if not isinstance(kept, list):
        return []
    sentences = []
    for item in kept:
        if not isinstance(item, dict):
            sentences.append(_plain(item))
            continue
        header = str(item.get("header") or "")
        text = f"Column {item.get('column') or '?'}" + (f" “{header}”" if header else ", no header")
        code = str(item.get("reason") or "")
        if code:
            text += f": {_REASONS.get(code, code.replace('_', ' '))}"
        output = item.get("kept_as")
        if output and output != header:
            text += f", kept as “{output}”"
        sentences.append(text)
    return sentences


@dataclass(frozen=True)
class FieldIssues:
    field: str
    total: int
    by_code: list[tuple[str, int]]
    examples: list[dict[str, Any]]


def issues_by_field(summary: dict[str, Any]) -> list[FieldIssues]:
    issues = summary.get("issues") or {}
    by_field = issues.get("by_field") or {}
    examples = issues.get("examples") or {}
    found = []
    for name, codes in by_field.items():
        if not isinstance(codes, dict):
            continue
        counts = [(str(code), int(count)) for code, count in codes.items()]
        field_examples = examples.get(name) if isinstance(examples, dict) else None
        found.append(
            FieldIssues(
                field=str(name),
                total=sum(count for _, count in counts),
                by_code=counts,
                examples=[e for e in field_examples or [] if isinstance(e, dict)][:3],
            )
        )
    return sorted(found, key=lambda item: -item.total)


@dataclass(frozen=True)
class Preview:
    header: list[str]
    rows: list[list[str]]
    missing: bool = False
    empty: list[str] = field(default_factory=list)
    """Columns with no value in the previewed rows: named in one line instead of shown, so the
    columns that hold data are not pushed off to the right by empty ones."""


def _filled_first(header: list[str], rows: list[list[str]]) -> Preview:
    filled = [i for i in range(len(header)) if any(i < len(r) and r[i].strip() for r in rows)]
    if not rows or len(filled) == len(header):
        return Preview(header=header, rows=rows)
    return Preview(
        header=[header[i] for i in filled],
        rows=[[row[i] if i < len(row) else "" for i in filled] for row in rows],
        empty=[name for i, name in enumerate(header) if i not in set(filled)],
    )


def read_preview(store: BlobStore, key: str, limit: int = PREVIEW_ROWS) -> Preview:
    """The header and first ``limit`` rows of a stored CSV table, reading at most
    :data:`PREVIEW_MAX_BYTES` of it."""
    try:
        stream = store.open(key, 0, PREVIEW_MAX_BYTES)
    except BlobNotFound:
        return Preview(header=[], rows=[], missing=True)
    with stream:
        data = b"".join(stream)
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    cut = len(data) >= PREVIEW_MAX_BYTES
    if cut:
        text = text[: text.rfind("\n") + 1]  # drop a row the byte limit split
    records = list(csv.reader(io.StringIO(text)))
    if not records:
        return Preview(header=[], rows=[])
    return _filled_first(records[0], records[1 : limit + 1])
