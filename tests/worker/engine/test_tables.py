"""Table detection on in-memory rows: every layout the issue lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.worker.engine.builders import detect, info

HEADER = ["Name", "Email", "Phone"]
DATA = [
    ["Ann Lee", "ann@x.org", "555-0101"],
    ["Bob Roy", "bob@x.org", "555-0102"],
]


def test_header_on_row_one() -> None:
    tables = detect([HEADER, *DATA])
    assert len(tables) == 1
    assert info(tables[0]).header_rows == [0]
    assert info(tables[0]).cell_range == "A1:C3"
    assert tables[0]["rows"] == DATA


def test_title_and_preamble_rows_above_the_header() -> None:
    rows: list[list[Any]] = [
        ["Employee roster"],
        ["Company:", "Acme"],
        ["Exported 2024-05-01"],
        [],
        HEADER,
        *DATA,
    ]
    tables = detect(rows)
    assert len(tables) == 1
    assert info(tables[0]).header_rows == [4]
    assert tables[0]["rows"] == DATA


def test_preamble_directly_above_header_without_blank_row() -> None:
    rows = [["Report:", "Roster"], HEADER, *DATA]
    [table] = detect(rows)
    assert info(table).header_rows == [1]
    assert info(table).headers == HEADER


def test_a_forms_key_and_value_lines_above_the_header_are_preamble() -> None:
    # A course sheet's form: "Key:" cells beside their values (merged cells repeat them), and
    # keys still waiting for values. None of these lines names the table's columns.
    rows: list[list[Any]] = [
        ["Tutor 1:", "Tutor 1:", "Ann Lee", "Ann Lee", "ID:", "1880876-9"],
        ["Tutor 2:", "Tutor 2:", None, None, "ID:"],
        ["Hours:", None, None, "Class (common, professional):", None, "Schedule:"],
        HEADER,
        *DATA,
    ]
    [table] = detect(rows)
    assert info(table).header_rows == [3]
    assert info(table).headers == HEADER
    assert table["rows"] == DATA


def test_a_header_with_one_stray_figure_over_contradicting_data_is_the_header() -> None:
    # An attendee export numbers its first column and heads it "0".
    rows: list[list[Any]] = [
        ["0", "Registration ID", "First", "Last", "Email", "Qty"],
        ["1", "", "John", "Doe", "john@x.org", "2"],
        ["1", "", "Jane", "Doe", "jane@x.org", "1"],
    ]
    [table] = detect(rows)
    assert info(table).header_rows == [0]
    assert [r[2] for r in table["rows"]] == ["John", "Jane"]


def test_a_row_of_text_and_one_figure_over_rows_like_it_is_no_header() -> None:
    rows: list[list[Any]] = [
        ["Ann Lee", "Sales", "Blue", "North", "Yes", "3"],
        ["Bob Roy", "Ops", "Red", "South", "No", "4"],
        ["Cy Doe", "Ops", "Red", "South", "No", "5"],
    ]
    assert detect(rows) == []


def test_a_numbered_lookup_list_beside_a_table_is_not_part_of_it() -> None:
    # A faculty list, and past an empty column the numbered list of departments its
    # Department column draws on: four departments beside many more people.
    people = [["Ann Lee", "Comm", "Research"], ["Bob Roy", "Lib", "Teaching"]] * 4
    lookup: list[list[Any]] = [[1, "Comm"], [2, "Lib"], [3, "Journalism"], [4, "Media"]]
    rows: list[list[Any]] = [[None, "Faculty", "Department", "Role", None, None, "Departments"]]
    for number, person in enumerate(people, start=1):
        rows.append([number, *person, None, *(lookup[number - 1] if number <= 4 else [])])
    [table] = detect(rows)
    assert info(table).cell_range == "A1:D9"
    assert info(table).headers == ["", "Faculty", "Department", "Role"]


def test_a_list_beside_a_table_that_repeats_its_label_is_not_part_of_it() -> None:
    rows: list[list[Any]] = [[None, "Faculty", "Research Group", None, None, "Research Group"]]
    for number in range(1, 9):
        rows.append([number, f"Person {chr(64 + number)}", "Lab", None, number, f"Lab {number}"])
    [table] = detect(rows)
    assert info(table).cell_range == "A1:C9"


def test_one_sparse_column_past_a_spacer_stays_the_tables_own() -> None:
    rows: list[list[Any]] = [
        ["Name", "Email", None, "Notes"],
        ["Ann Lee", "ann@x.org", None, "on leave"],
        ["Bob Roy", "bob@x.org"],
        ["Cy Doe", "cy@x.org"],
    ]
    [table] = detect(rows)
    assert info(table).headers == ["Name", "Email", "", "Notes"]


def test_a_sub_label_may_repeat_under_another_group_label() -> None:
    # "Name" over Kanji/Latin, "Name in NES" over Kana/Pixel: "Kana" under both groups.
    rows: list[list[Any]] = [
        ["Name", "Name", None, "Name in NES", None, "Pos"],
        ["Kanji", "Latin", "Kana", "Kana", "Pixel", None],
        ["日向 小次郎", "Kojiro Hyuga", "ひゅうが", "ひゅうが", None, "CF"],
        ["新田 瞬", "Shun Nitta", "にった", "にった", None, "F"],
    ]
    [table] = detect(rows)
    assert info(table).header_rows == [0, 1]
    assert info(table).headers == [
        "Name Kanji", "Name Latin", "Name Kana", "Name in NES Kana", "Name in NES Pixel", "Pos",
    ]  # fmt: skip
    assert [r[1] for r in table["rows"]] == ["Kojiro Hyuga", "Shun Nitta"]


def test_a_note_right_above_more_data_is_skipped_and_the_table_goes_on() -> None:
    note = "Not in Wikipedia English; checked Japanese Wikipedia up to the junior high chapter"
    rows: list[list[Any]] = [HEADER, DATA[0], [], [note], DATA[1], ["Cy Doe", "cy@x.org", "555"]]
    [table] = detect(rows)
    assert table["rows"] == [DATA[0], DATA[1], ["Cy Doe", "cy@x.org", "555"]]
    assert info(table).note_rows == [3]
    assert info(table).footer_rows == []


def test_a_closing_note_and_the_line_under_it_stay_the_tables_footer() -> None:
    rules = "Business rules for this report: 1. dates are prior to the report. 2. ..."
    prepared = ["Prepared by the Policing Unit", "Page 1 of 1", "Data as of 05 Nov 12"]
    rows: list[list[Any]] = [HEADER, *DATA, [rules], prepared]
    [table] = detect(rows)
    assert table["rows"] == DATA
    assert info(table).footer_rows == [3, 4] and info(table).note_rows == []


def test_dates_over_columns_of_figures_name_periods_under_group_labels() -> None:
    # A payroll: two titles, group labels over week-start dates, Max/Min/Average/Total rows.
    weeks = [dt.date(2021, 1, 1), dt.date(2021, 1, 8)]
    rows: list[list[Any]] = [
        [None, None, "PAYROLL"],
        ["Employee Payroll"],
        [None, None, None, "Hours Worked", None, "Pay"],
        ["Last Name", "First Name", "Hourly Wage", *weeks, *weeks],
        ["Kern", "Jon", 15.9, 41, 42, 651.9, 667.8],
        ["Howard", "Glenda", 10, 42, 41, 420, 410],
        [],
        ["Max", None, 15.9, 42, 42, 651.9, 667.8],
        ["Min", None, 10, 41, 41, 420, 410],
        ["Average", None, 12.95, 41.5, 41.5, 535.95, 538.9],
        ["Total", None, None, 83, 83, 1071.9, 1077.8],
    ]
    [table] = detect(rows)
    assert info(table).header_rows == [2, 3]
    assert info(table).headers[:5] == [
        "Last Name", "First Name", "Hourly Wage", "Hours Worked 2021-01-01",
        "Hours Worked 2021-01-08",
    ]  # fmt: skip
    assert [r[0] for r in table["rows"]] == ["Kern", "Howard"]
    assert info(table).footer_rows == [7, 8, 9, 10]


def test_a_row_of_dates_over_dates_is_data() -> None:
    rows: list[list[Any]] = [
        ["Ann Lee", "Sales", dt.date(2020, 1, 6), dt.date(2021, 1, 4)],
        ["Bob Roy", "Ops", dt.date(2019, 3, 4), dt.date(2021, 2, 1)],
        ["Cy Doe", "Ops", dt.date(2018, 5, 7), dt.date(2021, 3, 1)],
    ]
    assert detect(rows) == []


def test_max_is_a_statistic_over_figures_only_and_a_name_beside_others() -> None:
    rows: list[list[Any]] = [
        ["First", "Last", "Hours"],
        ["Ann", "Lee", 10],
        ["Max", "Power", 12],
        ["Max", None, 12],
    ]
    [table] = detect(rows)
    assert table["rows"] == [["Ann", "Lee", 10], ["Max", "Power", 12]]
    assert info(table).footer_rows == [3]


def test_stacked_tables_separated_by_blank_rows_each_with_its_header() -> None:
    rows: list[list[Any]] = [
        HEADER,
        *DATA,
        [],
        ["Contractors"],
        ["Name", "Company", "Rate"],
        ["Cy Doe", "Temp Co", "55"],
        [],
        [],
        HEADER,
        ["Dee Fox", "dee@x.org", "555-0199"],
    ]
    tables = detect(rows)
    assert [info(t).headers for t in tables] == [HEADER, ["Name", "Company", "Rate"], HEADER]
    assert [len(t["rows"]) for t in tables] == [2, 1, 1]
    assert [info(t).end_reason for t in tables] == ["blank_gap", "blank_gap", "end_of_sheet"]
    assert info(tables[1]).cell_range == "A6:C7"


def test_table_at_an_offset_column() -> None:
    rows = [[], [None, None, *HEADER], *[[None, None, *r] for r in DATA]]
    [table] = detect(rows)
    assert (info(table).first_col, info(table).last_col) == (2, 4)
    assert info(table).cell_range == "C2:E4"
    assert table["rows"] == DATA


def test_two_tables_side_by_side_separated_by_an_empty_column() -> None:
    right_header = ["Dept", "Budget"]
    rows: list[list[Any]] = [
        [*HEADER, None, *right_header],
        [*DATA[0], None, "Sales", "100"],
        [*DATA[1], None, "Ops", "200"],
        [None, None, None, None, "HR", "300"],
    ]
    left, right = detect(rows)
    assert info(left).headers == HEADER and left["rows"] == DATA
    assert info(right).headers == right_header
    assert right["rows"] == [["Sales", "100"], ["Ops", "200"], ["HR", "300"]]
    assert info(right).cell_range == "E1:F4"


def test_blank_header_column_with_data_does_not_split_the_table() -> None:
    rows: list[list[Any]] = [
        ["Name", "", "Email"],
        ["Ann", "x", "ann@x.org"],
        ["Bob", "", "bob@x.org"],
    ]
    [table] = detect(rows)
    assert info(table).headers == ["Name", "", "Email"]


def test_empty_column_next_to_a_single_column_does_not_split() -> None:
    rows = [["Name", "Email", None, "Notes"], ["Ann", "a@x.org", None, "vip"]]
    [table] = detect(rows)
    assert info(table).headers == ["Name", "Email", "", "Notes"]


def test_totals_and_notes_below_a_table_are_excluded() -> None:
    rows: list[list[Any]] = [
        ["Name", "Hours"],
        ["Ann", "10"],
        ["Bob", "12"],
        ["Total", "22"],
        ["Note: hours are rounded"],
    ]
    [table] = detect(rows)
    assert table["rows"] == [["Ann", "10"], ["Bob", "12"]]
    assert info(table).end_reason == "totals"
    assert info(table).footer_rows == [3, 4]  # the total, and the note under it
    assert info(table).cell_range == "A1:B3"


def test_notes_row_after_a_gap_ends_the_table() -> None:
    rows = [["Name", "Hours"], ["Ann", "10"], [], ["Source: payroll system, extracted nightly"]]
    [table] = detect(rows)
    assert table["rows"] == [["Ann", "10"]]


def test_blank_lines_inside_data_do_not_end_the_table() -> None:
    rows = [HEADER, DATA[0], [], [], DATA[1]]
    [table] = detect(rows)
    assert table["rows"] == DATA
    assert info(table).blank_rows_skipped == 2


def test_label_row_after_gap_that_names_known_fields_starts_a_new_table() -> None:
    rows = [["Name", "Dept"], ["Ann", "Sales"], [], ["Name", "Team"], ["Bob", "Blue"]]
    tables = detect(rows, known={"name", "team"})
    assert len(tables) == 2


def test_text_row_after_gap_in_text_table_continues_it() -> None:
    rows = [["Name", "Dept"], ["Ann", "Sales"], [], ["Bob", "Ops"]]
    [table] = detect(rows, known={"name", "dept"})
    assert table["rows"] == [["Ann", "Sales"], ["Bob", "Ops"]]


def test_label_row_contradicting_typed_columns_starts_a_new_table() -> None:
    rows: list[list[Any]] = [
        ["Item", "Qty"],
        ["Pen", 3],
        ["Ink", 4],
        [],
        ["City", "Country"],
        ["Oslo", "NO"],
    ]
    tables = detect(rows)
    assert [info(t).headers for t in tables] == [["Item", "Qty"], ["City", "Country"]]


def test_repeated_header_inside_data_is_skipped() -> None:
    rows = [HEADER, DATA[0], HEADER, DATA[1]]
    [table] = detect(rows)
    assert table["rows"] == DATA
    assert info(table).repeated_headers_skipped == 1


def test_two_row_header_with_sparse_group_row_is_combined() -> None:
    rows: list[list[Any]] = [
        ["Personal", None, "Contact", None],
        ["First", "Last", "Email", "Phone"],
        ["Ann", "Lee", "ann@x.org", "555-0101"],
    ]
    [table] = detect(rows)
    assert info(table).header_rows == [0, 1]
    assert info(table).headers == [
        "Personal First",
        "Personal Last",
        "Contact Email",
        "Contact Phone",
    ]
    assert info(table).header_parts[2] == ["Contact", "Email"]


def test_two_row_header_with_filled_group_row_is_combined() -> None:
    # What a merged "Contact" over two columns looks like once the reader fills the merge.
    rows: list[list[Any]] = [
        ["ID", "Contact", "Contact"],
        ["ID", "Email", "Phone"],
        ["7", "ann@x.org", "555-0101"],
    ]
    [table] = detect(rows)
    assert info(table).header_rows == [0, 1]
    assert info(table).headers == ["ID", "Contact Email", "Contact Phone"]


def test_single_title_cell_above_header_is_not_a_group_row() -> None:
    rows = [["Staff"], HEADER, *DATA]
    [table] = detect(rows)
    assert info(table).header_rows == [1]
    assert info(table).headers == HEADER


def test_placeholder_headers_are_kept_as_text_for_mapping() -> None:
    rows = [["Name", "Unnamed: 1", "Column1", "-"], ["Ann", "a", "b", "c"]]
    [table] = detect(rows)
    assert info(table).headers == ["Name", "Unnamed: 1", "Column1", "-"]


def test_instructions_sheet_has_no_table() -> None:
    rows: list[list[Any]] = [
        ["How to fill in this workbook"],
        ["1. Enter one employee per row on the Roster sheet."],
        ["2. Dates must be real dates."],
        [],
        ["Questions? Ask HR."],
    ]
    assert detect(rows) == []


def test_one_column_lookup_list_is_not_a_table() -> None:
    rows = [["Departments"], ["Sales"], ["Ops"], ["HR"]]
    assert detect(rows) == []


def test_merged_title_repeated_across_columns_is_not_a_header() -> None:
    rows = [["Read me first"] * 5, ["Read me first"] * 5, ["Nothing else here"]]
    assert detect(rows) == []


def test_header_without_data_is_not_a_table() -> None:
    assert detect([HEADER]) == []


def test_detection_is_deterministic() -> None:
    rows = [["Title"], [], HEADER, *DATA, ["Total", "2"], [], ["A", "B"], ["1x", "2y"]]
    first = [(info(t).cell_range, t["rows"]) for t in detect(rows)]
    second = [(info(t).cell_range, t["rows"]) for t in detect(rows)]
    assert first == second and len(first) == 2


def test_subtotal_rows_are_skipped_and_the_table_goes_on() -> None:
    rows: list[list[Any]] = [
        ["Emp", "Name", "Hours"],
        ["1", "Ann Lee", "8"],
        ["2", "Bob Roy", "7"],
        [None, "DEPT 100 TOTAL", "15"],
        ["3", "Cy Doe", "6"],
        ["Subtotal", None, "6"],
        [],
        ["4", "Di Ek", "5"],
        [None, "GRAND TOTAL", "26"],
        ["Printed by payroll"],
    ]
    [table] = detect(rows)
    assert [r[1] for r in table["rows"]] == ["Ann Lee", "Bob Roy", "Cy Doe", "Di Ek"]
    assert info(table).subtotal_rows == [3, 5]
    assert (info(table).end_reason, info(table).footer_rows) == ("totals", [8, 9])


def test_a_page_break_repeating_the_reports_title_keeps_one_table() -> None:
    rows: list[list[Any]] = [
        ["PAYROLL SUMMARY", None, "Page 1"],
        [],
        HEADER,
        DATA[0],
        [],
        ["PAYROLL SUMMARY", None, "Page 2"],
        HEADER,
        DATA[1],
    ]
    [table] = detect(rows)
    assert table["rows"] == DATA
    assert info(table).page_break_rows == [5]
    assert info(table).repeated_headers_skipped == 1


def test_a_new_section_title_above_the_same_header_starts_a_new_table() -> None:
    rows: list[list[Any]] = [
        ["Department: Sales"],
        HEADER,
        DATA[0],
        [],
        ["Department: Operations"],
        HEADER,
        DATA[1],
    ]
    assert [t["rows"] for t in detect(rows)] == [[DATA[0]], [DATA[1]]]


def test_captions_above_a_header_are_not_a_group_row() -> None:
    rows: list[list[Any]] = [
        ["Team: U10 Girls", None, "Coach: Maria Lopez"],
        HEADER,
        *DATA,
    ]
    [table] = detect(rows)
    assert info(table).headers == HEADER


def test_a_row_of_field_codes_over_a_row_of_labels_is_one_header() -> None:
    rows: list[list[Any]] = [
        ["USERID", "FIRSTNAME", "EMAIL", "HIREDATE"],
        ["User ID", "First Name", "Email", "Hire Date"],
        ["u1", "Ann", "ann@x.org", "2020-01-05"],
        ["u2", "Bob", "bob@x.org", "2021-02-06"],
    ]
    [table] = detect(rows)
    assert info(table).header_rows == [0, 1]
    assert info(table).headers == ["User ID", "First Name", "Email", "Hire Date"]
    assert [r[0] for r in table["rows"]] == ["u1", "u2"]


def test_a_text_first_row_of_a_text_table_stays_data() -> None:
    rows = [["Name", "Dept", "Team"], ["Ann Lee", "Sales", "Blue"], ["Bob Roy", "Ops", "Red"]]
    [table] = detect(rows)
    assert info(table).header_rows == [0] and len(table["rows"]) == 2


def test_a_totals_caption_left_of_the_table_ends_it() -> None:
    rows: list[list[Any]] = [
        [None, "Customer", "Balance"],
        [None, "Ann Lee", "10.00"],
        [None, "Bob Roy", "5.00"],
        ["TOTAL", None, "15.00"],
    ]
    [table] = detect(rows)
    assert len(table["rows"]) == 2
    assert info(table).end_reason == "totals"


def test_an_empty_spacer_column_inside_a_long_table_does_not_split_it() -> None:
    header = ["Code", "Name", None, "Dept", "Gross"]
    body = [[f"C{i}", f"Person {i}", None, "Ops", str(100 + i)] for i in range(6)]
    [table] = detect([header, *body, ["Company Totals", "6 employees", None, None, "615"]])
    assert (info(table).first_col, info(table).last_col) == (0, 4)
    assert len(table["rows"]) == 6
    assert info(table).end_reason == "totals"
