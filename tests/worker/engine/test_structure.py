"""Table structure faults of real public files (issue 17): rows with more fields than the header,
summary rows taken for people, and side-by-side people tables joined into one."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from ade.db.configuration_spec import ConfigurationSpec
from ade.worker.engine.errors import EngineError
from ade.worker.engine.table_model import RaggedRow
from tests.worker.engine.builders import detect, info, read_table, run, write_xlsx

# ------------------------------------------------------------------------ A. ragged CSV rows

CUSTOMER_HEADER = "Customer ID,First Name,Last Name,Address,City,Phone,Fax"
_FIRST = ["Ann", "Bob", "Cy", "Dana", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo", "Kim", "Lu"]
_STREETS = ["12 Main St", "4 Elm Rd", "9 Oak Ave", "77 Pine Ct", "3 Birch Ln", "8 Ash Way"]


def _customer_export(path: Path) -> Path:
    """A sample database's export: every other address holds an unquoted comma ("12 Main St,
    Suite 4"), so those rows have 8 fields under a 7-field header."""
    lines = [CUSTOMER_HEADER]
    for i in range(12):
        street = _STREETS[i % 6] + (", Suite 4" if i % 2 else "")
        phones = f"(555) 010-{1000 + i},(555) 020-{2000 + i}"
        lines.append(f"C{i:03},{_FIRST[i]},Lee,{street},Springfield,{phones}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _issues(out: Path) -> list[dict[str, str]]:
    with (out / "issues.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_row_with_more_fields_than_the_header_is_ragged() -> None:
    rows: list[list[Any]] = [
        ["Name", "Email", "Phone"],
        ["Ann Lee", "ann@x.org", "555-0101"],
        ["Bob Roy", "12 Main St", " Suite 4", "bob@x.org"],  # 4 fields: a value split in two
        ["Cy Doe", "cy@x.org"],  # fewer fields: trailing empty fields dropped, not a fault
        ["Di Ek", "di@x.org", "555-0104", ""],  # a trailing delimiter: harmless
    ]
    [table] = detect(rows, field_counts=True)
    assert info(table).header_fields == 3
    assert table["ragged"] == [(2, RaggedRow(4, 3, ["bob@x.org"]))]
    assert (info(table).ragged_rows, info(table).ragged_row_numbers) == (1, [2])
    assert len(table["rows"]) == 4  # the ragged row is still data


def test_workbook_rows_have_no_field_count_of_their_own() -> None:
    rows: list[list[Any]] = [["Name", "Email"], ["Ann Lee", "ann@x.org", "note"]]
    [table] = detect(rows)
    assert info(table).header_fields is None and table["ragged"] == []


def test_ragged_rows_are_reported_written_and_never_map_their_overflow_column(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    summary, _ = run(_customer_export(tmp_path / "customers.csv"), out)
    [table] = summary.tables
    mapping = {m["column"]: m for m in table["mapping"]}
    # The real phone column is judged on the rows whose cells are where the header says.
    assert table["fields_mapped"] == {"first_name": "B", "last_name": "C", "phone": "F"}
    assert mapping["H"]["field"] is None and mapping["H"]["reason"] == "overflow_column"
    assert table["header_fields"] == 7
    assert table["ragged_rows"] == 6
    assert table["ragged_row_numbers"] == [3, 5, 7, 9, 11, 13]
    ragged = [i for i in _issues(out) if i["code"] == "ragged_row"]
    assert [i["row"] for i in ragged] == ["3", "5", "7", "9", "11", "13"]
    assert ragged[0]["column"] == "H"
    assert ragged[0]["value"] == "(555) 020-2001"
    assert "8 fields" in ragged[0]["message"] and "header has 7" in ragged[0]["message"]
    assert summary.issues.by_field["(row)"] == {"ragged_row": 6}
    records = read_table(out, 1)
    assert len(records) == 12  # nothing lost: ragged rows are written, as read
    assert records[1]["Column H"] == "(555) 020-2001"


# ------------------------------------------------------------------ B. summary rows as people

BOX_HEADER = ["##", "Player", "MIN", "FG", "REB", "PTS"]
PLAYERS = [
    ["03", "Smith, John", "32", "5-10", "4", "15"],
    ["11", "Jones, Al", "30", "6-12", "7", "16"],
    ["21", "Brown, Cy", "28", "4-9", "2", "11"],
    ["24", "White, Di", "25", "3-8", "5", "9"],
    ["33", "Green, Ed", "20", "2-5", "6", "6"],
]


def test_a_box_scores_team_totals_and_summary_block_are_not_players() -> None:
    rows: list[list[Any]] = [
        BOX_HEADER,
        *PLAYERS,
        [None, "TEAM", None, None, "3", None],
        [None, "Totals", "200", "20-44", "27", "57"],
        ["FG %", "1st Half: 10-22 45.5%", "2nd Half: 10-22 45.5%", "Game: 20-44 45.5%"],
        ["3FG %", "1st Half: 2-6 33.3%", "2nd Half: 3-7 42.9%", "Game: 5-13 38.5%"],
        ["FT %", "1st Half: 4-6 66.7%", "2nd Half: 8-10 80.0%", "Game: 12-16 75.0%"],
        ["Deadball Rebounds", "2", "1"],
        ["Technical Fouls", "None"],
        ["Officials: A. Ref, B. Ref"],
    ]
    [table] = detect(rows)
    assert table["rows"] == PLAYERS
    assert info(table).end_reason == "totals"
    assert info(table).footer_rows == list(range(6, 14))
    assert info(table).cell_range == "A1:F6"


def test_team_totals_label_ends_the_table_whatever_its_figures() -> None:
    rows: list[list[Any]] = [
        BOX_HEADER,
        *PLAYERS,
        [None, "Team Totals", "200", "20-44", "27", "57"],
    ]
    [table] = detect(rows)
    assert table["rows"] == PLAYERS
    assert info(table).footer_rows == [6]


def test_a_team_column_value_with_words_is_data() -> None:
    rows: list[list[Any]] = [
        ["Group", "Name", "Hours"],
        ["Team", "Ann Lee", "8"],
        ["Staff", "Bob", "7"],
    ]
    [table] = detect(rows)
    assert len(table["rows"]) == 2


def test_a_subtotal_followed_by_more_data_still_continues_the_table() -> None:
    rows: list[list[Any]] = [
        ["Emp", "Name", "Hours"],
        ["1", "Ann Lee", "8"],
        [None, "Total", "8"],
        ["2", "Bob Roy", "7"],
    ]
    [table] = detect(rows)
    assert [r[1] for r in table["rows"]] == ["Ann Lee", "Bob Roy"]
    assert info(table).subtotal_rows == [2]


def test_the_header_again_right_under_a_subtotal_is_a_page_break() -> None:
    rows: list[list[Any]] = [
        ["Emp", "Name", "Hours"],
        ["1", "Ann Lee", "8"],
        [None, "Dept 100 Total", "8"],
        ["Emp", "Name", "Hours"],
        ["2", "Bob Roy", "7"],
    ]
    [table] = detect(rows)
    assert [r[1] for r in table["rows"]] == ["Ann Lee", "Bob Roy"]
    assert info(table).subtotal_rows == [2]
    assert info(table).repeated_headers_skipped == 1


def test_a_new_header_right_under_the_totals_starts_the_next_table() -> None:
    rows: list[list[Any]] = [
        ["Emp", "Name", "Hours"],
        ["1", "Ann Lee", "8"],
        ["Total", None, "8"],
        ["Name", "Email"],
        ["Bob Roy", "bob@x.org"],
    ]
    first, second = detect(rows, known={"name", "email"})
    assert info(first).footer_rows == [2]
    assert info(second).headers == ["Name", "Email"]
    assert second["rows"] == [["Bob Roy", "bob@x.org"]]


ANALYST_HEADER = ["First Name", "Last Name", "Email", "Q1", "Q2", "Total"]


def test_unlabelled_sum_rows_are_not_people(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ANALYST_HEADER,
        ["Ann", "Lee", "ann@x.org", 40, 52, 92],
        ["Bob", "Roy", "bob@x.org", 30, 20, 50],
        [None, None, None, 70, 72, 142],  # the West region's sum: a subtotal
        ["Cy", "Doe", "cy@x.org", 10, 12, 22],
        [None, None, "di@x.org", 5, 5, 10],  # no name, but an e-mail: a record
        [92, None, None, 85, 89, 174],  # a count where the name goes, sums beside it
    ]
    out = tmp_path / "out"
    summary, _ = run(write_xlsx(tmp_path / "book.xlsx", {"Sales": rows}), out)
    [table] = summary.tables
    assert [r["Email"] for r in read_table(out, 1)] == [
        "ann@x.org",
        "bob@x.org",
        "cy@x.org",
        "di@x.org",
    ]
    assert table["rows"] == 4
    assert table["subtotal_rows"] == [4]
    assert table["footer_rows"] == [7]
    assert table["end_reason"] == "totals"
    assert table["range"] == "A1:F6"


def test_a_row_with_an_id_and_figures_is_a_record(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["Emp ID", "First Name", "Last Name", "Hours"],
        [1001, "Ann", "Lee", 8],
        [1002, None, None, 7],
        [None, None, None, 15],
    ]
    summary, _ = run(write_xlsx(tmp_path / "b.xlsx", {"S": rows}), tmp_path / "out")
    assert summary.tables[0]["rows"] == 2
    assert summary.tables[0]["footer_rows"] == [4]


def test_without_identifying_columns_numbers_only_rows_are_records(tmp_path: Path) -> None:
    # A configuration with no field that says whose a row is: every table is its records.
    spec = ConfigurationSpec.model_validate(
        {"fields": [{"name": "department", "aliases": ["Dept"]}, {"name": "hours"}]}
    )
    rows: list[list[Any]] = [["Dept", "Hours", "Overtime"], ["Sales", 8, 1], [None, 7, 2]]
    summary, _ = run(write_xlsx(tmp_path / "c.xlsx", {"S": rows}), tmp_path / "out", spec)
    assert summary.tables[0]["rows"] == 2
    assert summary.tables[0]["footer_rows"] == []


# ------------------------------------------- C. side-by-side tables naming the same fields

LEFT = ["First Name", "Middle Name", "Last Name", "Email"]
RIGHT = ["Given Name", "M.I.", "Surname", "E-mail"]
FIELDS = {
    "first name": "first_name",
    "given name": "first_name",
    "middle name": "middle_name",
    "m.i.": "middle_name",
    "last name": "last_name",
    "surname": "last_name",
    "email": "email",
    "e-mail": "email",
}


_GIVEN = ["Ann", "Bob", "Cy", "Dana", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo", "Kim", "Lu"]
_FAMILY = ["Lee", "Roy", "Doe", "Ek", "Fox", "Gray", "Hunt", "Ives", "Jay", "Kay", "Lund", "May"]


def _side_by_side() -> list[list[Any]]:
    rows: list[list[Any]] = [[*LEFT, None, None, *RIGHT]]
    for i in range(6):
        left = [_GIVEN[i], "M", _FAMILY[i], f"{_GIVEN[i]}@x.org".lower()]
        right = [_GIVEN[i + 6], "Q", _FAMILY[i + 6], f"{_GIVEN[i + 6]}@y.org".lower()]
        rows.append([*left, None, None, *right])
    return rows


def test_side_by_side_tables_whose_headers_name_the_same_fields_stay_two() -> None:
    left, right = detect(_side_by_side(), known=FIELDS)
    assert info(left).headers == LEFT and info(right).headers == RIGHT
    assert (info(right).first_col, info(right).last_col) == (6, 9)
    assert right["rows"][0] == ["Gus", "Q", "Hunt", "gus@y.org"]


def test_a_spacer_column_between_different_fields_still_joins_one_table() -> None:
    header = ["Code", "Name", None, "Dept", "Gross"]
    body = [[f"C{i}", f"Person {i}", None, "Ops", str(100 + i)] for i in range(6)]
    known = {"name": "full_name", "dept": "department"}
    [table] = detect([header, *body], known=known)
    assert (info(table).first_col, info(table).last_col) == (0, 4)


def test_side_by_side_people_tables_are_both_extracted(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary, _ = run(write_xlsx(tmp_path / "people.xlsx", {"People": _side_by_side()}), out)
    assert [t["columns"] for t in summary.tables] == ["A:D", "G:J"]
    assert summary.tables[1]["fields_mapped"] == {
        "first_name": "G",
        "middle_name": "H",
        "last_name": "I",
        "email": "J",
    }
    assert read_table(out, 2)[0]["Email"] == "gus@y.org"


# ------------------------------------------- tables of no record: lookups, orders, counts


def test_a_file_whose_only_table_holds_no_person_fails_and_says_why(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["DeptID", "Department"], ["D001", "Marketing"], ["D002", "Sales"]]
    path = write_xlsx(tmp_path / "lookup.xlsx", {"Departments": rows})
    with pytest.raises(EngineError) as failed:
        run(path, tmp_path / "out")
    assert failed.value.code == "no_table_found"
    assert "maps none of the fields only a record has" in failed.value.message


def test_a_table_of_phones_and_birth_dates_is_still_of_people(tmp_path: Path) -> None:
    # The name column is not understood ("provider_name"), but a phone and a date of birth are
    # a person's: the table is extracted, its names kept as an unmapped column.
    rows: list[list[Any]] = [
        ["provider_name", "direct_line", "dob"],
        ["Ann Lee", "(306) 555-0101", "1984-02-01"],
        ["Bob Roy", "(306) 555-0102", "1979-11-23"],
    ]
    summary, _ = run(write_xlsx(tmp_path / "p.xlsx", {"S": rows}), tmp_path / "out")
    [table] = summary.tables
    assert set(table["fields_mapped"]) == {"phone", "date_of_birth"}
    assert summary.sheets[0]["skipped_tables"] == []


def test_rows_holding_only_a_date_name_nobody_and_are_skipped_where_they_stand(
    tmp_path: Path,
) -> None:
    # LinkedIn's connections export: some rows keep only "Connected On".
    rows: list[list[Any]] = [
        ["First Name", "Last Name", "Email Address", "Company", "Connected On"],
        ["Anjula", "Batra", "", "Prepfully", "30 May 2024"],
        ["", "", "", "", "02 Jun 2022"],
        ["Arun", "Kumar", "", "Unidor", "28 May 2024"],
        ["", "", "ann@example.com", "", "01 May 2024"],  # an e-mail names someone
    ]
    summary, _ = run(write_xlsx(tmp_path / "c.xlsx", {"Connections": rows}), tmp_path / "out")
    [table] = summary.tables
    assert table["rows"] == 3
    assert table["nameless_rows"] == [3]
    assert table["subtotal_rows"] == [] and table["footer_rows"] == []


def test_a_box_scores_team_line_among_its_players_is_no_player(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["team", "##", "Player", "MIN", "PTS", "site"],
        ["Loyola", "45", "45 Therien, Lex", 35, 16, "Reitz Arena"],
        ["Loyola", "10", "10 Sims, Koi", 28, 15, "Reitz Arena"],
        ["Loyola", "TM", "TM TEAM", 0, 0, "Reitz Arena"],
        ["Loyola", "45", "45 Therien, Lex", 30, 12, "Hill Field House"],
    ]
    out = tmp_path / "out"
    summary, _ = run(write_xlsx(tmp_path / "box.xlsx", {"Box": rows}), out)
    [table] = summary.tables
    assert table["rows"] == 3
    assert table["subtotal_rows"] == [4]
    assert [r["Full Name"] for r in read_table(out, 1)] == [
        "Lex Therien",
        "Koi Sims",
        "Lex Therien",
    ]
