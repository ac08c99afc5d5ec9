"""The extraction configuration: which target fields a run looks for and how to treat them.

It lives in `ade.db` because both the API (which validates and stores configurations) and the
worker (which runs them) need the same model, and `ade.db` is the one library both may import.
Only pydantic and the standard library are used here: no openpyxl, no engine code.

`header_key` is defined here too, because "two aliases collide" (a configuration error) and
"this header matches that alias" (an engine decision) must use one and the same normalization.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FieldType = Literal[
    "text",
    "email",
    "date",
    "number",
    "integer",
    "phone",
    "name",
    "full_name",
    "name_prefix",
    "name_suffix",
]
"""A field's type: how its values are recognised and normalized. "name_prefix" is a courtesy
title ("Mr.", "Dr", "Herr"), "name_suffix" a generation or post-nominal ("Jr.", "III", "PhD")."""

# Letters and digits `header_key` keeps: ASCII, Latin, Greek, Cyrillic, Armenian, Hebrew,
# Arabic, Devanagari, Thai, Hangul, kana and CJK ideographs, less any character that
# normalization would turn into something outside this class (tests/worker/engine/
# test_configuration_spec.py rebuilds it from Unicode data). One literal class, so that Python
# and the JSON schema's ECMA regex (an alias's pattern) agree on what counts as a letter.
WORD_CHARACTERS = (
    "0-9A-Za-z\u00aa\u00b2-\u00b3\u00b5\u00b9-\u00ba\u00c0-\u00d6\u00d8-\u00f6"
    "\u00f8-\u013e\u0141-\u0148\u014a-\u0180\u0182-\u0185\u0187-\u0188\u018b-\u018e"
    "\u0191-\u0192\u0195\u0198-\u019b\u019e\u01a0-\u01a5\u01a7-\u01a8\u01aa-\u01ad"
    "\u01af-\u01b0\u01b3-\u01b6\u01b8-\u01ed\u01f0-\u0239\u023b-\u023d\u023f-\u0243"
    "\u0246-\u024f\u0370-\u0373\u0376-\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a"
    "\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u0559"
    "\u0560-\u0588\u05d0-\u05ea\u0620-\u064a\u0660-\u0669\u066e-\u066f\u0671-\u06d3"
    "\u06d5\u06e5-\u06e6\u06ee-\u06fc\u06ff\u0904-\u0939\u093d\u0950\u0958-\u0961"
    "\u0966-\u096f\u0971-\u097f\u0e01-\u0e30\u0e32\u0e40-\u0e46\u0e50-\u0e59"
    "\u1100-\u11ff\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7a3"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_IDENTIFIER = r"^[a-z][a-z0-9_]*$"
_ALIAS = f"[{WORD_CHARACTERS}]"
"""An alias needs a letter or digit (what `header_key` keeps); the JSON schema says so."""
# Python does not compile the class: `re` spends ~30 ms of every process's start-up turning
# 40,000 ideographs into a bitmap. ASCII text (almost every header) is keyed by the class's
# ASCII part; other text, character by character, against the class's ranges.
_NON_WORD_ASCII = re.compile(r"[^0-9A-Za-z]+")
_WORD_ASCII = re.compile(r"[0-9A-Za-z]")


def _code_point_ranges(characters: str) -> tuple[list[int], list[int]]:
    """A regex class's body ("0-9A-Z\u00aa") as the first and last code points of its ranges,
    in ascending order."""
    firsts: list[int] = []
    lasts: list[int] = []
    at = 0
    while at < len(characters):
        ranged = at + 2 < len(characters) and characters[at + 1] == "-"
        firsts.append(ord(characters[at]))
        lasts.append(ord(characters[at + 2 if ranged else at]))
        at += 3 if ranged else 1
    order = sorted(range(len(firsts)), key=firsts.__getitem__)
    return [firsts[i] for i in order], [lasts[i] for i in order]


_WORD_FIRSTS, _WORD_LASTS = _code_point_ranges(WORD_CHARACTERS)


def is_word_character(character: str) -> bool:
    """Is `character` in WORD_CHARACTERS (a letter or digit `header_key` keeps)?"""
    code = ord(character)
    at = bisect_right(_WORD_FIRSTS, code) - 1
    return at >= 0 and code <= _WORD_LASTS[at]


def has_word_character(text: str) -> bool:
    """Does `text` hold a letter or digit (what the JSON schema's alias pattern asks)?"""
    if text.isascii():
        return _WORD_ASCII.search(text) is not None
    return any(map(is_word_character, text))


def header_key(text: str) -> str:
    """Normalize a header or alias for comparison.

    Accents are stripped, camelCase is split ("firstName" -> "first name"), everything is
    lower-cased and any run of punctuation, underscores or whitespace becomes one space.
    "E-Mail Address:" and "e_mail address" both become "e mail address". Letters of other
    scripts are words too ("ФИО", "姓名", "الاسم"), not blanks.
    """
    if not text.isascii():  # ASCII has nothing to decompose
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    split = _CAMEL.sub(" ", text).lower()
    if split.isascii():
        return _NON_WORD_ASCII.sub(" ", split).strip()
    return " ".join("".join(ch if is_word_character(ch) else " " for ch in split).split())


# Abbreviations exports use for the same word; "#" is read as "number" before punctuation goes.
_WORD_SYNONYMS = {
    "dt": "date",
    "nm": "name",
    "no": "number",
    "nbr": "number",
    "num": "number",
    "addr": "address",
    "mbr": "member",
    "mob": "mobile",
    "biz": "business",
    "ee": "employee",
    "pers": "personnel",
    "nr": "number",
}

# Run-together abbreviations payroll and HR systems write as one word ("EEID", "EmpNo").
_WORD_EXPANSIONS = {
    "eeid": ("employee", "id"),
    "empid": ("emp", "id"),
    "empno": ("emp", "number"),
    "empnum": ("emp", "number"),
    "empnbr": ("emp", "number"),
}


def header_words(text: str) -> tuple[str, ...]:
    """The words of a header as the engine compares them: `header_key`, plus "#" and common
    abbreviations read as words ("Emp #" and "Emp No" are both "emp number", "Hire Dt" is "hire
    date", "Mob." is "mobile", "EE ID" and "EEID" are "employee id") and "e mail" joined to
    "email". Header overrides are matched on these words."""
    words = header_key(text.replace("#", " number ")).split()
    joined: list[str] = []
    for word in words:
        if word == "mail" and joined and joined[-1] == "e":
            joined[-1] = "email"
        elif word in _WORD_EXPANSIONS:
            joined.extend(_WORD_EXPANSIONS[word])
        else:
            joined.append(_WORD_SYNONYMS.get(word, word))
    return tuple(joined)


class FieldSpec(BaseModel):
    """One target column of the normalized output."""

    # strict: JSON types as the JSON schema states them ("true" and 1 are not booleans).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(pattern=_IDENTIFIER, max_length=64)
    label: str | None = None
    aliases: list[str] = Field(
        default_factory=list, json_schema_extra={"items": {"type": "string", "pattern": _ALIAS}}
    )
    required: bool = False
    type: FieldType = "text"

    @field_validator("aliases")
    @classmethod
    def _aliases_not_blank(cls, aliases: list[str]) -> list[str]:
        for alias in aliases:
            if not has_word_character(alias):
                raise ValueError(f"alias {alias!r} has no letters or digits")
        return aliases

    @property
    def display_label(self) -> str:
        """The column title written to the outputs."""
        return self.label or self.name

    def match_names(self) -> list[str]:
        """Every spelling that counts as an exact match: name, label, aliases (in that order)."""
        names = [self.name]
        if self.label:
            names.append(self.label)
        names.extend(self.aliases)
        return names


class NameDerivation(BaseModel):
    """Keep a full-name field and its parts consistent.

    `split` fills first/middle/last (and the optional name_prefix/name_suffix) from the full
    name where those are empty; `join` fills the full name from the parts where it is empty;
    `both` does whichever is needed per row. A joined full name holds the suffix ("Jr.", part
    of the name) but never the prefix ("Mr." is how to address a person, not their name); a
    full name read from the source keeps whatever title it was written with.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    full_name: str
    first_name: str
    last_name: str
    middle_name: str | None = None
    name_prefix: str | None = None
    name_suffix: str | None = None
    direction: Literal["split", "join", "both"] = "both"

    def referenced(self) -> list[tuple[str, str]]:
        """(role, field name) pairs, for validation messages."""
        pairs = [
            ("full_name", self.full_name),
            ("first_name", self.first_name),
            ("last_name", self.last_name),
        ]
        optional = [
            ("middle_name", self.middle_name),
            ("name_prefix", self.name_prefix),
            ("name_suffix", self.name_suffix),
        ]
        pairs.extend((role, name) for role, name in optional if name)
        return pairs


class ConfigurationSpec(BaseModel):
    """A whole configuration: fields plus the options that steer matching and normalization."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    version: Literal[1] = 1
    name: str = "custom"
    fields: list[FieldSpec] = Field(min_length=1)
    derive_names: list[NameDerivation] = Field(default_factory=list)
    # A header matches a field when its score reaches this (exact matches score 1.0).
    match_threshold: float = Field(default=0.75, ge=0.0, le=1.0)
    # Day/month order for ambiguous dates (03/04/2020) when a column gives no evidence itself.
    date_order: Literal["mdy", "dmy"] = "mdy"
    # Hidden spreadsheet columns are data too; set False to ignore them (reported either way).
    include_hidden_columns: bool = True
    # Phone numbers without a leading "+" get this country code when they have 10 digits.
    default_phone_country_code: str | None = Field(default=None, pattern=r"^[1-9][0-9]{0,2}$")
    # Corrections the engine applies before scoring: header text -> field name, or null for
    # "this header never maps". Headers compare like aliases (case, accents and punctuation
    # ignored), so {"Worker #": "employee_id", "Employer": null} also covers "WORKER #".
    header_overrides: dict[str, str | None] = Field(
        default_factory=dict,
        json_schema_extra={"propertyNames": {"pattern": _ALIAS, "minLength": 1}},
    )
    # Source columns that map to no field are written after the fields, under their own header.
    keep_unmapped_columns: bool = True
    # A column whose header is blank or a placeholder ("Column 7") may still be mapped to a
    # still-unmapped field when its values leave no doubt (>= 90% e-mail addresses, say).
    map_by_values: bool = True
    # A header match is only taken when at least this share of the column's sampled values fit
    # the field's type (names look like names, dates parse, ...); otherwise `values_mismatch`.
    value_match_threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    # Table and issue CSVs: a cell a spreadsheet would run as a formula (it starts with =, +, -,
    # @, TAB, CR or NUL and is not a plain number) is written with a leading "'" (OWASP's CSV
    # injection defence). Set False only for programs that read the CSVs; the workbook always
    # holds the text as is.
    csv_defuse_formulas: bool = True
    # Table and issue CSVs start with a UTF-8 byte-order mark, so that Excel reads accents
    # right; set False for programs that do not expect one.
    csv_byte_order_mark: bool = True
    # The longest field a CSV input may hold, in characters: a longer one fails the run
    # (`too_large`, naming its line) instead of taking memory many times its size. Capped so
    # that a configuration cannot lift the bound on what one row costs.
    csv_max_field_chars: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Which sheets of a workbook to read, in this order: names as strings, 1-based positions as
    # integers (["Staff", 3]); positions count every sheet, hidden ones too. Empty: every
    # worksheet. A CSV file has one sheet (position 1, or its file name without extension).
    sheets: list[Annotated[str, Field(min_length=1)] | Annotated[int, Field(ge=1)]] = Field(
        default_factory=list, max_length=1000
    )
    # Read only the sheet the workbook opens on (XLSX/XLSM: the active tab; ODS: the active
    # table; XLS/XLSB: the first visible sheet; CSV and HTML: everything). Not with `sheets`.
    active_sheet_only: bool = False

    @model_validator(mode="after")
    def _check_consistency(self) -> ConfigurationSpec:
        errors: list[str] = []
        seen: dict[str, int] = {}
        for index, spec in enumerate(self.fields):
            if spec.name in seen:
                errors.append(
                    f"fields[{index}]: duplicate field name {spec.name!r} "
                    f"(first defined at fields[{seen[spec.name]}])"
                )
            else:
                seen[spec.name] = index
        claimed: dict[str, str] = {}
        for spec in self.fields:
            for spelling in spec.match_names():
                key = header_key(spelling)
                owner = claimed.setdefault(key, spec.name)
                if owner != spec.name:
                    errors.append(
                        f"alias {spelling!r} of field {spec.name!r} is already claimed by field "
                        f"{owner!r} (both normalize to {key!r})"
                    )
        types = {spec.name: spec.type for spec in self.fields}
        errors.extend(_override_errors(self.header_overrides, types))
        for index, rule in enumerate(self.derive_names):
            for role, name in rule.referenced():
                if name not in types:
                    errors.append(f"derive_names[{index}].{role}: unknown field {name!r}")
            if types.get(rule.full_name, "full_name") != "full_name":
                errors.append(
                    f"derive_names[{index}].full_name: field {rule.full_name!r} must have "
                    f"type 'full_name', not {types[rule.full_name]!r}"
                )
        if self.sheets and self.active_sheet_only:
            errors.append("sheets and active_sheet_only: choose one way to select sheets")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def field(self, name: str) -> FieldSpec:
        """The field called `name` (KeyError if there is none)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _override_errors(overrides: dict[str, str | None], fields: Mapping[str, str]) -> list[str]:
    """Located messages for header overrides that name no field, or say two things."""
    errors: list[str] = []
    seen: dict[tuple[str, ...], str] = {}
    for header, target in overrides.items():
        where = f"header_overrides[{header!r}]"
        key = header_words(header)
        if not key or not has_word_character(header):
            errors.append(f"{where}: a header needs letters or digits")
            continue
        if target is not None and target not in fields:
            known = ", ".join(sorted(fields))
            errors.append(f"{where}: unknown field {target!r} (fields: {known})")
        if key in seen:
            errors.append(
                f"{where}: the same header as {seen[key]!r} once case and punctuation are ignored"
            )
        else:
            seen[key] = header
    return errors


def parse_configuration(text: str | bytes) -> ConfigurationSpec:
    """Parse configuration JSON; raises pydantic.ValidationError with located messages."""
    return ConfigurationSpec.model_validate_json(text)


def default_configuration() -> ConfigurationSpec:
    """The configuration shipped with the package: people rosters (names, email, phone, dates)."""
    text = resources.files("ade.db").joinpath("default_configuration.json").read_text("utf-8")
    return ConfigurationSpec.model_validate(json.loads(text))
