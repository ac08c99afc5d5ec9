"""Value evidence: does a column's content look like the type of the field its header suggests?

A header is a claim; the values are the evidence. Each field type has a profile, a cheap test of
one cell ("is this an e-mail address?", "could this be a person's full name?"). The engine
keeps a bounded sample of every column's first non-empty values while it streams the table
(frictionless-py's Detector works the same way: a sample, a share, a threshold, all reported)
and a header match only stands when enough of the sample fits.

Profiles are stricter than the normalizers where a lenient test would let the wrong column in:
a phone number must look like one (separators or at least 10 digits, not a date, not a short
integer ID); a person's name has no digits, no "@" and no company words ("Prairie Build
Systems" is an employer, not a full name); a full name has at least two words or is written
"Last, First". A name prefix is a known courtesy title ("Mr.", "Dr", "Herr"; two joined, as
in "Mr. & Mrs.", count too), a name suffix a known suffix ("Jr.", "III", "MD, PhD").
Placeholder values ("N/A", "-", "unknown") are not evidence either way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ade.worker.engine.cells import Cell
from ade.worker.engine.normalize import (
    PREFIX_WORDS,
    SUFFIXES,
    InvalidValue,
    bare,
    make_date_normalizer,
    make_phone_normalizer,
    normalize_email,
    normalize_integer,
    normalize_number,
    without_annotations,
    without_list_number,
)

SAMPLE_VALUES = 200
"""Non-empty values kept per column: enough to judge a type, small enough to cost nothing."""

MIN_EVIDENCE = 5
"""Below this many sampled values, the values neither confirm nor refute a header (unless none
of at least two fits: a "Preferred Name" column with two one-word values is no full name)."""

_PLACEHOLDER_VALUES = frozenset(
    ["n/a", "na", "n.a.", "none", "null", "nil", "-", "--", "---", "?", "unknown", "tbd", "tba"]
) | {"not provided", "not applicable", "#n/a", "n/d", "vacant", "redacted", "withheld"}

# Words that name an organisation, not a person. A value holding one is not a person's name.
_ORGANISATION_WORDS = frozenset(
    """inc incorporated llc llp lp ltd limited corp corporation co company companies group
    holdings systems services solutions partners associates industries enterprises technologies
    international bank university college school academy hospital clinic foundation council
    department faculty agency union local contractors construction builders building electric
    electrical mechanical plumbing logistics consulting consultants labs laboratories studio
    studios media foods farms motors gmbh ag plc bv pty trust fund capital insurance healthcare
    medical pharmacy restaurant hotel store stores supply supplies transport trucking energy
    utilities
    communications networks software digital global america usa national federal county district
    office ministry church authority association society institute center centre club
    manufacturing products works sons brothers""".split()
)
_NAME_TOKEN = re.compile(r"^[^\W\d_]+(?:['\u2019.\-][^\W\d_]*)*\.?$")
_ISO_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_NUMERIC_DATE = re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
_PHONE_SEPARATORS = re.compile(r"[\s().+\-/]")
# Excel serial days from 1950-01-01 to 2099-12-31: numeric cells of a date column.
_SERIAL_DAYS = (18264, 73050)

_MDY = make_date_normalizer("mdy")
_DMY = make_date_normalizer("dmy")
_PHONE = make_phone_normalizer(None)


def is_placeholder_value(value: Cell) -> bool:
    """An empty cell or a filler such as "N/A" that says nothing about the column's type."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip().strip("'\"").lower()  # "'N/D'" as some exports quote it
        return not text or text in _PLACEHOLDER_VALUES
    return False


def _passes(normalize: Callable[[Cell], Cell], value: Cell) -> bool:
    try:
        normalize(value)
    except InvalidValue:
        return False
    return True


def _is_email(value: Cell) -> bool:
    return isinstance(value, str) and "@" in value and _passes(normalize_email, value)


def _is_date(value: Cell) -> bool:
    if isinstance(value, dt.date | dt.datetime):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return _SERIAL_DAYS[0] <= value <= _SERIAL_DAYS[1]
    if not isinstance(value, str) or not any(ch.isdigit() for ch in value):
        return False
    return _passes(_MDY, value) or _passes(_DMY, value)


def is_date_value(value: Cell) -> bool:
    """A date cell or a text any date normalizer reads ("02 Jun 2022", "2021-05-03")."""
    return _is_date(value)


def _is_number(value: Cell) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return (
        isinstance(value, str) and not _looks_like_date(value) and _passes(normalize_number, value)
    )


def _is_integer(value: Cell) -> bool:
    if isinstance(value, bool):
        return False
    return not (isinstance(value, str) and _looks_like_date(value)) and _passes(
        normalize_integer, value
    )


def _looks_like_date(text: str) -> bool:
    stripped = text.strip()
    return bool(_ISO_DATE.match(stripped) or _NUMERIC_DATE.match(stripped))


def _is_phone(value: Cell) -> bool:
    if isinstance(value, bool | dt.date | dt.time | dt.timedelta):
        return False
    if isinstance(value, float):
        if not value.is_integer():
            return False
        value = int(value)
    text = str(value).strip()
    if _looks_like_date(text) or not _passes(_PHONE, text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    # A bare run of 7-9 digits is as likely an ID as a phone number: it needs separators.
    return digits >= 10 or bool(_PHONE_SEPARATORS.search(text)) or text.lower().startswith("+")


_BARE_DIGITS = re.compile(r"^\d{7,9}$")


def is_bare_phone_digits(value: Cell) -> bool:
    """A run of 7 to 9 digits without separators: a national phone number written without its
    trunk 0 or spacing ("340000001", a Malagasy or French mobile) or a local one. As likely an
    ID as a phone by itself (`_is_phone` refuses it); under a header that is a phone spelling,
    a phone."""
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        return False
    if isinstance(value, float | int):
        value = str(int(value))
    return isinstance(value, str) and bool(_BARE_DIGITS.match(value.strip()))


def _name_tokens(value: Cell, *, allow_comma: bool) -> list[str] | None:
    if not isinstance(value, str) or "@" in value or len(value) > 80:
        return None
    text = value.strip()
    if "," in text and not allow_comma:
        return None
    tokens = text.replace(",", " ").split()
    if not tokens or not all(_NAME_TOKEN.match(token) for token in tokens):
        return None
    if any(token.lower().strip(".") in _ORGANISATION_WORDS for token in tokens):
        return None
    return tokens


_NUMBERED_NAME = re.compile(r"^[^\W\d_]{3,}\d{1,3}$")
"""A placeholder for a name in sample and anonymised data: a name word and its sequence number
("DOE01", "Jane02", "Student12")."""


def _is_name(value: Cell) -> bool:
    if isinstance(value, str) and _NUMBERED_NAME.match(value.strip()):
        return True
    tokens = _name_tokens(value, allow_comma=False)
    return tokens is not None and len(tokens) <= 4


def _unspaced_name(token: str) -> bool:
    """Chinese, Japanese and Korean names are written without a space: "张三", "陳俞融", "김민수".
    (No regex: compiling a class of 40,000 ideographs and syllables costs every process ~10 ms
    at start-up.)"""
    return 2 <= len(token) <= 5 and all(
        "\u3400" <= ch <= "\u4dbf"
        or "\u4e00" <= ch <= "\u9fff"
        or "\uac00" <= ch <= "\ud7a3"
        or "\u30a0" <= ch <= "\u30ff"
        for ch in token
    )


_ONE_NAME_SCRIPT = re.compile(r"^[\u0590-\u05FF\u0600-\u06FF]{2,}$")
"""Hebrew and Arabic lists often name a person by one name ("فرح"); these scripts have no
capital letters, so a given name alone cannot be told from a whole one by its writing."""


def _is_full_name(value: Cell) -> bool:
    if isinstance(value, str):
        # "Allison, Mrs. Hudson J C (Bessie Waldo Daniels)", "45 Therien, Lex"
        value = without_list_number(without_annotations(value))
    tokens = _name_tokens(value, allow_comma=True)
    if tokens is None:
        return False
    if isinstance(value, str) and value.count(",") == 1:
        return len(tokens) >= 2  # "Last, First"
    if len(tokens) == 1:
        return _unspaced_name(tokens[0]) or bool(_ONE_NAME_SCRIPT.match(tokens[0]))
    return len(tokens) <= 6


_JOINERS = re.compile(r"[/&,+]|\band\b", re.IGNORECASE)


def _title_words(value: Cell) -> list[str] | None:
    """The words of a short title or suffix cell, joiners ("&", "/", "and", ",") dropped."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    words = _JOINERS.sub(" ", value).split()
    return words if 1 <= len(words) <= 3 else None


def is_honorific(value: Cell) -> bool:
    """A courtesy title, with or without its dot: "Mr.", "Mrs", "Dr", "Herr", "Mme", "Mr. & Mrs.".

    Titles that are also names ("Major", "Lady", "Don") count here: a column of them is a column
    of titles. Inside a full name they are decided by position (`normalize.split_full_name`)."""
    words = _title_words(value)
    return words is not None and all(bare(word) in PREFIX_WORDS for word in words)


def is_name_suffix(value: Cell) -> bool:
    """A name suffix: "Jr.", "III", "PhD", "MD, PhD"."""
    words = _title_words(value)
    return words is not None and all(bare(word) in SUFFIXES for word in words)


_DEGREE_WORDS = frozenset(
    "dipl mag ing msc bsc mba phd dphil llm llb jd habil lic dr rer nat med phil jur".split()
)
_ABBREVIATION = re.compile(r"^[^\W\d_]{1,7}\.?$")


def is_academic_title(value: Cell) -> bool:
    """A courtesy title or an academic degree written as abbreviations ("Dr.", "M.Sc.",
    "Dipl.-Ing.", "Dipl. Päd.", "Prof. Dr."): a German "Titel" column, not a job title."""
    if is_honorific(value) or is_name_suffix(value):
        return True
    if not isinstance(value, str) or "." not in value or len(value) > 30:
        return False
    pieces = [p for p in re.split(r"[\s.\-]+", value) if p]
    if not pieces or len(pieces) > 4 or not all(_ABBREVIATION.match(p) for p in pieces):
        return False
    # "Dipl. Päd.", "Dr. rer. nat.", "M.Sc.": a degree word first, or letters only ("M.A.");
    # "Asst. Prof." or "Mgr." is an abbreviated job title.
    return pieces[0].lower() in _DEGREE_WORDS or all(len(p) <= 2 for p in pieces)


def is_organisation(value: Cell) -> bool:
    """A company, school or agency name: it holds an organisation word or an ampersand."""
    if not isinstance(value, str) or "@" in value:
        return False
    words = value.replace(",", " ").replace("&", " & ").split()
    if len(words) < 2:
        return False  # "USA", "Denver": a country or a city, not a company's name
    return "&" in words or any(w.lower().strip(".") in _ORGANISATION_WORDS for w in words)


_CODE = re.compile(r"^(?=[^\s]*[\d_])[A-Za-z0-9_\-./]{1,16}$")


def is_code(value: Cell) -> bool:
    """A key rather than a name: a number, or one token holding a digit or an underscore
    ("D006", "IT_PROG", "4410"). "HR", "CEO" and "Sales" are names; so is "Engineer II"."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_CODE.match(value.strip()))


LABEL_WORDS = 8
"""At most this many words make a label ("Parking Enforcement - P5 Squad"); a text of duties
("Plans and coordinates the unit's budget and staffing") is longer, or ends as a sentence."""


def is_label(value: Cell) -> bool:
    """A short name of a thing (a unit, a job), not prose: text of at most LABEL_WORDS words,
    and not a sentence of four or more words ending in ".", "!" or "?"."""
    if not isinstance(value, str):
        return False
    words = value.split()
    if not words or len(words) > LABEL_WORDS:
        return False
    return not (len(words) >= 4 and value.rstrip()[-1] in ".!?")


def _is_anything(_: Cell) -> bool:
    return True


PROFILES: dict[str, Callable[[Cell], bool]] = {
    "text": _is_anything,
    "email": _is_email,
    "phone": _is_phone,
    "date": _is_date,
    "number": _is_number,
    "integer": _is_integer,
    "name": _is_name,
    "full_name": _is_full_name,
    "name_prefix": is_honorific,
    "name_suffix": is_name_suffix,
}

# Types whose values are unmistakable enough to map a column with no usable header.
DISTINCTIVE_TYPES = ("email", "phone")


@dataclass(frozen=True)
class ValueEvidence:
    """How many of a column's sampled values fit one field type."""

    type: str
    matched: int
    sample: int

    @property
    def share(self) -> float:
        return self.matched / self.sample if self.sample else 0.0

    @property
    def conclusive(self) -> bool:
        return self.sample >= MIN_EVIDENCE or (self.sample >= 2 and self.matched == 0)

    def as_dict(self) -> dict[str, object]:
        return {"type": self.type, "matched": round(self.share, 3), "sample": self.sample}


def evidence(values: Sequence[Cell], field_type: str) -> ValueEvidence:
    """The share of `values` (a column's sample, placeholders already removed) fitting the type."""
    fits = PROFILES[field_type]
    return ValueEvidence(field_type, sum(1 for value in values if fits(value)), len(values))


def column_samples(rows: Sequence[Sequence[Cell]], width: int) -> list[list[Cell]]:
    """Up to SAMPLE_VALUES meaningful values per column, in row order."""
    samples: list[list[Cell]] = [[] for _ in range(width)]
    for row in rows:
        for column, value in enumerate(row[:width]):
            if not is_placeholder_value(value) and len(samples[column]) < SAMPLE_VALUES:
                samples[column].append(value)
    return samples
