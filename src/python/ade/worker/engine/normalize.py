"""Value normalizers: one function per field type, each idempotent.

Each takes a raw cell and returns the normalized value, None for an empty cell, or raises
InvalidValue with a short message (the pipeline turns that into an issue and keeps the raw text
in the output, so nothing is lost). Raising, not returning a marker, keeps the common path free
of per-cell checks.

Decisions worth knowing:
  - Dates come out as ISO 8601 dates ("2024-03-05"); a time written with a date (ISO with "T"
    or a space, "5/12/1994 1:17 PM", a serial's fraction, a datetime cell) is dropped, and when
    it was not midnight the table summary counts it ("times_dropped"). Excel serial numbers
    (numeric cells) use the 1900 date system. Numeric "a/b/yyyy" dates follow the column's
    day/month order, which the pipeline infers from the column (a value with a part above 12
    is evidence) and otherwise takes from the configuration; a value impossible in that order
    is an issue rather than silently read the other way. Dotted dates ("05.03.2024") are
    always day-first. Two-digit years follow POSIX: 69-99 -> 19xx, else 20xx.
  - Numbers: currency symbols and spaces are dropped; "(12)" and "12-" are negative; with both
    "," and "." present the last one is the decimal mark; a lone "," followed by exactly three
    digits groups thousands ("1,234"), otherwise it is a decimal comma ("3,5"); "%" divides by 100.
  - Names: words written all in capitals or all in lower case are re-cased ("Patel, ALEX" ->
    "Alex Patel"); words in mixed case are taken as intentional ("McDonald", "DeVito", "van
    Dyk" stay as written), and so are two-letter capitals (initials). Re-casing keeps particles
    (van, de, von...) lower-case unless first, capitalizes after "Mc" and after a one-letter
    prefix with an apostrophe ("O'Neil", "D'Angelo"), and each part of a hyphenated name. "Mac" is
    left alone ("Mack", "Macy" and "Machado" are not "MacK", "MacY", "MacHado").
  - Full names keep every word of the cell (a courtesy title, a suffix, a "(maiden name)" or
    "nickname"); splitting one keeps the title ("Mr.", "Dr", "Herr") and suffixes ("Jr.",
    "PhD") apart and drops bracketed and quoted parts, so first/middle/last are only names.
    Titles that are also names ("Don", "Major", "Lady") are decided by position and dot, "Sr" by
    position (Señor before a name, Senior after it); see `split_full_name`.
  - Phones: "+" and digits only, an extension as ";ext=123"; 10 digits without "+" get the
    configured default country code when there is one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from ade.worker.engine.cells import Cell

Normalizer = Callable[[Cell], Cell]

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


class InvalidValue(ValueError):
    """A value that is not of its field's declared type."""


# --------------------------------------------------------------------------------- text


def normalize_text(value: Cell) -> Cell:
    """Trim and collapse whitespace; numbers and dates as text; drop control characters."""
    if isinstance(value, str):
        if not value.isprintable():  # tabs and newlines land here too; control codes go
            value = _ILLEGAL.sub("", value)
        return " ".join(value.split()) or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return iso_date(value) if not isinstance(value, dt.time) else value.isoformat()
    return str(value)


def keep_value(value: Cell) -> Cell:
    """An unmapped column's cell as written: text untouched (only control characters, which
    neither XML nor most tools accept, are dropped), whole floats as integers (a spreadsheet's
    30.0 is "30"), dates and times in ISO 8601 like mapped dates."""
    if isinstance(value, str):
        return value if value.isprintable() else _ILLEGAL.sub("", value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dt.datetime | dt.date):
        return iso_date(value)
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def _as_text(value: Cell) -> str | None:
    text = normalize_text(value)
    return text if isinstance(text, str) else None


# -------------------------------------------------------------------------------- email

_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]{2,}$")
_ANGLE = re.compile(r"<([^<>]+)>")


def normalize_email(value: Cell) -> Cell:
    text = _as_text(value)
    if text is None:
        return None
    text = text.lower()
    if "<" in text:
        found = _ANGLE.search(text)
        if found:
            text = found.group(1).strip()
    if text.startswith("mailto:"):
        text = text[7:]
    text = text.replace(" ", "")
    if not _EMAIL.match(text):
        raise InvalidValue("not an email address")
    return text


# -------------------------------------------------------------------------------- dates

# A time of day after a date: "13:17", "1:17:12.5 PM", "13:17Z", "13:17:12+02:00", ", 12:23 PM".
# Date fields hold the date only (see `make_date_normalizer`); the time is parsed so that a
# malformed one is still an error and a dropped one that was not midnight can be counted.
_CLOCK = (
    r"(?:(?:,? +|T)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp]\.?[Mm]\.?)?"
    r"(?:\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?)?$"
)
_ISO = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})" + _CLOCK)
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})" + _CLOCK)
_DAY_MONTH_NAME = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th)?[ -]([A-Za-z]{3,9})\.?,?[ -](\d{4}|\d{2})" + _CLOCK
)
_MONTH_NAME_DAY = re.compile(r"^([A-Za-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})" + _CLOCK)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_WEEKDAY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,? ", re.IGNORECASE)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def iso_date(value: dt.datetime | dt.date) -> str:
    """ISO 8601, with the time only when there is one: how a text or unmapped cell shows a
    spreadsheet's date or datetime."""
    if isinstance(value, dt.datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.replace(microsecond=0, tzinfo=None).isoformat()
    return value.isoformat()


class DateWithoutTime(str):
    """A date field's value whose source also held a time of day other than midnight, dropped.

    It is a plain string to every consumer (and the memo caches it like any other result, so
    a repeated value still says it); the row processor counts these per field for the table
    summary and hands the writers an ordinary str. A time is not worth an issue per cell: the
    date is right, and an export that stamps times on dates does so on every row.
    """

    __slots__ = ()


def _date_result(day: dt.date, has_time: bool) -> str:
    text = day.isoformat()
    return DateWithoutTime(text) if has_time else text


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 1900 if year >= 69 else 2000
    return year


def _has_time(hh: str | None, mm: str | None, ss: str | None, ampm: str | None) -> bool:
    """Whether a parsed time of day is other than midnight (InvalidValue if it is no time)."""
    if hh is None:
        return False
    hour, minute, second = int(hh), int(mm or 0), int(ss or 0)
    if ampm:
        if not 1 <= hour <= 12:
            raise InvalidValue("not a valid time")
        hour = hour % 12 + (12 if ampm[0] in "Pp" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidValue("not a valid time")
    return bool(hour or minute or second)


def _build(year: int, month: int, day: int, has_time: bool = False) -> str:
    try:
        return _date_result(dt.date(year, month, day), has_time)
    except ValueError:
        raise InvalidValue("not a valid date") from None


def day_month_evidence(value: Cell) -> str | None:
    """'dmy' or 'mdy' if this value settles the day/month order by itself, else None."""
    if not isinstance(value, str):
        return None
    match = _NUMERIC_DATE.match(value.strip())
    if not match or match.group(2) == ".":
        return None
    first, second = int(match.group(1)), int(match.group(3))
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return None


def make_date_normalizer(order: str) -> Normalizer:
    """A date normalizer that reads numeric "a/b/yyyy" dates in the given day/month order.

    A date field holds the date: a time of day written with it ("1994-05-12T13:17:12",
    "5/12/1994 1:17 PM", an Excel serial's fraction, a spreadsheet's datetime cell) is dropped.
    A date with a time zone keeps the calendar day as written, not the day in UTC: that is the
    day a person reading the export sees. A time other than midnight comes back marked (see
    `DateWithoutTime`) so the table summary can say how many were dropped.
    """
    day_first = order == "dmy"

    def normalize_date(value: Cell) -> Cell:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return _date_result(value.date(), value.time() != dt.time())
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            raise InvalidValue("not a date")
        if isinstance(value, int | float):
            return _excel_serial(value)
        if not isinstance(value, str):
            raise InvalidValue("not a date")
        text = " ".join(value.split())
        if not text:
            return None
        if len(text) >= 10 and text[4] == "-" and text[7] == "-":
            try:  # ISO, with or without a time: the common case, parsed in C
                if len(text) == 10:
                    return dt.date.fromisoformat(text).isoformat()
                moment = dt.datetime.fromisoformat(text)
                return _date_result(moment.date(), moment.time() != dt.time())
            except ValueError:
                pass
        if not text[0].isdigit():
            text = _WEEKDAY.sub("", text)
        match = _NUMERIC_DATE.match(text)
        if match:
            a, sep, b, y, *clock = match.groups()
            first, second = int(a), int(b)
            day, month = (first, second) if day_first or sep == "." else (second, first)
            if month > 12 and day <= 12:
                order_used = "day-first" if (day_first or sep == ".") else "month-first"
                raise InvalidValue(f"day and month do not fit this column's {order_used} dates")
            return _build(_year(y), month, day, _has_time(*clock))
        match = _ISO.match(text)
        if match:
            y, m, d, *clock = match.groups()
            return _build(int(y), int(m), int(d), _has_time(*clock))
        match = _DAY_MONTH_NAME.match(text)
        if match:
            d, name, y, *clock = match.groups()
            return _build(_year(y), _month(name), int(d), _has_time(*clock))
        match = _MONTH_NAME_DAY.match(text)
        if match:
            name, d, y, *clock = match.groups()
            return _build(int(y), _month(name), int(d), _has_time(*clock))
        match = _COMPACT.match(text)
        if match:
            return _build(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        raise InvalidValue("not a recognized date")

    return normalize_date


def _month(name: str) -> int:
    month = _MONTHS.get(name.lower())
    if month is None:
        raise InvalidValue("not a recognized date")
    return month


def _excel_serial(serial: float) -> str:
    """The date of an Excel serial (1900 system); a fraction is a time of day, dropped. It is
    rounded to the second first, so 0.9999999 of a day is the next midnight, not a time."""
    if not 1 <= serial < 2958466:
        raise InvalidValue("number out of range for a date")
    if 60 <= serial < 61:
        raise InvalidValue("Excel's non-existent 1900-02-29")
    epoch = _EXCEL_EPOCH if serial >= 61 else dt.date(1899, 12, 31)
    days = int(serial)
    seconds = round((serial - days) * 86400)
    moment = dt.datetime.combine(epoch, dt.time()) + dt.timedelta(days=days, seconds=seconds)
    return _date_result(moment.date(), moment.time() != dt.time())


# ------------------------------------------------------------------------------ numbers

_CURRENCY = re.compile(r"[$€£¥₹₩₽¢\s\u00a0\u202f']|\b(?:usd|eur|gbp|chf|cad|aud)\b", re.I)
_US_NUMBER = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^\d+\.\d+$")
_PLAIN_NUMBER = re.compile(r"^\d+(\.\d+)?([eE][+-]?\d+)?$")


def normalize_number(value: Cell) -> Cell:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidValue("not a number")
    if isinstance(value, int | float):
        return value
    if not isinstance(value, str):
        raise InvalidValue("not a number")
    text = value.strip()
    if not text:
        return None
    if text.isdigit() and text.isascii():
        return int(text)
    if _US_NUMBER.match(text):  # "1,234.50": the common case without the general parsing
        plain = text.replace(",", "")
        return float(plain) if "." in plain else int(plain)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    text = _CURRENCY.sub("", text)
    if text.endswith("-"):
        negative, text = not negative, text[:-1]
    if text.startswith(("-", "+")):
        negative, text = (not negative if text[0] == "-" else negative), text[1:]
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    text = _decimal_point(text)
    if not _PLAIN_NUMBER.match(text):
        raise InvalidValue("not a number")
    number: int | float = float(text) if ("." in text or "e" in text.lower()) else int(text)
    if percent:
        number = number / 100
    return -number if negative else number


def _decimal_point(text: str) -> str:
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            return text.replace(".", "").replace(",", ".")
        return text.replace(",", "")
    if "," in text:
        if re.fullmatch(r"\d{1,3}(,\d{3})+", text):
            return text.replace(",", "")
        if text.count(",") == 1:
            return text.replace(",", ".")
    if text.count(".") > 1 and re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        return text.replace(".", "")  # "1.234.567": dots grouping thousands
    return text


def normalize_integer(value: Cell) -> Cell:
    number = normalize_number(value)
    if number is None:
        return None
    if isinstance(number, float):
        if not number.is_integer():
            raise InvalidValue("not a whole number")
        return int(number)
    return number


# ------------------------------------------------------------------------------- phones

_EXTENSION = re.compile(r"(?:;ext=|\s*(?:ext\.?|extension|x|#)\s*)(\d{1,6})\s*$", re.I)
_NOT_DIGIT = re.compile(r"\D")
_PHONE_CHARS = re.compile(r"^[\d\s().+\-/]+$")


def nanp_evidence(value: Cell) -> str | None:
    """What a phone cell says of its column's country: "nanp" for an international number of
    the North American plan (+1 and ten digits, "+1 555 201 4410"), "other" for any other
    international number, None for a national number or no phone. A column whose international
    numbers are all +1 writes its ten-digit national numbers as +1 too: one form a column."""
    if not isinstance(value, str) or not _PHONE_CHARS.match(value):
        return None
    text = value.lstrip()
    digits = _NOT_DIGIT.sub("", text)
    if text.startswith("+"):
        pass
    elif digits.startswith("00"):
        digits = digits[2:]
    else:
        return None
    return "nanp" if len(digits) == 11 and digits[0] == "1" else "other"


def make_phone_normalizer(country_code: str | None) -> Normalizer:
    def normalize_phone(value: Cell) -> Cell:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = _as_text(value)
        if text is None:
            return None
        extension = ""
        if not _PHONE_CHARS.match(text):  # only then can there be an extension to cut off
            match = _EXTENSION.search(text)
            if match:
                extension = f";ext={match.group(1)}"
                text = text[: match.start()]
            if not _PHONE_CHARS.match(text):
                raise InvalidValue("not a phone number")
        digits = _NOT_DIGIT.sub("", text)
        # "+" or a leading "00" (however the digits are spaced or punctuated) dials abroad.
        # Deciding on the digits, not the text, keeps the result stable: "0.000000" must not
        # become a national "0000000" that reads as international the second time round.
        international = text.lstrip().startswith("+") or digits.startswith("00")
        if international:
            if not text.lstrip().startswith("+"):
                digits = digits[2:]
            if not 8 <= len(digits) <= 15 or digits.startswith("0"):  # no country code has 0
                raise InvalidValue("not a phone number (wrong number of digits)")
            return f"+{digits}{extension}"
        if country_code and len(digits) == 10:
            return f"+{country_code}{digits}{extension}"
        if country_code == "1" and len(digits) == 11 and digits[0] == "1":
            return f"+{digits}{extension}"
        if not 7 <= len(digits) <= 15:
            raise InvalidValue("not a phone number (wrong number of digits)")
        return f"{digits}{extension}"

    return normalize_phone


# -------------------------------------------------------------------------------- names

PARTICLES = frozenset(
    "van von der den de del della di da das dos du la le ter ten bin ibn al el".split()
)
SUFFIXES = {
    "jr": "Jr.",
    "jnr": "Jnr",
    "sr": "Sr.",
    "snr": "Snr",
    "ii": "II",
    "iii": "III",
    "iv": "IV",
    "v": "V",
    "2nd": "2nd",
    "3rd": "3rd",
    "phd": "PhD",
    "md": "MD",
    "dds": "DDS",
    "dmd": "DMD",
    "dvm": "DVM",
    "esq": "Esq.",
    "cpa": "CPA",
    "mba": "MBA",
    "rn": "RN",
}
"""Name suffixes (generations, degrees, post-nominals) by `bare` spelling, in name casing.
Left out on purpose: "JD" and "DO", which are as often initials or a surname ("Do")."""

HONORIFICS = frozenset(
    """mr mrs ms miss mx mstr messrs dr drs rev revd fr prof sir mme mlle herr frau frl fraulein
    fräulein sr sra srta doña dña capt cpt col lt sgt cpl maj hon rabbi imam count countess
    baroness jonkheer mister missus madam madame mademoiselle monsieur senor señor senora señora
    senorita señorita doctor professor reverend captain colonel lieutenant sergeant""".split()
)
"""Courtesy titles that are nobody's given name or surname: a prefix wherever a name starts."""

TITLES_OR_NAMES = frozenset("master major lady lord dame baron pastor sheikh".split())
"""Titles that are also names ("Major Taylor", "Ann Lord", "Ali Sheikh"): a prefix only when
written with a dot ("Maj.", "Master.") or followed by at least two more words ("Master Eugene
Rice", not "Lady Gaga")."""

DOTTED_TITLES = frozenset("don dona gen".split())
"""Titles that are common given names ("Don Alan Johnson", "Gen Suzuki"): a prefix only when
written with a dot, as in "Don. Manuel Uruchurtu"."""

PREFIX_WORDS = HONORIFICS | TITLES_OR_NAMES | DOTTED_TITLES | {"m"}
"""Every courtesy title a column of them may hold. "M." (Monsieur) is one in such a column, but
never inside a name, where it cannot be told from an initial ("M. Smith")."""

# Parts of a name cell that are no first, middle or last name: a parenthesised or bracketed
# remark ("(Florence Briggs Thayer)", "(she/her)") and a quoted nickname ("Bob", 'Bob', “Bob”).
_ANNOTATION = re.compile(
    r"\([^()]*\)|\[[^\[\]]*\]|\"[^\"]*\"|“[^”]*”|„[^“”]*[“”]|«[^»]*»|(?<!\w)'[^'\s][^']*'(?!\w)"
)
_MAY_ANNOTATE = re.compile("[\\[(\"“„«]|(?<!\\w)'")
_TRAILING_REMARK = re.compile(r"\s*(\([^()]*\))$")
_OPENERS = "(\"'“\u2018„«["
_CLOSERS = ")\"'”\u2019»],"


def without_annotations(text: str) -> str:
    """`text` without bracketed remarks and quoted nicknames, which are no part of a name."""
    if _MAY_ANNOTATE.search(text):
        return " ".join(_ANNOTATION.sub(" ", text).split())
    return text


def bare(token: str) -> str:
    """A title or suffix as compared: lower case, without dots or a trailing comma ("Ph.D.,"
    -> "phd", "Mr." -> "mr")."""
    return token.lower().replace(".", "").rstrip(",")


def _is_suffix(token: str) -> bool:
    low = token.lower()  # a set look-up first: most tokens are plain names, checked in C
    return low in SUFFIXES or ("." in low or "," in low) and bare(low) in SUFFIXES


def _all_suffixes(part: str) -> bool:
    """A comma-separated part that is only suffixes ("Jr.", "MD PhD"), but not a lone letter
    ("Smith, V" is an initial more often than the fifth)."""
    tokens = part.split()
    if not tokens or not _is_suffix(tokens[0]):
        return False  # most given names: one look-up
    if len(tokens) == 1:
        return len(part.strip(" .,")) > 1
    return all(_is_suffix(token) for token in tokens[1:])


def _is_prefix(token: str, following: int) -> bool:
    """Is `token`, followed by `following` more words, a courtesy title starting a name?"""
    key = token.lower()
    if "." in key:
        key = key.replace(".", "")
    if key not in PREFIX_WORDS:
        return False  # most first words: one set look-up
    dotted = token.endswith(".")
    if len(key) <= 2 and token.isupper() and not dotted:
        return False  # "MS Dhoni", "DR Horton": two capitals are initials (see _recase_shouting)
    if key in HONORIFICS:
        return True
    if key in TITLES_OR_NAMES:
        return dotted or following >= 2
    return key in DOTTED_TITLES and dotted


def _written_forms(words: frozenset[str] | set[str]) -> frozenset[str]:
    """The ways a title or suffix word is written as a name's first or last word: lower,
    Title or UPPER case, with or without a dot or a trailing comma ("mr", "Mr.", "MR,")."""
    forms: set[str] = set()
    for word in words:
        for cased in {word, word.lower(), word.title(), word.upper(), word.capitalize()}:
            forms.update((cased, cased + ".", cased + ",", cased + ".,"))
    return frozenset(forms)


def may_hold_title(full: str) -> bool:
    """A cheap test: could this normalized full name start with a prefix or end with a suffix?
    (The row processor asks before splitting a name whose first and last are already filled:
    once a row, so two set look-ups, no string work. Dotted forms inside a word, "Ph.D.", fall
    back to the exact test.)"""
    head, _, rest = full.partition(" ")
    if not rest:
        return False
    tail = rest.rpartition(" ")[2]
    if head in _PREFIX_FORMS or tail in _SUFFIX_FORMS:
        return True
    return "." in tail and tail.count(".") > 1 and _is_suffix(tail)  # "in": no call


_PREFIX_FORMS = _written_forms(PREFIX_WORDS)
_SUFFIX_FORMS = _written_forms(set(SUFFIXES) | {form.rstrip(".") for form in SUFFIXES.values()})


def _capitalize_part(part: str) -> str:
    if not part:
        return part
    if "'" in part or "\u2019" in part:
        quote = "'" if "'" in part else "\u2019"
        head, _, tail = part.partition(quote)
        if len(head) == 1 and tail:
            return head.title() + quote + _capitalize_part(tail)
        return head[:1].title() + head[1:] + quote + tail  # "james's" -> "James's"
    if part.startswith("mc") and len(part) > 2:
        return "Mc" + part[2].title() + part[3:]
    # title(), not upper(): "ß".upper() is "SS", which would read as all-caps next time.
    return part[0].title() + part[1:]


def _recase_word(word: str, position: int) -> str:
    """One lower-cased word in name casing ("o'neil" -> "O'Neil", "iii" -> "III"); brackets and
    quotes around it stay ("(florence" -> "(Florence", '"bob"' -> '"Bob"')."""
    if not word.isalpha() and (word[:1] in _OPENERS or word[-1:] in _CLOSERS):
        core = word.lstrip(_OPENERS).rstrip(_CLOSERS)
        if core and core != word:
            start = word.index(core)
            return word[:start] + _recase_word(core, position) + word[start + len(core) :]
    if position > 0:
        if word in PARTICLES:
            return word
        key = word.strip(".")
        if key in SUFFIXES or "." in key and (key := key.replace(".", "")) in SUFFIXES:
            return SUFFIXES[key]
    if "-" not in word:
        return _capitalize_part(word)
    return "-".join([_capitalize_part(piece) for piece in word.split("-")])


def _recase(text: str) -> str:
    """Name casing for a name written all in capitals or all in lower case."""
    return " ".join(_recase_word(w, i) for i, w in enumerate(text.lower().split(" ")))


def _recase_shouting(text: str) -> str:
    """Recase the words of a mixed-case name that are written all in capitals or all in lower
    case ("Patel, ALEX", "jan van der Berg"); words in mixed case are taken as intentional
    ("McDonald", "DeVito"). Two-letter capitals stay: initials ("JD") and short surnames
    ("LI") cannot be told apart; a title with its dot ("MR.") is no initials and is recased.
    Lower-case particles and bracketed remarks ("(she/her)") stay lower-case wherever they
    stand."""
    words = text.split(" ")
    for position, word in enumerate(words):
        if word.istitle():
            continue  # "Ana", "O'Brien", "Smith-Jones": already name case
        if word.islower():
            if word not in PARTICLES and word[0] not in "([":  # "(she/her)" is meant so
                words[position] = _recase_word(word, position)
        elif word.isupper():
            lower = word.lower()
            if (
                position
                and (lower in PARTICLES or _is_suffix(lower))
                or sum(ch.isalpha() for ch in word) > 2
                or (word.endswith(".") and bare(word) in PREFIX_WORDS)
            ):
                words[position] = _recase_word(lower, position)
    return " ".join(words)


def _cased(text: str) -> str:
    if text.istitle():
        return text  # "Ana García", "O'Brien", "Smith-Jones": the common case, checked in C
    if text.isupper() or text.islower():
        return _recase(text)
    return _recase_shouting(text)


def normalize_name(value: Cell) -> Cell:
    """One name part (first, middle or last): whitespace, and casing of shouting or lower-case
    words (see `_recase_shouting`)."""
    text = _as_text(value)
    if text is None:
        return None
    return _cased(text)


def normalize_name_prefix(value: Cell) -> Cell:
    """A courtesy title as written ("Mr.", "Dr", "Herr"), re-cased like a name when shouted.

    Any short text without digits or "@" is accepted: no list of titles is complete ("His
    Excellency", "Rt Hon"), and a column is only mapped here when its values are mostly known
    titles (`value_profiles.is_honorific`)."""
    text = _as_text(value)
    if text is None:
        return None
    if "@" in text or any(ch.isdigit() for ch in text):
        raise InvalidValue("not a courtesy title")
    return _cased(text)


def normalize_name_suffix(value: Cell) -> Cell:
    """A name suffix as written ("Jr.", "III", "MD, PhD"); known suffixes written all in
    capitals or lower case get their usual casing ("JR" -> "Jr.", "PHD" -> "PhD")."""
    text = _as_text(value)
    if text is None:
        return None
    if "@" in text or not any(ch.isalpha() for ch in text):
        raise InvalidValue("not a name suffix")
    if not (text.isupper() or text.islower()):
        return text
    words = []
    for word in text.split(" "):
        comma = "," if word.endswith(",") else ""
        key = bare(word)
        words.append(SUFFIXES[key] + comma if key in SUFFIXES else _recase_word(word.lower(), 1))
    return " ".join(words)


def _top_level_commas(text: str) -> list[str]:
    """`text` split at its commas, except those inside brackets or quotes."""
    if "(" not in text and '"' not in text:
        return text.split(",")
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == '"':
            quoted = not quoted
        elif char == "," and not depth and not quoted:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _last_name_first(text: str) -> str:
    """ "Last, Given [Suffix][, Suffix...]" as "Given Last Suffix...", or `text` unchanged.

    A courtesy title leads the given names, so it leads the result ("Braund, Mr. Owen Harris" ->
    "Mr. Owen Harris Braund"); suffixes and a parenthesised remark at the end of the given names
    follow the last name ("Cumings, Mrs. John Bradley (Florence Briggs Thayer)" -> "Mrs. John
    Bradley Cumings (Florence Briggs Thayer)"). "First Last, MD" stays as written."""
    parts = _top_level_commas(text)
    rest: list[str] = []
    if len(parts) == 2:  # the common case, without the general checks' generators
        family, given = parts[0].strip(), parts[1].strip()
        if not family or not given:
            return text
        if _all_suffixes(given):
            return f"{family}, {given}"  # "Sanford D. Bishop, Jr." is written that way
    else:
        parts = [part.strip() for part in parts]
        if not all(parts):
            return text
        if all(_all_suffixes(part) for part in parts[1:]):
            return ", ".join(parts)
        family, given, rest = parts[0], parts[1], parts[2:]
        if not all(_all_suffixes(part) for part in rest):
            return text
    if given.endswith(")"):
        remark = _TRAILING_REMARK.search(given)
        if remark and remark.start() > 0:
            given, rest = given[: remark.start()], [*rest, remark.group(1)]
    words = given.split(" ")
    if len(words) == 1 or not _is_suffix(words[-1]):
        return " ".join([given, family, *rest]) if rest else f"{given} {family}"
    keep = len(words) - 1
    while keep > 1 and _is_suffix(words[keep - 1]):
        keep -= 1
    return " ".join([*words[:keep], family, *words[keep:], *rest])


def normalize_full_name(value: Cell) -> Cell:
    """A full name, "Last, First [Middle] [Suffix]" turned into "First [Middle] Last [Suffix]",
    and so is a family name written first in capitals ("DUPONT Jean" -> "Jean Dupont", see
    `surname_first`).

    The cell's words are all kept: a courtesy title, a suffix, a parenthesised remark (a maiden
    name, "(she/her)") or a quoted nickname is part of how the source names the person, and
    the full name is the one output column that can hold them as written. `split_full_name`
    keeps them out of the first, middle and last names. A leading shirt or list number ("45
    Therien, Lex", "#7 Ann Lee") is the roster's, not the name's: it is dropped."""
    text = _as_text(value)
    if text is None:
        return None
    if text[:1].isdigit() or text[:1] == "#":
        text = without_list_number(text)
    if "," in text:
        text = _last_name_first(text)
    else:
        split = surname_first(text)
        if split is not None:
            text = f"{split[1]} {split[0]}"
    return _cased(text)


def surname_first(text: str) -> tuple[str, str] | None:
    """(family, given) of a name written family name first in capitals, the given names in
    name case: the French and administrative convention ("DUPONT Jean", "RAKOTOBE Hery", "DE LA
    CRUZ Maria", "RAZAFY ANDRIAMANGA Fara"); None for any other name.

    The capitals must hold a word of three letters or more that is no title ("JD Smith", "MS
    Dhoni" are initials; "MRS Smith" a title), their short words must be particles, and every
    word after them must be in name case with one holding a small letter ("Andry Tiana L" is
    given names and an initial; "NASA JPL" is no name)."""
    if "," in text:
        return None
    words = text.split()
    run = 0
    while run < len(words) and words[run].isupper():
        run += 1
    if run == 0 or run == len(words):
        return None
    family, given = words[:run], words[run:]
    if not any(sum(ch.isalpha() for ch in word) > 2 for word in family):
        return None
    for word in family:
        if bare(word) in PREFIX_WORDS or _is_suffix(word):
            return None
        if sum(ch.isalpha() for ch in word) <= 2 and word.lower() not in PARTICLES:
            return None
    if not all(word.istitle() for word in given) or not any(
        any(ch.islower() for ch in word) for word in given
    ):
        return None
    if any(_is_suffix(word) for word in given):
        return None  # "JOHN SMITH Jr": a name in capitals and its suffix, not a given name
    return " ".join(family), " ".join(given)


_LIST_NUMBER = re.compile(r"^#?\d{1,3}\.?\s+(?=[^\W\d_])")


def without_list_number(text: str) -> str:
    """A name cell without the shirt or list number a roster writes before it ("45 Therien,
    Lex" -> "Therien, Lex"); other text as it is."""
    return _LIST_NUMBER.sub("", text, count=1)


NameParts = tuple[str | None, str | None, str | None, str | None, str | None]
"""A full name's (prefix, first, middle, last, suffix); prefix and suffix as written ("Mr.",
"Jr."). A plain tuple, not a NamedTuple: a split runs once a row, and building a NamedTuple
costs more than the rest of a two-word split."""


def family_of(cell: Cell) -> str | None:
    """The family name of a "Family Name, Given Names" cell when it has several words ("Abdul
    Aziz,Hajea A", "van der Berg, Jan"): the comma says where it ends, which the words of the
    normalized "Given Family" no longer do; so do the capitals of "DE LA CRUZ Maria". None
    otherwise (one word splits right anyway)."""
    if not isinstance(cell, str):
        return None
    if "," not in cell:
        # "RAZAFY ANDRIAMANGA Fara": the capitals say where the family name ends
        split = surname_first(cell.strip())
        return split[0] if split is not None and " " in split[0] else None
    family = without_list_number(cell.split(",", 1)[0].strip())
    if " " not in family or not cell.split(",", 1)[1].strip():
        return None
    family = without_annotations(family)
    return family if " " in family and not _all_suffixes(cell.split(",", 1)[1].strip()) else None


_PATRONYMIC = re.compile(r"(вич|вна|ична|инична|оглы|кызы)$", re.IGNORECASE)
"""Endings of East Slavic patronymics ("Витальевна", "Иванович") and their Turkic kin."""


def split_full_name(full: str, family: str | None = None) -> NameParts:
    """The parts of a normalized full name ("[Prefix] First [Middle] Last [Suffix]").

    Remarks in brackets and quoted nicknames are no part. Titles and suffixes are recognised by
    position: several may stand together ("Rev. Dr.", "MD PhD"); a suffix needs two words before
    it ("Smith Jr" stays a first and last name), a title one word after it, and a title that is
    also a name more (see TITLES_OR_NAMES). With a title, one remaining word is the last name
    ("Mr. Smith"); without, the first ("Madonna"). Particles stay with the last name."""
    # Plain ASCII names without brackets or quotes (most) skip the regular expressions.
    marked = "(" in full or "[" in full or '"' in full or " '" in full or not full.isascii()
    if (marked or full[:1] == "'") and _MAY_ANNOTATE.search(full):
        full = _ANNOTATION.sub(" ", full)
    tokens = (full.replace(",", " ") if "," in full else full).split()
    prefix: str | None = None
    suffix: str | None = None
    # The first look-up of each test is written out: a split runs once a row, and most names
    # have neither a suffix nor a title.
    if len(tokens) > 2 and ((low := tokens[-1].lower()) in SUFFIXES or _is_suffix(low)):
        end = len(tokens) - 1
        while end > 2 and _is_suffix(tokens[end - 1]):
            end -= 1
        suffix, tokens = " ".join(tokens[end:]), tokens[:end]
    if (
        len(tokens) > 1
        and tokens[0].lower().replace(".", "") in PREFIX_WORDS
        and _is_prefix(tokens[0], len(tokens) - 1)
    ):
        start = 1
        while start < len(tokens) - 1 and _is_prefix(tokens[start], len(tokens) - 1 - start):
            start += 1
        prefix, tokens = " ".join(tokens[:start]), tokens[start:]
    if len(tokens) <= 1:
        lone = tokens[0] if tokens else None
        if prefix:
            return (prefix, None, None, lone, suffix)
        return (None, lone, None, None, suffix)
    if family is not None:
        words = family.lower().split()
        if len(tokens) > len(words) and [t.lower() for t in tokens[-len(words) :]] == words:
            start = len(tokens) - len(words)
            middle = " ".join(tokens[1:start]) or None
            return (prefix, tokens[0], middle, " ".join(tokens[start:]), suffix)
    if len(tokens) == 3 and _PATRONYMIC.search(tokens[2]) and not _PATRONYMIC.search(tokens[1]):
        # "Громова Алина Витальевна": Russian writes family, given name, patronymic.
        return (prefix, tokens[1], tokens[2], tokens[0], suffix)
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1].lower() in PARTICLES:
        start -= 1
    middle = " ".join(tokens[1:start]) or None
    return (prefix, tokens[0], middle, " ".join(tokens[start:]), suffix)


def join_full_name(
    first: str | None, middle: str | None, last: str | None, suffix: str | None = None
) -> str | None:
    """The full name from its parts. The suffix is part of the name ("Martin Luther King Jr.");
    a courtesy title is not (it is how to address the person) and is never added."""
    parts = [p for p in (first, middle, last, suffix) if p]
    return " ".join(parts) or None


# A column's cache holds at most this many values, each at most this long: enough for the
# departments, statuses, names and dates that repeat down a real export, a few MiB per table.
MEMO_ENTRIES = 8192
MEMO_LONGEST = 128


class Memo(dict[Cell, Cell]):
    """A column's normalizer as a bounded cache: ``memo[cell]`` is ``normalize(cell)``.

    Exports repeat themselves down a column (departments, statuses, first names, dates), and
    every normalizer is a pure function of the cell, so a value seen before costs one dict
    look-up instead of a parse (pandas' `to_datetime(cache=True)` does the same). A dict with
    `__missing__` rather than a wrapper function: a value seen before is found by the dict's own
    subscript, in C, without a Python call, and this runs once a cell. Only text is kept: 1,
    1.0 and True are equal dict keys but normalize differently, so a number is looked up (never
    found) and normalized every time. A value that raises InvalidValue is not kept and raises
    again every time. Once the cache is full, new values are normalized without being kept, so
    a column of unique IDs costs one failed look-up a cell.
    """

    __slots__ = ("normalize",)

    def __init__(self, normalize: Normalizer) -> None:
        super().__init__()
        self.normalize = normalize

    def __missing__(self, value: Cell) -> Cell:
        result = self.normalize(value)
        if isinstance(value, str) and len(value) <= MEMO_LONGEST and len(self) < MEMO_ENTRIES:
            self[value] = result
        return result


def memoized(normalize: Normalizer) -> Normalizer:
    """`normalize` with a bounded cache of the text values it has already normalized (a
    :class:`Memo`'s look-up as a function)."""
    return Memo(normalize).__getitem__


def normalizer_for(
    field_type: str, *, date_order: str = "mdy", phone_country_code: str | None = None
) -> Normalizer:
    """The normalizer for a configuration field type."""
    if field_type == "date":
        return make_date_normalizer(date_order)
    if field_type == "phone":
        return make_phone_normalizer(phone_country_code)
    simple: dict[str, Normalizer] = {
        "text": normalize_text,
        "email": normalize_email,
        "number": normalize_number,
        "integer": normalize_integer,
        "name": normalize_name,
        "full_name": normalize_full_name,
        "name_prefix": normalize_name_prefix,
        "name_suffix": normalize_name_suffix,
    }
    return simple[field_type]
