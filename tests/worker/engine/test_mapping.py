"""Column mapping: header and value evidence, corrections from the configuration, a reason for
every column, and unmapped columns kept. Expectations are what a person reading the header and
the values would say, written before running the engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from ade.db.configuration_spec import ConfigurationSpec, default_configuration, header_key
from ade.worker.engine.cells import Cell
from ade.worker.engine.header_match import HeaderScorer
from ade.worker.engine.mapping import ColumnMapping, Mapper, TableMapping, is_placeholder
from ade.worker.engine.tables import TableInfo

PEOPLE = [
    ["Ann Lee", "ann.lee@example.com", "(306) 555-0101", "1984-02-01", "Ann", "Lee"],
    ["Bob Roy", "bob.roy@example.com", "306-555-0102", "1979-11-23", "Bob", "Roy"],
    ["Cy Doe", "cy.doe@example.com", "+1 306 555 0103", "1990-07-04", "Cy", "Doe"],
    ["Di Ek", "di.ek@example.com", "3065550104", "2001-01-30", "Di", "Ek"],
    ["Ed Fox", "ed.fox@example.com", "(306) 555-0105", "1969-12-31", "Ed", "Fox"],
    ["Flo Gil", "flo.gil@example.com", "306.555.0106", "1975-05-05", "Flo", "Gil"],
]


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


def mapped(
    headers: list[str],
    rows: Sequence[Sequence[Cell]] = (),
    spec: ConfigurationSpec | None = None,
    **extra: Any,
) -> TableMapping:
    padded = [list(row) + [None] * (len(headers) - len(row)) for row in rows]
    return Mapper(spec or default_configuration()).map_table(table(headers, **extra), padded)


def by_header(
    headers: list[str],
    rows: Sequence[Sequence[Cell]] = (),
    spec: ConfigurationSpec | None = None,
    **extra: Any,
) -> dict[str, ColumnMapping]:
    return {c.header: c for c in mapped(headers, rows, spec, **extra).columns}


def spec_with(**update: Any) -> ConfigurationSpec:
    data = default_configuration().model_dump()
    data.update(update)
    return ConfigurationSpec.model_validate(data)


def column(values: Sequence[Cell]) -> list[list[Cell]]:
    return [[value] for value in values]


# -- header evidence -----------------------------------------------------------------------------


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
    # "EmailAddress" camel-splits to the alias "email address": a second e-mail column.
    assert columns["EmailAddress"].reason == "duplicate"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Employee Email", "email"),
        ("Work E-mail", "email"),
        ("Emp #", "employee_id"),
        ("Badge No.", "employee_id"),
        ("Hire Dt", "hire_date"),
        ("Hire Date (MM/DD/YYYY)", "hire_date"),
        ("Name (Last, First)", "full_name"),
        ("Last, First", "full_name"),
        ("Mobile #", "phone"),
        ("Cell Phone Number", "phone"),
        ("Phone 2", "phone"),
        ("Department Name", "department"),
        ("D.O.B.", "date_of_birth"),
        ("Legal Last Name", "last_name"),
        ("Employee's First Name", "first_name"),
    ],
)
def test_ordinary_header_variants_map(header: str, field: str) -> None:
    match = HeaderScorer(default_configuration()).match(header)
    assert (match.field, match.block) == (field, None), match
    assert match.score >= 0.75


@pytest.mark.parametrize(
    "header",
    [
        "Employer",  # not "Employee": typo tolerance never turns one real word into another
        "Last Audit Date",  # a date; "Last" only modifies it
        "First Shift Start",  # a time
        "Employee Status",
        "Employee Type",
        "Shift Start Date",  # not a hire date
        "Job Description",
        "Invoice ID",
        "Persona",
        "Status",
        "Local",
        "Classification",
        "Date",  # too vague for either date field
        "Shoe size",
    ],
)
def test_headers_that_name_no_field(header: str) -> None:
    spec = default_configuration()
    assert not Mapper(spec).is_known(header)
    assert by_header([header])[header].field is None


@pytest.mark.parametrize(
    ("header", "party"),
    [
        ("Vendor Name", "vendor"),
        ("Guardian Name", "guardian"),
        ("Approver Email", "approver"),
        ("Employer Name", "employer"),
        ("Company Name", "company"),
        ("Emergency Contact Phone", "emergency"),
        ("Manager Email", "manager"),
    ],
)
def test_headers_about_another_party_are_not_the_persons_fields(header: str, party: str) -> None:
    [mapping] = mapped([header], PEOPLE).columns
    assert (mapping.field, mapping.reason) == (None, "other_party")
    assert repr(party) in mapping.detail


def test_company_email_is_still_the_persons_work_email() -> None:
    rows = column([row[1] for row in PEOPLE])
    assert by_header(["Company Email"], rows)["Company Email"].field == "email"


def test_typos_of_a_field_word_still_map_below_exact() -> None:
    scorer = HeaderScorer(default_configuration())
    for typo, field in [("Emial", "email"), ("Frist Name", "first_name"), ("Emaill", "email")]:
        match = scorer.match(typo)
        assert match.field == field and 0.75 <= match.score < 1.0, match
        assert match.typos


def test_two_row_header_is_scored_on_lower_row_too() -> None:
    headers = ["Personal Given", "Contact Telephone"]
    parts = [["Personal", "Given"], ["Contact", "Telephone"]]
    columns = by_header(headers, parts=parts)
    assert columns["Personal Given"].field == "first_name"
    assert columns["Contact Telephone"].field == "phone"
    assert 0.75 <= columns["Contact Telephone"].score < 1.0


def test_threshold_comes_from_the_configuration() -> None:
    strict = spec_with(match_threshold=1.0)
    assert by_header(["Emial"], spec=strict)["Emial"].reason == "unknown_header"
    assert by_header(["Emial"])["Emial"].reason == "mapped"


# -- value evidence ------------------------------------------------------------------------------

EMPLOYERS = [
    "Prairie Build Systems",
    "Acme Electric Ltd",
    "Northwind Construction",
    "Johnson Controls Inc",
    "Globex Corporation",
    "Hooli Holdings",
]


def test_a_name_column_full_of_companies_is_a_values_mismatch() -> None:
    [mapping] = mapped(["Name"], column(EMPLOYERS)).columns
    assert (mapping.field, mapping.reason, mapping.best_candidate) == (
        None,
        "values_mismatch",
        "full_name",
    )
    assert mapping.evidence is not None
    assert (mapping.evidence.sample, mapping.evidence.matched) == (6, 0)


def test_shifted_columns_are_caught_by_their_values() -> None:
    # The export's header row is off by one: "First Name" holds e-mail addresses.
    rows = [[row[1], row[2]] for row in PEOPLE]
    columns = by_header(["First Name", "Email"], rows)
    assert columns["First Name"].reason == "values_mismatch"
    assert columns["Email"].reason == "values_mismatch"  # it holds phone numbers


def test_a_few_bad_values_do_not_unmap_a_real_column() -> None:
    emails = [row[1] for row in PEOPLE] * 3 + ["bob at example", "n/a", "", "-"]
    [mapping] = mapped(["Email"], column(emails)).columns
    assert mapping.field == "email"
    assert mapping.evidence is not None
    # Placeholders are not evidence: 18 good of 19 real values.
    assert (mapping.evidence.matched, mapping.evidence.sample) == (18, 19)


def test_ids_under_an_employee_header_are_not_a_full_name() -> None:
    [mapping] = mapped(["Employee"], column(["10023", "10024", "10031", "10040", "10052"])).columns
    assert mapping.reason == "values_mismatch"


def test_too_few_values_leave_the_header_to_decide() -> None:
    [mapping] = mapped(["Email"], column(["not an email"])).columns
    assert mapping.field == "email"


def test_value_threshold_comes_from_the_configuration() -> None:
    emails = [row[1] for row in PEOPLE] + ["x", "y", "z"]  # 6 of 9 = 67%
    assert mapped(["Email"], column(emails)).columns[0].reason == "values_mismatch"
    lenient = spec_with(value_match_threshold=0.5)
    assert mapped(["Email"], column(emails), lenient).columns[0].field == "email"


def test_a_headerless_email_column_is_mapped_by_its_values() -> None:
    rows = [[row[0], row[1]] for row in PEOPLE]
    columns = mapped(["Name", ""], rows).columns
    assert columns[1].field == "email"
    assert columns[1].reason == "mapped_by_values"
    assert columns[1].evidence is not None and columns[1].evidence.share == 1.0
    assert mapped(["Name", ""], rows, spec_with(map_by_values=False)).columns[1].field is None


def test_a_headed_column_is_never_mapped_by_values() -> None:
    # "Fax" says what it is: phone-like values do not make it the person's phone.
    rows = [[row[0], row[2]] for row in PEOPLE]
    assert mapped(["Name", "Fax"], rows).columns[1].field is None


def test_by_values_never_takes_a_field_that_has_a_column() -> None:
    rows = [[row[1], row[1]] for row in PEOPLE]
    columns = mapped(["Email", "Column 2"], rows).columns
    assert [c.field for c in columns] == ["email", None]


def test_full_name_that_disagrees_with_the_name_parts_is_dropped() -> None:
    # Person-like names that are not the row's person (a manager's, say): only the comparison
    # with the same rows' first and last names can tell.
    others = ["Albert Baker", "Carol Dunn", "Ed Frank", "Gil Hart", "Ida Jones", "Kim Lund"]
    rows = [[other, row[4], row[5]] for other, row in zip(others, PEOPLE, strict=True)]
    columns = by_header(["Full Name", "First Name", "Last Name"], rows)
    assert columns["Full Name"].reason == "name_parts_disagree"
    assert columns["First Name"].field == "first_name"
    agreeing = [[f"{row[4]} {row[5]}", row[4], row[5]] for row in PEOPLE]
    columns = by_header(["Full Name", "First Name", "Last Name"], agreeing)
    assert columns["Full Name"].field == "full_name"


# -- corrections in the configuration ------------------------------------------------------------


def test_header_overrides_map_and_exclude_before_scoring() -> None:
    spec = spec_with(header_overrides={"Worker #": "employee_id", "Name": None})
    rows = [["W-1", "Ann Lee", "1001"], ["W-2", "Bob Roy", "1002"]]
    columns = by_header(["WORKER #", "Name", "Employee ID"], rows, spec)
    assert (columns["WORKER #"].field, columns["WORKER #"].reason) == ("employee_id", "configured")
    assert columns["Name"].reason == "excluded"
    # The configured column wins the field; the header-matched one is a duplicate, kept.
    assert columns["Employee ID"].reason == "duplicate"


def test_an_override_maps_another_partys_column_when_the_user_says_so() -> None:
    spec = spec_with(header_overrides={"Guardian Email": "email"})
    rows = column([row[1] for row in PEOPLE])
    assert by_header(["Guardian Email"], rows, spec)["Guardian Email"].field == "email"


# -- every column explained, unmapped columns kept ----------------------------------------------


def test_every_column_gets_a_reason_a_detail_and_a_letter() -> None:
    columns = by_header(["First Name", "", "Favourite colour", "Unnamed: 3", "Last Name"])
    assert [c.reason for c in columns.values()] == [
        "mapped",
        "blank_header",
        "unknown_header",
        "blank_header",
        "mapped",
    ]
    assert all(c.detail for c in columns.values())
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
    columns = by_header(["Mobile", "Cell"])
    assert columns["Mobile"].field == "phone"
    assert columns["Cell"].reason == "duplicate"
    assert columns["Cell"].duplicate_of == "B"


def test_a_fields_own_label_beats_an_alias() -> None:
    # Outlook exports "Title" (Mr./Ms.) and "Job Title": the label is the stronger claim.
    columns = by_header(["Title", "Job Title"])
    assert (columns["Title"].reason, columns["Job Title"].field) == ("duplicate", "job_title")


def test_in_a_table_of_organisations_only_the_contact_persons_columns_are_a_persons() -> None:
    rows = [
        [f"{company}", f"{p[0]}", p[1], p[2]] for company, p in zip(EMPLOYERS, PEOPLE, strict=False)
    ]
    columns = by_header(["Vendor Name", "Contact Name", "Email", "Contact Phone"], rows)
    assert columns["Contact Name"].field == "full_name"
    assert columns["Contact Phone"].field == "phone"
    assert (columns["Email"].field, columns["Email"].reason) == (None, "other_party")
    # The same columns in a table of people: the e-mail is the person's.
    people = [[p[0], p[1], p[2]] for p in PEOPLE]
    assert by_header(["Name", "Email", "Phone"], people)["Email"].field == "email"


def test_unmapped_columns_are_kept_under_unique_headers() -> None:
    mapping = mapped(["Email", "Status", "Email", "", "status", "Notes"])
    assert mapping.kept == [
        (1, "Status"),
        (2, "Email (2)"),  # a field label is taken already
        (3, "Column E"),  # the table starts at column B
        (4, "status (2)"),
        (5, "Notes"),
    ]
    assert mapping.columns[2].as_dict()["kept_as"] == "Email (2)"
    assert mapped(["Email", "Status"], spec=spec_with(keep_unmapped_columns=False)).kept == []


def test_hidden_columns_are_mapped_by_default_and_flagged() -> None:
    columns = by_header(["First Name", "Last Name"], hidden_columns=[2])
    assert columns["Last Name"].field == "last_name"
    assert columns["Last Name"].hidden


def test_hidden_columns_can_be_excluded_by_configuration_and_are_then_not_kept() -> None:
    spec = spec_with(include_hidden_columns=False)
    mapping = mapped(["First Name", "Last Name", "Notes"], spec=spec, hidden_columns=[2, 3])
    columns = {c.header: c for c in mapping.columns}
    assert columns["Last Name"].field is None
    assert columns["Last Name"].reason == "hidden_column"
    assert mapping.kept == []


# -- real exports' vocabulary and codes (issue 17) ------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("nameFirst", "first_name"),  # baseball's database writes the compound backwards
        ("nameLast", "last_name"),
        ("name_last", "last_name"),
        ("FIRST_NM", "first_name"),
        ("firstName", "first_name"),
        ("EEID", "employee_id"),  # HR analytics exports
        ("EE ID", "employee_id"),
        ("Emp #", "employee_id"),
        ("EmpNo", "employee_id"),
        ("Player", "full_name"),
        ("Athlete", "full_name"),
    ],
)
def test_header_vocabulary_of_real_systems(header: str, field: str) -> None:
    match = HeaderScorer(default_configuration()).match(header)
    assert (match.field, match.block) == (field, None), match
    assert match.score >= 0.75


def test_a_faculty_column_lists_the_faculty_by_name_unless_it_names_faculties() -> None:
    # An American faculty list heads its people "Faculty"; a British university's staff list
    # says which Faculty (a division) each person belongs to: the values tell them apart.
    people = ["Mark Aakhus", "Warren Allen", "Tawfiq Ammari", "Jack Z. Bratich", "Mary Chayko"]
    [names] = mapped(["Faculty"], column(people)).columns
    assert names.field == "full_name"
    divisions = ["Faculty of Arts", "Faculty of Law", "Faculty of Science", "Faculty of Arts"]
    [units] = mapped(["Faculty"], column([*divisions, "Faculty of Medicine"])).columns
    assert units.field is None


@pytest.mark.parametrize(
    "headers",
    [["Nombre", "Ciudad", "Departamento"], ["Nom", "Ville", "Département"]],
)
def test_a_department_right_after_the_city_is_the_citys_region(headers: list[str]) -> None:
    rows = [["Ann Lee", "Montevideo", "Montevideo"], ["Bob Roy", "Pando", "Canelones"]] * 3
    columns = {c.header: c for c in mapped(headers, rows).columns}
    region = columns[headers[2]]
    assert (region.field, region.reason) == (None, "unknown_header")
    assert headers[1] in region.detail


def test_a_department_beside_other_columns_is_the_persons_unit() -> None:
    rows = [["Ann Lee", "Sales", "Montevideo"], ["Bob Roy", "Ops", "Pando"]] * 3
    columns = {c.header: c for c in mapped(["Name", "Department", "City"], rows).columns}
    assert columns["Department"].field == "department"
    # An English HR export's "Office City" then "Department" is the person's unit too.
    after = [["Ann Lee", "Leeds", "Sales"], ["Bob Roy", "York", "Ops"]] * 3
    columns = {c.header: c for c in mapped(["Name", "City", "Department"], after).columns}
    assert columns["Department"].field == "department"


def test_numbered_placeholder_names_of_sample_data_are_names() -> None:
    # A teaching data set anonymises its students as DOE01 JANE01, DOE02 JOE02, ...
    rows = [[f"DOE{n:02}", f"{given}{n:02}"] for n in range(1, 4) for given in ("JANE", "JOE")]
    columns = by_header(["Last Name", "First Name"], rows)
    assert columns["Last Name"].field == "last_name"
    assert columns["First Name"].field == "first_name"


def test_codes_under_a_name_header_still_contradict_it() -> None:
    codes = ["B242C", "B712R", "C312A", "B112D", "B641E", "B632X"]
    [mapping] = mapped(["Last Name"], column(codes)).columns
    assert (mapping.field, mapping.reason) == (None, "values_mismatch")


def test_a_chinese_headers_chinese_name_is_the_full_name_not_its_english_one() -> None:
    # A Taiwanese department lists its PhD students' Chinese name, then their English name: in
    # a sheet written in Chinese, the Chinese name is the person's name; the English one is
    # another version of it, as a preferred name is.
    rows = [["古偉華", "Wei-Hua Ku"], ["羅振宇", "Chen-Yu Lo"], ["陳俞融", "Yu-Jung Chen"]] * 2
    columns = by_header(["中文姓名", "英文姓名"], rows)
    assert columns["中文姓名"].field == "full_name"
    assert (columns["英文姓名"].field, columns["英文姓名"].reason) == (None, "unknown_header")


def test_nombre_beside_apellido_holds_given_names_of_one_or_two_words() -> None:
    rows = [
        ["Bettina Noel", "Facal Vivas"],
        ["Milka", "Gómez"],
        ["Andrea María", "Provenzano Giribaldi"],
        ["Carolina", "Moreno Araujo"],
        ["Santa Concepción", "Suarez"],
        ["Stefano", "Oppido Haller"],
    ]
    columns = by_header(["NOMBRE", "APELLIDO"], rows)
    assert columns["APELLIDO"].field == "last_name"
    assert columns["NOMBRE"].field == "first_name"


def test_a_name_column_holding_the_rows_last_names_is_no_given_name() -> None:
    rows = [["Ann Lee", "Lee"], ["Bob", "Roy"], ["Cy Doe", "Doe"], ["Di", "Ek"]]
    rows += [["Ed Fox", "Fox"], ["Flo", "Gil"]]
    columns = by_header(["Name", "Last Name"], rows)
    assert columns["Name"].field is None


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("date_naissance", "date_of_birth"),  # a Malagasy parish register's "Date de naissance"
        ("Date naissance", "date_of_birth"),
        ("data_nascita", "date_of_birth"),  # Italian "Data di nascita"
        ("data_nascimento", "date_of_birth"),  # Portuguese "Data de nascimento"
        ("DateHire", "hire_date"),  # "Date of Hire"
        ("date_embauche", "hire_date"),  # French "Date d'embauche"
    ],
)
def test_a_compound_written_without_its_joining_words_is_the_same_compound(
    header: str, field: str
) -> None:
    spec = default_configuration()
    scorer = HeaderScorer(spec)
    found = scorer.match(header)
    assert (found.field, found.block) == (field, None)
    assert spec.match_threshold <= found.score < scorer.match("Date of Birth").score


def test_dropping_joining_words_does_not_make_other_compounds_match() -> None:
    scorer = HeaderScorer(default_configuration())
    assert scorer.match("Date de registro").field != "date_of_birth"
    assert scorer.match("Nom de jeune fille").field is None or (
        scorer.match("Nom de jeune fille").block is not None
    )


@pytest.mark.parametrize(
    ("headers", "row", "fields"),
    [
        # Polish: "imie" is imię written without its diacritic
        (
            ["imie", "nazwisko", "stanowisko", "Data urodzenia", "Dział"],
            ["Anna", "Kowalska", "architekt", "1980-01-02", "IT"],
            ["first_name", "last_name", "job_title", "date_of_birth", "department"],
        ),
        # Brazilian Portuguese: "Nome" alone is the whole name
        (
            ["Nome", "Matrícula", "Data de admissão", "Telefone"],
            ["Ana Souza", "A-17", "2021-03-15", "(11) 98765-4321"],
            ["full_name", "employee_id", "hire_date", "phone"],
        ),
        # Italian: "Nome" beside "Cognome" is the given name
        (
            ["Nome", "Cognome", "Data di nascita"],
            ["Mario", "Rossi", "1970-05-01"],
            ["first_name", "last_name", "date_of_birth"],
        ),
    ],
)
def test_polish_portuguese_and_italian_headers(
    headers: list[str], row: list[Cell], fields: list[str]
) -> None:
    columns = mapped(headers, [row] * 6).columns
    assert [c.field for c in columns] == fields


FAMILY_FIRST = [
    ["L.116", "RAKOTOBE Hery", "1981-05-06"],
    ["V.161", "RAKOTOBE Lova", "1981-05-05"],
    ["L.347", "RABE Tiana", "1981-05-07"],
    ["V.117", "RANDRIA Noro Hanta", "1981-05-08"],
    ["V.182", "RASOA", "1981-05-28"],
    ["L.341", "RAZAFY ANDRIAMANGA Fara", "1981-06-04"],
]


def test_a_surname_column_of_family_first_whole_names_is_the_full_name() -> None:
    # A parish register's "nom" (French: surname) holds "SURNAME Given names"
    columns = by_header(["matricule", "nom", "date_naissance"], FAMILY_FIRST)
    assert columns["nom"].field == "full_name"
    assert "family name in capitals" in columns["nom"].detail


def test_a_surname_beside_a_given_name_stays_the_surname() -> None:
    # the same cells beside a given-name column: the table says where the given name is
    rows = [[row[0], row[1], "Ann", row[2]] for row in FAMILY_FIRST]
    columns = by_header(["matricule", "nom", "prénom", "date_naissance"], rows)
    assert columns["nom"].field == "last_name"
    assert columns["prénom"].field == "first_name"


BARE_PHONES: list[list[Cell]] = [
    ["Ann Lee", "340000001"],
    ["Ann Lee", "320000002"],
    ["Ann Lee", "330000003"],
    ["Ann Lee", "340000004"],
    ["Bob Roy", 340000005],  # read as a number
    ["Cy Doe", "330000006"],
]


def test_bare_phone_digits_under_a_phone_header_are_phone_numbers() -> None:
    # A register writes 9-digit mobile numbers without the trunk 0 or spacing
    column = by_header(["Name", "Téléphone"], BARE_PHONES)["Téléphone"]
    assert column.field == "phone"
    assert "bare runs of 7 to 9 digits" in column.detail


@pytest.mark.parametrize("header", ["Contact", "Mobile Number", "Tel ID"])
def test_bare_digits_need_a_header_that_is_a_phone_spelling(header: str) -> None:
    # alone, or under a header that only partly says phone, a run of digits may be an ID
    assert by_header(["Name", header], BARE_PHONES)[header].field != "phone"


def test_a_reordered_compound_scores_below_the_spelling_itself() -> None:
    scorer = HeaderScorer(default_configuration())
    assert scorer.match("nameFirst").score < scorer.match("First Name").score
    columns = by_header(["nameFirst", "First Name"], [["Ann", "Ann"]] * 6)
    assert columns["First Name"].field == "first_name"
    assert columns["nameFirst"].reason == "duplicate"


@pytest.mark.parametrize(
    "header",
    ["DepartmentID", "Department Code", "DEPT_NO", "JOB_ID", "Job Code", "Position Number"],
)
def test_a_code_of_a_department_or_job_is_not_its_name(header: str) -> None:
    [mapping] = mapped([header], column(["D006", "D007", "D001", "D006", "D002", "D009"])).columns
    assert (mapping.field, mapping.reason) == (None, "unknown_header")
    assert "code or key" in mapping.detail


def test_the_name_column_wins_over_the_code_column_of_the_same_field() -> None:
    rows = [["D006", "Quality Management"], ["D007", "Research"], ["D001", "Marketing"]] * 2
    columns = by_header(["DepartmentID", "DepartmentName"], rows)
    assert columns["DepartmentName"].field == "department"
    assert columns["DepartmentID"].field is None


UNITS = ["East Pct 2Nd W - Charlie", "Robbery Squad", "Comm - 1St W", "Traffic Enforcement"]
RANKS = ["Police Officer", "Police Officer Detective", "Sergeant", "Parking Enfor Officer"]
DUTIES = [
    "Plans, directs and reviews the work of the unit's detectives and support staff.",
    "Responsible for patrolling an assigned area and responding to calls for service.",
    "Maintains the records of the division and prepares its monthly statistical reports.",
]


@pytest.mark.parametrize(
    ("header", "values", "field"),
    [
        ("UnitDescription", UNITS, "department"),
        ("Dept Descr", UNITS, "department"),
        ("Department Desc", UNITS, "department"),
        ("Job Code Description", RANKS, "job_title"),
        ("Rank/Title Description", RANKS, "job_title"),
    ],
)
def test_the_description_of_a_coded_thing_is_its_name(
    header: str, values: list[str], field: str
) -> None:
    # HR and ERP exports write a unit or a job as a code with its readable label beside it.
    [mapping] = mapped([header], column(values * 2)).columns
    assert (mapping.field, mapping.reason) == (field, "mapped")


def test_a_description_of_prose_is_no_job_title() -> None:
    [mapping] = mapped(["Job Description"], column(DUTIES * 2)).columns
    assert (mapping.field, mapping.reason) == (None, "values_mismatch")
    assert "short labels" in mapping.detail
    [short] = mapped(["Job Description"], column(RANKS * 2)).columns
    assert short.field == "job_title"


@pytest.mark.parametrize("header", ["Vendor Description", "Cost Unit Description"])
def test_a_description_qualified_by_another_word_stays_unmapped(header: str) -> None:
    [mapping] = mapped([header], column(UNITS * 2)).columns
    assert mapping.field is None


def test_the_unit_code_stays_out_and_its_description_is_the_department() -> None:
    codes = ["B242C", "B712R", "C312A", "B112D"]
    rows = [[code, unit] for code, unit in zip(codes, UNITS, strict=True)] * 2
    columns = by_header(["Unit", "UnitDescription"], rows)
    assert columns["UnitDescription"].field == "department"
    assert columns["Unit"].field is None


def test_a_rank_of_words_is_the_job_title_and_a_rank_of_numbers_is_not() -> None:
    [rank] = mapped(["Rank"], column(RANKS * 2)).columns
    assert rank.field == "job_title"
    [place] = mapped(["Rank"], column([1, 2, 3, 4, 5, 6])).columns
    assert place.field is None


ROSTER = [
    ["5011", "Aagard, Lori K."],
    ["4810", "Aakervik, Dag T"],
    ["DV05", "Aana, Leialoha M"],
    ["6270", "Abed, George E"],
    ["T017", "Abraha, Ytbarek"],
    ["5174", "Abraham, John M"],
]


@pytest.mark.parametrize("header", ["Serial", "Serial No.", "Serial #"])
def test_a_serial_in_a_roster_of_named_people_is_their_number(header: str) -> None:
    columns = by_header([header, "Name"], ROSTER)
    assert (columns[header].field, columns["Name"].field) == ("employee_id", "full_name")


def test_a_serial_of_row_numbers_only_counts_the_rows() -> None:
    rows = [[str(number), name] for number, (_, name) in enumerate(ROSTER, start=1)]
    columns = by_header(["Serial No", "Name"], rows)
    assert (columns["Serial No"].field, columns["Serial No"].reason) == (None, "values_mismatch")
    assert "row numbers" in columns["Serial No"].detail


def test_a_serial_number_in_a_list_without_people_is_a_devices() -> None:
    rows = [["C02XK1", "MacBook Pro", "Robbery Squad"], ["5CG73", "EliteBook", "Comm"]] * 3
    columns = by_header(["Serial Number", "Model", "Department"], rows)
    assert (columns["Serial Number"].field, columns["Serial Number"].reason) == (
        None,
        "unknown_header",
    )
    assert "no column names a person" in columns["Serial Number"].detail
    # Saying whose it is makes it the person's, names or not.
    [own] = mapped(["Employee Serial Number"], column(["5011", "4810", "DV05"])).columns
    assert own.field == "employee_id"


def test_an_identifier_fields_own_number_and_a_phone_number_stay_mapped() -> None:
    scorer = HeaderScorer(default_configuration())
    assert scorer.match("Badge Number").field == "employee_id"
    assert scorer.match("Telephone Number").usable
    assert scorer.match("Telephone Number").field == "phone"


@pytest.mark.parametrize("header", ["Organization_Id", "Company ID", "School ID"])
def test_an_organisations_id_is_not_the_persons(header: str) -> None:
    [mapping] = mapped([header], column(["1001", "1002", "1003", "1004", "1005"])).columns
    assert (mapping.field, mapping.reason) == (None, "other_party")


def test_in_a_table_of_organisations_a_bare_id_is_the_organisations() -> None:
    rows = [[str(1000 + i), name, f"info@{i}.example.com"] for i, name in enumerate(EMPLOYERS)]
    columns = by_header(["ID", "Name", "Email"], rows)
    assert (columns["ID"].field, columns["ID"].reason) == (None, "other_party")
    assert "organisation's ID" in columns["ID"].detail
    # A column that says it is a person's ID keeps its field.
    people = by_header(["Employee ID", "Name"], [[r[0], r[1]] for r in rows])
    assert people["Employee ID"].field == "employee_id"


def test_name_of_single_words_beside_surname_is_the_given_name() -> None:
    rows = [["Ann", "Lee"], ["Bob", "Roy"], ["Cy", "Doe"], ["Di", "Ek"], ["Ed", "Fox"]]
    columns = by_header(["NAME", "SURNAME"], rows)
    assert (columns["NAME"].field, columns["SURNAME"].field) == ("first_name", "last_name")
    assert "single words" in columns["NAME"].detail


def test_name_of_single_words_alone_is_no_given_name_without_a_person_beside_it() -> None:
    # A price list's "Name" column (products) has nothing that says the rows are people.
    rows = [["Widget", "12.50"], ["Gadget", "3.10"], ["Sprocket", "7"], ["Gizmo", "1"]] * 2
    columns = by_header(["Name", "Price"], rows)
    assert columns["Name"].field is None
    assert columns["Name"].reason == "values_mismatch"


def test_name_of_full_names_beside_surname_stays_a_full_name() -> None:
    rows = [[r[0], r[5]] for r in PEOPLE]
    columns = by_header(["Name", "Surname"], rows)
    assert (columns["Name"].field, columns["Surname"].field) == ("full_name", "last_name")


@pytest.mark.parametrize(
    ("header", "values"),
    [
        ("Department", ["10", "20", "30", "20", "10", "50"]),
        ("Dept", ["D006", "D007", "D001", "D006", "D002", "D009"]),
        ("Job", ["AD_PRES", "AD_VP", "IT_PROG", "FI_MGR", "SA_REP", "ST_CLERK"]),
    ],
)
def test_a_department_or_job_column_of_codes_is_a_values_mismatch(
    header: str, values: list[str]
) -> None:
    [mapping] = mapped([header], column(values)).columns
    assert (mapping.field, mapping.reason) == (None, "values_mismatch")
    assert "codes or numbers" in mapping.detail


@pytest.mark.parametrize(
    ("field", "label"),
    [("salary", None), ("alpha", None), ("notes", "Remarks"), ("building", "Building")],
)
def test_a_configurations_own_text_field_of_numbers_is_mapped(
    field: str, label: str | None
) -> None:
    """Only a text field whose name or label names a thing (department, job title) refuses a
    column of codes: a configuration's "salary" or "notes" text field may well hold numbers."""
    spec = ConfigurationSpec.model_validate(
        {"fields": [{"name": "full_name", "type": "full_name"}, {"name": field, "label": label}]}
    )
    header = label or field
    rows = [["Ann Lee", "10"], ["Bo Ray", "20"], ["Cy Lu", "30"], ["Di Ek", "0"]] * 2
    assert by_header(["Name", header], rows, spec)[header].field == field


def test_short_capitalised_names_are_no_codes() -> None:
    departments = ["HR", "IT", "Sales", "R&D", "Finance", "HR"]
    titles = ["CEO", "CFO", "Engineer II", "RN", "VP Sales", "Clerk"]
    columns = by_header(["Department", "Title"], list(zip(departments, titles, strict=True)))
    assert (columns["Department"].field, columns["Title"].field) == ("department", "job_title")


def test_headers_in_other_languages_and_scripts_map() -> None:
    rows = [["Громова Алина Витальевна", "ассистент", "Кафедра физики"]] * 6
    columns = by_header(["ФИО", "Должность", "Подразделение"], rows)
    assert [c.field for c in columns.values()] == ["full_name", "job_title", "department"]
    chinese = by_header(["姓名", "職稱"], [["陳俞融", "教授"], ["楊仲準", "副教授"]] * 3)
    assert (chinese["姓名"].field, chinese["職稱"].field) == ("full_name", "job_title")


def test_unspaced_east_asian_names_are_full_names_not_given_names() -> None:
    rows = [["0001", "张三"], ["0002", "李四"], ["0003", "王五"], ["0004", "赵六六"]] * 2
    columns = by_header(["employee_id", "employee_name"], rows)
    assert columns["employee_name"].field == "full_name"


def test_a_customer_table_with_a_contact_person_keeps_the_companys_phone_out() -> None:
    # Northwind's Customers: company names without company words, a contact person per row.
    rows = [
        ["ALFKI", "Alfreds Futterkiste", "Maria Anders", "Sales Representative", "030-0074321"],
        ["ANATR", "Ana Trujillo Emparedados", "Ana Trujillo", "Owner", "(5) 555-4729"],
        ["ANTON", "Antonio Moreno Taquería", "Antonio Moreno", "Owner", "(5) 555-3932"],
        ["AROUT", "Around the Horn", "Thomas Hardy", "Sales Representative", "(171) 555-7788"],
        [
            "BERGS",
            "Berglunds snabbköp",
            "Christina Berglund",
            "Order Administrator",
            "0921-12 34 65",
        ],
    ]
    headers = ["customerID", "companyName", "contactName", "contactTitle", "phone"]
    columns = by_header(headers, rows)
    assert columns["contactName"].field == "full_name"
    assert (columns["phone"].field, columns["phone"].reason) == (None, "other_party")


def test_people_with_an_employer_column_are_still_people() -> None:
    rows = [["Acme Electric Ltd", r[4], r[5], r[1]] for r in PEOPLE]
    columns = by_header(["Company", "First Name", "Last Name", "Email"], rows)
    assert [columns[h].field for h in ("First Name", "Last Name", "Email")] == [
        "first_name",
        "last_name",
        "email",
    ]


def test_a_country_is_no_organisation() -> None:
    rows = [["USA", "Denver", "David", "Aardsma"], ["USA", "Mobile", "Hank", "Aaron"]] * 3
    columns = by_header(["birthCountry", "birthCity", "nameFirst", "nameLast"], rows)
    assert (columns["nameFirst"].field, columns["nameLast"].field) == ("first_name", "last_name")


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ([1, 2, 3, 4, 5], "row numbers"),
        (["241a444f0b330b22", "527fbda08922b018"], "machine keys"),
        (["0035e00000AbCdEAAZ", "0035e00000XyZwVAA1", "0035e00000QrStUAA3"], "machine keys"),
    ],
)
def test_a_bare_id_of_row_numbers_or_machine_keys_is_no_employee_id(
    values: list[Cell], why: str
) -> None:
    [mapping] = mapped(["ID"], column(values)).columns
    assert (mapping.field, mapping.reason) == (None, "values_mismatch")
    assert why in mapping.detail


def test_a_bare_id_of_staff_numbers_is_the_employee_id() -> None:
    [mapping] = mapped(["ID"], column(["1042", "1007", "2210", "1311", "1402"])).columns
    assert mapping.field == "employee_id"


@pytest.mark.parametrize("key", ["id departamento", "department_id", "DeptID", "manager_id"])
def test_a_bare_id_of_row_numbers_beside_a_key_of_another_table_is_the_employee_id(
    key: str,
) -> None:
    # A database dump of an employee table: its own key, then the department's
    names = ["Ana Souza", "Carlos Lima"] * 3
    rows: list[list[Cell]] = [[n, name, 100 + n % 3] for n, name in enumerate(names, 1)]
    columns = by_header(["id", "nome", key], rows)
    assert columns["id"].field == "employee_id"
    assert key in columns["id"].detail
    assert columns[key].field is None


def test_a_bare_id_of_row_numbers_beside_the_persons_own_id_is_not_the_employee_id() -> None:
    rows: list[list[Cell]] = [[n, f"E{n:03}", "Ann Lee", 101] for n in range(1, 7)]
    columns = by_header(["ID", "Employee ID", "Name", "Dept ID"], rows)
    assert columns["Employee ID"].field == "employee_id"
    assert columns["ID"].field is None


def test_a_players_team_and_position_are_no_department_and_job_title() -> None:
    rows = [["Tim Hardaway Jr.", "DAL", "Guard"], ["Luka Doncic", "DAL", "Guard"]] * 3
    columns = by_header(["PLAYER", "TEAM", "Position"], rows)
    assert columns["PLAYER"].field == "full_name"
    assert (columns["TEAM"].field, columns["Position"].field) == (None, None)
    assert "players" in columns["TEAM"].detail
    staff = by_header(["Name", "Team", "Position"], rows)
    assert (staff["Team"].field, staff["Position"].field) == ("department", "job_title")


def test_quoted_not_disclosed_names_are_placeholders_not_evidence() -> None:
    names = ["Sir Stephen Laws", "'N/D'", "'N/D'", "Ian Watmore", "Vacant", "Antonia Romeo"]
    rows = column([*names, "Oliver Robbins", "'N/D'", "Jenny Grey"])
    assert by_header(["Name"], rows)["Name"].field == "full_name"


def test_in_a_table_of_orders_an_employee_id_points_elsewhere() -> None:
    rows = [["10248", "VINET", "5", "1996-07-04"], ["10249", "TOMSP", "6", "1996-07-05"]] * 3
    columns = by_header(["OrderID", "CustomerID", "EmployeeID", "OrderDate"], rows)
    assert (columns["EmployeeID"].field, columns["EmployeeID"].reason) == (None, "other_party")
    assert "order records" in columns["EmployeeID"].detail
    # A table keyed by the person's own ID, or by a neutral record number, is the person's.
    staff = by_header(["Record ID", "Employee ID", "Name"], [["1", "E7", "Ann Lee"]] * 6)
    assert staff["Employee ID"].field == "employee_id"


@pytest.mark.parametrize(
    ("header", "field"),
    [("研究室電話", "phone"), ("辦公室電話", "phone"), ("Telefon dienstlich", "phone")],
)
def test_compounds_and_qualifiers_after_the_noun(header: str, field: str) -> None:
    # Chinese writes "office phone" as one word; German puts "dienstlich" (work) after "Telefon".
    match = HeaderScorer(default_configuration()).match(header)
    assert (match.field, match.block) == (field, None), match


def test_a_cjk_compound_with_an_unknown_part_is_not_taken() -> None:
    match = HeaderScorer(default_configuration()).match("英文姓名")  # the English name
    assert match.block == "modifier" and match.word == "英文"


# -- courtesy titles and suffixes (issue 17) -----------------------------------------------------

TITLES = ["Mr.", "Ms.", "Dr.", "Mrs", "Mr.", "Prof."]
JOBS = ["Estimator", "Foreman", "Apprentice", "Electrician", "Estimator", "Clerk"]


def test_a_title_column_of_honorifics_is_the_name_prefix() -> None:
    # Outlook's "Title" is Mr./Ms.: with or without a "Job Title" column, it is no job title.
    rows = [[title, job] for title, job in zip(TITLES, JOBS, strict=True)]
    columns = by_header(["Title", "Job Title"], rows)
    assert (columns["Title"].field, columns["Job Title"].field) == ("name_prefix", "job_title")
    assert "6 of 6 sampled values fit name_prefix" in columns["Title"].detail
    assert by_header(["Title"], column(TITLES))["Title"].field == "name_prefix"


def test_a_title_column_of_job_titles_stays_the_job_title() -> None:
    assert by_header(["Title"], column(JOBS))["Title"].field == "job_title"
    # A few titles are not enough evidence to take a column away from its header.
    assert by_header(["Title"], column(["Mr.", "Dr."]))["Title"].field == "job_title"


def test_honorifics_without_a_name_prefix_field_are_still_no_job_titles() -> None:
    data = default_configuration().model_dump()
    data["fields"] = [f for f in data["fields"] if f["name"] != "name_prefix"]
    data["derive_names"] = []
    title = by_header(["Title"], column(TITLES), ConfigurationSpec(**data))["Title"]
    assert (title.field, title.reason) == (None, "values_mismatch")


@pytest.mark.parametrize(
    "values",
    [
        ["Dr.", "M.Sc.", "Dipl. Päd.", "M.A.", "Dr.", "Dipl.Sozpäd."],  # a German "Titel"
        ["Dr. rer. nat.", "Prof. Dr.", "M.A.", "Dr.", "B.Sc.", "Dr."],
    ],
)
def test_a_title_column_of_academic_degrees_is_no_job_title(values: list[str]) -> None:
    title = by_header(["Titel"], column(values))["Titel"]
    assert (title.field, title.reason) == (None, "values_mismatch")
    assert "academic or courtesy titles" in title.detail


def test_abbreviated_job_titles_are_job_titles() -> None:
    values = ["Asst. Prof.", "Mgr.", "Sr. Engineer", "Dir.", "Asst. Prof.", "VP Sales"]
    assert by_header(["Title"], column(values))["Title"].field == "job_title"


@pytest.mark.parametrize(
    ("header", "values", "field"),
    [
        ("Salutation", TITLES, "name_prefix"),
        ("Anrede", ["Herr", "Frau", "Herr", "Frau", "Herr"], "name_prefix"),
        ("prefix", TITLES, "name_prefix"),
        ("Suffix", ["Jr.", "III", "Sr", "PhD", "MD, PhD"], "name_suffix"),
    ],
)
def test_prefix_and_suffix_headers_map_when_their_values_agree(
    header: str, values: list[str], field: str
) -> None:
    assert by_header([header], column(values))[header].field == field


def test_a_salutation_column_of_letter_openings_is_no_name_prefix() -> None:
    openings = [f"Dear {name}," for name in ["Ann", "Bob", "Cy", "Di", "Ed"]]
    assert by_header(["Salutation"], column(openings))["Salutation"].reason == "values_mismatch"


def test_a_list_of_managers_keyed_by_their_id_is_a_list_of_people() -> None:
    rows = [[r[0], str(10 + i), "3"] for i, r in enumerate(PEOPLE)]
    columns = by_header(["ManagerName", "ManagerID", "DeptID"], rows)
    assert columns["ManagerName"].field == "full_name"
    # Beside another person's name, the manager stays another party.
    staff = by_header(
        ["Employee Name", "ManagerName", "ManagerID"], [[r[0], r[0], "1"] for r in PEOPLE]
    )
    assert staff["ManagerName"].reason == "other_party"


def test_single_word_names_in_arabic_are_whole_names() -> None:
    rows = [["1111", "دعاء جلود نايف"], ["2222", "فرح"], ["3333", "مرتضى عقيل ياس"]]
    rows += [["4444", "زينب"], ["5555", "حسين"], ["6666", "نور"]]
    columns = by_header(["الرقم الوظيفي", "الاسم"], rows)
    assert (columns["الاسم"].field, columns["الرقم الوظيفي"].field) == ("full_name", "employee_id")


def test_every_column_lists_its_candidates_winner_first() -> None:
    rows = [[r[0], r[1], r[1]] for r in PEOPLE]
    columns = by_header(["Name", "Email", "Emial"], rows)
    name = columns["Name"].as_dict()["candidates"]
    assert isinstance(name, list)
    # The decision first, marked chosen, with its header score and value evidence.
    assert name[0] == {"field": "full_name", "header": 0.99, "values": 1.0, "sample": 6,
                       "why": "chosen"}  # fmt: skip
    # Runners-up, at most three in all, each with why it lost.
    assert 1 < len(name) <= 3
    assert name[1]["field"] == "first_name"
    assert "below match_threshold" in str(name[1]["why"])
    # A refused column's closest field is listed first with the column's own reason.
    emial = columns["Emial"].candidates
    assert (emial[0].field, emial[0].why) == ("email", columns["Emial"].detail)
    assert "mapped from column C" in emial[0].why


def test_candidates_never_change_the_decision_and_a_blank_header_has_none() -> None:
    columns = by_header(["Date", ""], [["2020-01-01", "x"]] * 6)
    date = columns["Date"]
    assert date.field is None and date.reason == "unknown_header"
    assert [c.field for c in date.candidates][:2] == ["date_of_birth", "hire_date"]
    assert all(c.why != "chosen" for c in date.candidates)
    assert columns[""].candidates == () and "candidates" not in columns[""].as_dict()
