"""Score one header against the configuration's field spellings, precision first.

Headers and spellings (a field's name, label and aliases) are compared as words
(`ade.db.configuration_spec.header_words`: case, accents and punctuation ignored, "#" and "No"
read as "number", "Dt" as "date"). A trailing qualifier in brackets ("Hire Date (MM/DD/YYYY)",
"Name (Last, First)") is set aside, and so are bare numbers ("Phone 2").

  - the same words: 1.0 for the field's name or label, 0.99 for an alias (so "Job Title" beats
    "Title" when an export has both), 0.02 less once a bracketed qualifier is set aside; the
    same letters once spaces are removed ("E Mail" vs "email"): 0.95;
  - all of the spelling's words in the header ("Work Email" vs "email"): 0.7 + 0.3 * spelling
    words / header words, + 0.05 when the spelling holds the header's last word;
  - the header's words all in a longer spelling ("Date" vs "hire date"): 0.5 + 0.3 * share,
    except that a spelling which only adds "Name" ("Contact" vs "Contact Name") scores 0.85.

A partial match must not decide on the wrong words, so it is only taken when:
  - the spelling holds the header's head noun: English puts it last ("Employee Email" is an
    e-mail; "Last Audit Date" is a date, not a last name; "First Shift Start" is not a first
    name). "Name", "ID" and "Number" are heads that only say which attribute of the word before
    them is meant, so "Department Name" is a department and "Badge Number" a badge;
  - every other word of the header only says whose or which value it is: the person the row
    describes ("Employee", "Member", "Student"...) or a plain qualifier ("Work", "Home",
    "Primary", "Legal"...). A word that names another party ("Vendor Name", "Guardian Email",
    "Approver Phone", "Emergency Contact Phone") makes the column that party's, reported as
    `other_party`; an organisation word ("Company Name") does so for name fields. Any other
    word ("Shift Start Date", "Benefit Start Date") changes the meaning in ways the engine
    cannot know, so the column is left unmapped and the word is named.

Typo tolerance works on single words and never turns one real word into another: a header word
of five or more letters matches a spelling word when one adjacent pair is swapped ("Emial"), one
letter is missing ("Adress") or doubled ("Emaill"), or a plural "s" is added. A substituted
letter is not a typo here: "Employer" is not "Employee". Each corrected word costs 10%.

A code is not the thing it codes: "Department ID", "DepartmentCode", "JOB_ID" and "Dept No" are
keys of a department or a job, so a text or name field (department, job_title) never takes them
(unless the field is itself an identifier: "Badge Number" is an employee ID). Distinctive types
check their own values ("Email ID" is an e-mail where the values are addresses). Whose ID it is
matters as much: "Organization ID" or "Company Number" is the organisation's, not the person's.

The same words in another order ("nameFirst", "name_last", as systems write compounds) score
0.93: below the spelling itself, above any partial match. The same words without the small
words that join a compound ("date_naissance" for "Date de naissance", "data_nascita" for "Data
di nascita", "DateBirth" for "Date of Birth"), which systems drop when a label becomes a column
name, score 0.95.

A description of a coded thing is its name: HR and ERP exports (PeopleSoft, SAP, city payrolls)
write a unit, department or job as a code and its readable label beside it, "Unit" / "Unit
Description", "DeptID" / "Dept Descr", "Job Code" / "Job Code Description". So "Description",
"Desc" and "Descr" after a text field's word (codes and the field's other one-word spellings
between them: "Rank/Title Description") name that field, provided the values are short labels
(checked by the mapping: a "Job Description" of duties is prose, not a job title).

A header naming both a first and a last name ("Last, First", "Name (Last, First)") is a full
name: it is offered to full_name fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from ade.db.configuration_spec import ConfigurationSpec, header_words

Block = Literal["other_party", "modifier", "code"]

GENERIC_HEADS = frozenset({"name", "id", "number"})
"""Heads that name an attribute of the word before them ("Department Name", "Badge Number")."""

CODE_HEADS = frozenset({"id", "number", "code", "key", "nr", "ref", "abbr", "abbreviation"})
"""Heads that make a header a key of the thing before them ("Department ID", "Job Code")."""

LABEL_HEADS = frozenset({"description", "desc", "descr"})
"""Heads that make a header the readable label of the coded thing before them ("Unit
Description", "Dept Descr"): the field's value, if the values are short labels, not prose."""

_CODED_TYPES = frozenset({"text", "name", "full_name"})
"""Field types whose values do not check themselves: a department code passes as text."""

SUBJECT_WORDS = frozenset(
    """employee employees emp staff worker workers person personal member members student pupil
    patient client customer participant applicant candidate associate volunteer resident user
    individual contact people attendee registrant guest delegate player athlete trainee
    apprentice intern learner subscriber""".split()
)
"""Words for the person a row describes: "Employee Email" is that person's e-mail."""

ID_SUBJECT_WORDS = frozenset(
    """employee employees emp staff worker member personnel associate student pupil volunteer
    player athlete trainee apprentice intern""".split()
)
"""Whose bare "ID" or "Number" is the person's own identifier ("Member ID", "Staff Number").
System record keys are not: "Contact ID", "Customer ID", "User ID", "Record ID" stay unmapped."""

NAME_VARIANT_WORDS = frozenset(
    {"preferred", "nick", "nickname", "maiden", "former", "previous", "alias", "known", "short"}
)
"""Words that make a name another version of the person's name ("Preferred Name")."""
QUALIFIER_WORDS = frozenset(
    """work business office home mobile cell direct main primary secondary alternate alternative
    alt other private preferred legal official current original latest recent most full
    complete daytime day evening corporate company dienstlich privat geschaftlich
    辦公室 办公室 研究室 實驗室 实验室 公司 工作 聯絡 联系 中文""".split()
)
"""Words that say which of the person's values is meant, not whose."""

FILLER_WORDS = frozenset(
    {"the", "of", "a", "an", "s", "for", "and", "or", "to", "in", "what", "is", "your", "please"}
)
"""Words that carry no meaning for mapping; form exports ask "What is your full name?"."""

PARTY_WORDS = frozenset(
    """employer employers vendor vendors supplier suppliers manager managers supervisor
    supervisors guardian guardians parent parents mother father spouse partner emergency
    approver approved reviewer reviewed requester requestor requested submitter submitted
    beneficiary beneficiaries dependent dependents dependant kin recruiter referrer referral
    referred reference agency landlord doctor physician sponsor mentor coach witness owner agent
    broker billing shipping bank""".split()
)
"""Words that name another party than the row's person ("Vendor Name", "Approver Email")."""

ORGANISATION_WORDS = frozenset(
    """company business organization organisation org firm corporate school district campus
    university college institution""".split()
)
"""Words that make a *name* an organisation's ("Company Name"), while "Company Email" or
"District Email" is the person's address at that organisation."""

TYPE_WORDS = {"date": frozenset({"date"}), "email": frozenset({"address"})}
"""A field type's own word is no modifier: "Date Joined" is the date the alias "Joined" means."""

_PERSON_NAME_TYPES = frozenset({"name", "full_name"})


def _has_cjk(word: str) -> bool:
    """Kana or a CJK ideograph in `word`? (No regex: compiling a class of 28,000 ideographs
    costs every process ~10 ms at start-up; this runs on a few headers.)"""
    return not word.isascii() and any(
        "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u4dbf" or "\u4e00" <= ch <= "\u9fff"
        for ch in word
    )


_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
EXACT_ALIAS_SCORE = 0.99
"""A header that is one of a field's aliases itself (1.0 for its name or label)."""
_MAX_PARTIAL = 0.94
_REORDERED = 0.93
_CONNECTORS_DROPPED = 0.95

CONNECTING_WORDS = frozenset("of de du des d di da do dos das del della dei degli".split())
"""Words that only join the nouns of a compound ("Date of Birth", "Date de naissance", "Data di
nascita"). Systems drop them when they turn a label into a column name ("date_naissance",
"data_nascimento", "DateBirth"), so a header and a spelling that differ only by them are the
same words."""
_TYPO_COST = 0.9


@dataclass(frozen=True)
class HeaderMatch:
    """The best field for one header text, or why the closest one may not be taken."""

    field: str | None
    score: float
    spelling: str | None = None
    block: Block | None = None
    word: str | None = None
    """The word behind a block: the other party, or the unexplained modifier."""
    typos: tuple[str, ...] = ()
    """Header words read as typos of spelling words, as "emial->email"."""
    described_by: str | None = None
    """The label head ("Description") that made this header the name of a coded thing: the
    column is the field only if its values are short labels."""

    @property
    def usable(self) -> bool:
        return self.field is not None and self.block is None


NO_MATCH = HeaderMatch(None, 0.0)


@dataclass(frozen=True)
class _Spelling:
    field: str
    text: str
    words: tuple[str, ...]
    person_name: bool
    exact_score: float
    type: str
    identifier: bool
    """The field is itself a key or number (employee_id): a code head is its own word."""
    joined: tuple[str, ...] = ()
    """The words without their connecting words (see CONNECTING_WORDS)."""


def _without_connectors(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(word for word in words if word not in CONNECTING_WORDS)


def _typo_of(word: str, vocabulary: frozenset[str]) -> str | None:
    """The one vocabulary word `word` is a plausible typo of, if exactly one (see module doc)."""
    if len(word) < 5:
        return None
    found: set[str] = set()
    if word.endswith("s") and word[:-1] in vocabulary:
        found.add(word[:-1])
    for i in range(len(word) - 1):  # adjacent swap
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if swapped != word and swapped in vocabulary:
            found.add(swapped)
    for i in range(len(word)):  # a doubled letter
        if i > 0 and word[i] == word[i - 1]:
            shorter = word[:i] + word[i + 1 :]
            if shorter in vocabulary:
                found.add(shorter)
    for candidate in vocabulary:  # one letter missing
        if len(candidate) == len(word) + 1 and any(
            candidate[:i] + candidate[i + 1 :] == word for i in range(len(candidate))
        ):
            found.add(candidate)
    return found.pop() if len(found) == 1 else None


class HeaderScorer:
    """Scores header texts against one configuration (cached: headers repeat)."""

    def __init__(self, spec: ConfigurationSpec) -> None:
        self._spellings: list[_Spelling] = []
        self._order = {item.name: i for i, item in enumerate(spec.fields)}
        for item in spec.fields:
            own = {item.name, item.label}
            identifier = is_identifier_field(item.name, item.match_names())
            for text in item.match_names():
                words = header_words(text)
                if words:
                    person = item.type in _PERSON_NAME_TYPES
                    exact = 1.0 if text in own else EXACT_ALIAS_SCORE
                    spelling = _Spelling(
                        item.name, text, words, person, exact, item.type, identifier,
                        _without_connectors(words),
                    )  # fmt: skip
                    self._spellings.append(spelling)
        self._vocabulary = frozenset(w for s in self._spellings for w in s.words)
        self._one_word: dict[str, frozenset[str]] = {
            item.name: frozenset(
                s.words[0] for s in self._spellings if s.field == item.name and len(s.words) == 1
            )
            for item in spec.fields
        }
        """Each field's one-word spellings: "Rank" and "Title" both name a job title."""
        self._full_name_fields = [i.name for i in spec.fields if i.type == "full_name"]
        self._threshold = spec.match_threshold
        self.match = lru_cache(maxsize=4096)(self._match)
        self.by_field = lru_cache(maxsize=1024)(self._by_field)
        self._scored = lru_cache(maxsize=1024)(self._score_all)

    def _score_all(self, header: str) -> tuple[tuple[HeaderMatch, ...], HeaderMatch | None]:
        """Every spelling's match for this header (typo costs applied), in spelling order, and
        the full-name match of a header naming both name parts: shared by :meth:`match`, which
        decides, and :meth:`by_field`, which explains, so a header is scored once."""
        words = self._segment(header_words(header))
        if not words:
            return (), None
        core_text = _BRACKETED.sub(" ", header)
        core = tuple(w for w in self._segment(header_words(core_text)) if not w.isdigit()) or words
        corrected, typos = self._correct(core)
        matches: list[HeaderMatch] = []
        for spelling in self._spellings:
            found = self._score(words, corrected, spelling, header != core_text)
            if found is None:
                continue
            if typos:
                found = replace(found, score=found.score * _TYPO_COST ** len(typos), typos=typos)
            matches.append(found)
        return tuple(matches), self._both_name_parts(corrected)

    def _by_field(self, header: str) -> tuple[HeaderMatch, ...]:
        """Every field's best match for this header, best first (a field's unblocked match
        before its blocked one, then score, then configuration order). Only for explaining a
        decision (summary.json's ``candidates``): :meth:`match` alone decides."""
        matches, both_parts = self._scored(header)
        best: dict[str, HeaderMatch] = {}
        for found in [*matches, both_parts]:
            if found is None or found.field is None:
                continue
            held = best.get(found.field)
            if held is None or _rank(found) > _rank(held):
                best[found.field] = found
        return tuple(sorted(best.values(), key=lambda m: (-m.score, self._order[m.field or ""])))

    def _match(self, header: str) -> HeaderMatch:
        matches, both_parts = self._scored(header)
        if not matches and both_parts is None:
            return NO_MATCH
        best: HeaderMatch = NO_MATCH
        best_blocked: HeaderMatch = NO_MATCH
        for found in matches:
            if found.block is None:
                if self._better(found, best):
                    best = found
            elif self._better_reason(found, best_blocked):
                best_blocked = found
        if both_parts is not None and self._better(both_parts, best):
            best = both_parts
        if best.score < self._threshold and best_blocked.score > best.score:
            return best_blocked  # so the column's reason can say what stood in the way
        return best

    def _segment(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """Chinese and Japanese write a compound as one word: "研究室電話" (office phone) is
        "研究室" + "電話". A CJK word that is no spelling word but ends with one is split there,
        so the rest is read as a qualifier like any other."""
        if not any(map(_has_cjk, words)):
            return words
        split: list[str] = []
        for word in words:
            if word not in self._vocabulary and _has_cjk(word):
                for cut in range(1, len(word) - 1):
                    if word[cut:] in self._vocabulary:
                        split.extend((word[:cut], word[cut:]))
                        break
                else:
                    split.append(word)
            else:
                split.append(word)
        return tuple(split)

    def _better(self, found: HeaderMatch, than: HeaderMatch) -> bool:
        if found.score != than.score:
            return found.score > than.score
        if than.field is None or found.field is None:
            return found.field is not None
        return self._order[found.field] < self._order[than.field]

    def _better_reason(self, found: HeaderMatch, than: HeaderMatch) -> bool:
        """Of two blocked matches, the one that says most: a code or another party names what
        the header is; a modifier only says which word was not understood."""
        if (found.block == "modifier") != (than.block == "modifier") and than.field is not None:
            return than.block == "modifier"
        return self._better(found, than)

    def _correct(self, words: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        known = self._vocabulary | SUBJECT_WORDS | QUALIFIER_WORDS | PARTY_WORDS | FILLER_WORDS
        known |= LABEL_HEADS
        corrected: list[str] = []
        typos: list[str] = []
        for word in words:
            fixed = None if word in known else _typo_of(word, self._vocabulary)
            if fixed is None:
                corrected.append(word)
            else:
                corrected.append(fixed)
                typos.append(f"{word}->{fixed}")
        return tuple(corrected), tuple(typos)

    def _score(
        self,
        words: tuple[str, ...],
        core: tuple[str, ...],
        spelling: _Spelling,
        qualified: bool,
    ) -> HeaderMatch | None:
        target = spelling.words
        exact = spelling.exact_score
        if words == target:
            return HeaderMatch(spelling.field, exact, spelling.text)
        if core == target:
            return HeaderMatch(spelling.field, exact - 0.02 if qualified else exact, spelling.text)
        if "".join(core) == "".join(target):
            return HeaderMatch(spelling.field, 0.95, spelling.text)
        if len(spelling.joined) >= 2 and _without_connectors(core) == spelling.joined:
            # "date_naissance" is "Date de naissance" written as a column name
            return HeaderMatch(spelling.field, _CONNECTORS_DROPPED, spelling.text)
        have, want = set(core), set(target)
        if have == want and len(core) == len(target):
            return HeaderMatch(spelling.field, _REORDERED, spelling.text)  # "nameFirst"
        if want < have:
            return self._partial(core, spelling)
        if have < want:
            score = 0.85 if want - have == {"name"} else 0.5 + 0.3 * len(have) / len(want)
            return HeaderMatch(spelling.field, score, spelling.text)
        return None

    def _partial(self, core: tuple[str, ...], spelling: _Spelling) -> HeaderMatch:
        """The spelling's words are a part of the header's: decide on the other words."""
        want = set(spelling.words)
        meaningful = [word for word in core if word not in FILLER_WORDS] or list(core)
        while len(meaningful) > 1 and meaningful[-1] in QUALIFIER_WORDS:
            meaningful.pop()  # a qualifier after its noun ("Telefon dienstlich", "Phone Work")
        head = meaningful[-1]
        covers_head = head in want
        score = min(_MAX_PARTIAL, 0.7 + 0.3 * len(want) / len(core) + (0.05 if covers_head else 0))
        subject = meaningful[-2] if len(meaningful) >= 2 else None
        if head in LABEL_HEADS and not covers_head and self._labelled(spelling):
            return self._described(meaningful, spelling, score)
        if head in CODE_HEADS and subject in want and self._coded(spelling):
            return HeaderMatch(spelling.field, score, spelling.text, "code", head)
        if not covers_head and not (head in GENERIC_HEADS and subject in want):
            return HeaderMatch(spelling.field, score, spelling.text, "modifier", head)
        bare_id = want <= GENERIC_HEADS - {"name"}  # the alias is just "ID" or "Number"
        subjects = ID_SUBJECT_WORDS if bare_id else SUBJECT_WORDS
        harmless = TYPE_WORDS.get(spelling.type, frozenset())
        for word in core:
            if word in want or word in FILLER_WORDS or word in subjects or word in harmless:
                continue
            if word in PARTY_WORDS or (
                (spelling.person_name or bare_id) and word in ORGANISATION_WORDS
            ):
                return HeaderMatch(spelling.field, score, spelling.text, "other_party", word)
            if spelling.person_name and word in NAME_VARIANT_WORDS:
                return HeaderMatch(spelling.field, score, spelling.text, "modifier", word)
            if word in QUALIFIER_WORDS or word in ORGANISATION_WORDS:
                continue
            if word in GENERIC_HEADS and word == head:
                continue
            return HeaderMatch(spelling.field, score, spelling.text, "modifier", word)
        return HeaderMatch(spelling.field, score, spelling.text)

    def _described(self, meaningful: list[str], spelling: _Spelling, score: float) -> HeaderMatch:
        """ "Unit Description", "Job Code Descr", "Rank/Title Description": the words before the
        label head name the coded thing, with its code head ("Code", "ID") and the field's
        other one-word spellings ("Rank" beside "Title") allowed among them."""
        head = meaningful[-1]
        allowed = set(spelling.words) | self._one_word[spelling.field] | CODE_HEADS
        for word in meaningful[:-1]:
            if word in allowed or word in SUBJECT_WORDS or word in QUALIFIER_WORDS:
                continue
            block: Block = "other_party" if word in PARTY_WORDS else "modifier"
            return HeaderMatch(spelling.field, score, spelling.text, block, word)
        return HeaderMatch(spelling.field, score, spelling.text, described_by=head)

    @staticmethod
    def _labelled(spelling: _Spelling) -> bool:
        """Does a label head ("Description") make this spelling's header the field's value?
        Only for a text field naming a thing (department, job title), not for a key."""
        return spelling.type == "text" and not spelling.identifier

    @staticmethod
    def _coded(spelling: _Spelling) -> bool:
        """Would a code head ("ID", "Code") make this spelling's header a key of the thing?"""
        return spelling.type in _CODED_TYPES and not spelling.identifier

    def _both_name_parts(self, core: tuple[str, ...]) -> HeaderMatch | None:
        """ "Last, First" or "Name (Last, First)" names a whole person: a full_name field."""
        words = set(core)
        has_first = bool(words & {"first", "given", "forename"})
        has_last = bool(words & {"last", "surname", "family"})
        rest = words - {"first", "given", "forename", "last", "surname", "family", "name"}
        if not (has_first and has_last and self._full_name_fields):
            return None
        if rest - FILLER_WORDS - SUBJECT_WORDS - QUALIFIER_WORDS:
            return None
        return HeaderMatch(self._full_name_fields[0], 0.9, "first and last name")


def _rank(found: HeaderMatch) -> tuple[bool, float]:
    """Of one field's matches, an unblocked one first, then the higher score."""
    return (found.block is None, found.score)


def is_identifier_field(name: str, spellings: list[str]) -> bool:
    """A field that holds a key or number itself ("employee_id", or one whose aliases are "Staff
    Number" and "Badge ID"): "ID" and "Number" in its headers are its own words, not a sign of a
    code of something else."""
    words = {word for text in [name, *spellings] for word in header_words(text)}
    return bool(words & (CODE_HEADS - {"abbr", "abbreviation"}))
