"""Header-to-field mapping: scores, conflicts and a reason for every column."""

from __future__ import annotations

from typing import Any

from ade.db.configuration_spec import ConfigurationSpec, default_configuration, header_key
from ade.worker.engine.mapping import ColumnMapping, FieldMatcher, is_placeholder, map_table
from ade.worker.engine.tables import TableInfo


def table(headers: list[str], parts: list[list[str]] | None = None, **extra: Any) -> TableInfo:
    return TableInfo(
        sheet="S",
        header_rows=[0],
        first_col=1,
        last_col=len(headers),
        headers=headers,
        header_parts=parts or [[h] for h in headers],
        **extra,
    )


def by_header(
    headers: list[str], spec: ConfigurationSpec | None = None, **extra: Any
) -> dict[str, ColumnMapping]:
    mapping = map_table(table(headers, **extra), FieldMatcher(spec or default_configuration()))
    return {c.header: c for c in mapping.columns}


def test_header_key_normalizes_case_punctuation_accents_and_camel_case() -> None:
    assert header_key("  E-Mail Address: ") == "e mail address"
    assert header_key("firstName") == "first name"
    assert header_key("Prénom_Élève") == "prenom eleve"


def test_exact_alias_and_compact_matches() -> None:
    columns = by_header(["FIRST NAME", "Surname", "e-mail", "DOB", "EmailAddress"])
    assert (columns["FIRST NAME"].field, columns["FIRST NAME"].score) == ("first_name", 1.0)
    assert columns["Surname"].field == "last_name"
    assert (columns["e-mail"].field, columns["e-mail"].score) == ("email", 1.0)
    assert columns["DOB"].field == "date_of_birth"
    # "EmailAddress" camel-splits to the alias "email address".
    assert columns["EmailAddress"].reason == "duplicate"


def test_every_column_gets_a_reason_and_column_letter() -> None:
    columns = by_header(["First Name", "", "Favourite colour", "Unnamed: 3", "Last Name"])
    assert [c.reason for c in columns.values()] == [
        "mapped",
        "blank_header",
        "unknown_header",
        "blank_header",
        "mapped",
    ]
    assert columns["First Name"].letter == "B"  # the table starts at column B
    assert columns["Favourite colour"].as_dict()["reason"] == "unknown_header"


def test_placeholders() -> None:
    for text in ["", " ", "-", "—", "Unnamed: 3", "Column1", "column 12", "N/A", "#"]:
        assert is_placeholder(text), text
    for text in ["Name", "Column Name", "Col"]:
        assert not is_placeholder(text), text


def test_conflict_best_score_wins_and_loser_is_duplicate() -> None:
    columns = by_header(["Emial", "Email", "Phone"])
    assert columns["Email"].field == "email"
    assert columns["Emial"].reason == "duplicate"
    assert columns["Emial"].duplicate_of == "C"
    assert columns["Emial"].best_candidate == "email"


def test_conflict_tie_goes_to_leftmost_column() -> None:
    columns = by_header(["Mobile", "Phone"])
    assert columns["Mobile"].field == "phone"
    assert columns["Phone"].reason == "duplicate"
    assert columns["Phone"].duplicate_of == "B"


def test_token_overlap_and_typos_score_below_exact() -> None:
    matcher = FieldMatcher(default_configuration())
    field, score = matcher.best("Employee Email")
    assert field == "email" and 0.75 <= score < 1.0
    field, score = matcher.best("Emial")
    assert field == "email" and 0.75 <= score < 1.0
    field, score = matcher.best("Date")
    assert score < 0.75  # too vague for either date field
    assert matcher.best("Shoe size")[1] < 0.75


def test_two_row_header_is_scored_on_lower_row_too() -> None:
    headers = ["Personal Given", "Contact Telephone"]
    parts = [["Personal", "Given"], ["Contact", "Telephone"]]
    columns = by_header(headers, parts=parts)
    assert columns["Personal Given"].field == "first_name"
    assert columns["Contact Telephone"].field == "phone"
    assert 0.75 <= columns["Contact Telephone"].score < 1.0


def test_hidden_columns_are_mapped_by_default_and_flagged() -> None:
    columns = by_header(["First Name", "Last Name"], hidden_columns=[2])
    assert columns["Last Name"].field == "last_name"
    assert columns["Last Name"].hidden


def test_hidden_columns_can_be_excluded_by_configuration() -> None:
    spec = default_configuration().model_copy(update={"include_hidden_columns": False})
    columns = by_header(["First Name", "Last Name"], spec, hidden_columns=[2])
    assert columns["Last Name"].field is None
    assert columns["Last Name"].reason == "hidden_column"


def test_threshold_comes_from_the_configuration() -> None:
    strict = default_configuration().model_copy(update={"match_threshold": 1.0})
    assert by_header(["Emial"], strict)["Emial"].reason == "unknown_header"
    assert by_header(["Emial"])["Emial"].reason == "mapped"
