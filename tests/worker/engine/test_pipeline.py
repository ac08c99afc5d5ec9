"""End to end: real files through `extract`, checking outputs, summary, issues and events."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from ade.db.configuration_spec import ConfigurationSpec
from ade.worker.engine.errors import EngineError
from ade.worker.engine.events import NdjsonLog
from ade.worker.engine.pipeline import extract
from tests.worker.engine.builders import read_table, run, summary_json, write_csv, write_xlsx


def test_messy_csv_end_to_end(tmp_path: Path) -> None:
    rows = [
        ["Staff list"],
        [],
        ["Emp ID", "Name", "E-mail", "Phone", "DOB", "Start Date", "Unnamed: 6"],
        [
            "1001",
            "SMITH, JOHN",
            "John.Smith@Example.com",
            "(555) 123-4567",
            "25/12/1980",
            "2020-01-05",
            "x",
        ],
        ["1002", "o'neil, mary", "bad-email", "555.987.6543", "03/04/1975", "yesterday", ""],
        [],
        ["1003", "Ann McDonald-Smith", "", "", "", "", ""],
        ["Total", "3", "", "", "", "", ""],
    ]
    path = write_csv(tmp_path / "staff.csv", rows, encoding="cp1252", delimiter=";")
    out = tmp_path / "out"
    summary, _ = run(path, out)
    [table] = summary.tables
    assert table["range"] == "A3:G7"
    assert table["header_rows"] == [3]
    assert table["rows"] == 3
    assert table["end_reason"] == "totals"
    reasons = {m["header"]: m["reason"] for m in table["mapping"]}
    assert reasons["Unnamed: 6"] == "blank_header"
    assert table["date_orders"]["date_of_birth"] == {"order": "dmy", "basis": "inferred"}
    records = read_table(out, 1)
    assert [r["Full Name"] for r in records] == ["John Smith", "Mary O'Neil", "Ann McDonald-Smith"]
    assert [r["First Name"] for r in records] == ["John", "Mary", "Ann"]
    assert [r["Last Name"] for r in records] == ["Smith", "O'Neil", "McDonald-Smith"]
    assert records[0]["Email"] == "john.smith@example.com"
    assert records[1]["Email"] == "bad-email"  # kept as written, with an issue
    assert records[1]["Date of Birth"] == "1975-04-03"
    assert records[1]["Hire Date"] == "yesterday"
    issues = {(i["field"], i["row"], i["column"], i["value"]) for i in _issues_csv(out)}
    assert ("email", "5", "C", "bad-email") in issues
    assert ("hire_date", "5", "F", "yesterday") in issues
    assert summary.issues.by_field == {
        "email": {"invalid_value": 1},
        "hire_date": {"invalid_value": 1},
    }


def _issues_csv(out: Path) -> list[dict[str, str]]:
    with (out / "issues.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_workbook_with_every_layout(tmp_path: Path) -> None:
    roster: list[list[Any]] = [
        ["Quarterly roster", None, None, None, None, None],
        [None, None, None, None, None, None],
        [None, "Employee", None, "Contact", None, None],
        [None, "First", "Last", "Email", "Phone", "Hire Date"],
        [None, "ann", "LEE", "ANN@X.ORG", "555-010-1000", dt.datetime(2021, 5, 3)],
        [None, "Bob", "Roy", "bob@x.org", "555-010-2000", 44197],
        [None, "Total", None, None, None, None],
    ]
    side: list[list[Any]] = [
        ["Name", "Email", None, "Dept", "Head count"],
        ["Cy Doe", "cy@x.org", None, "Sales", 4],
        ["Di Ek", "di@x.org", None, "Ops", 2],
    ]
    path = write_xlsx(
        tmp_path / "book.xlsx",
        {
            "Read me": [["Fill in one row per person."]],
            "Roster": roster,
            "Side": side,
            "Lists": [["Departments"], ["Sales"], ["Ops"]],
        },
        hidden={"Roster": ["F"]},
        merges={"Roster": ["B3:C3", "D3:E3"]},
    )
    out = tmp_path / "out"
    summary, events = run(path, out)
    tables = summary.tables
    assert [(t["sheet"], t["range"]) for t in tables] == [("Roster", "B3:F6"), ("Side", "A1:B3")]
    # Departments and head counts beside the people: a table, but none of a person's.
    [counts] = summary.sheets[2]["skipped_tables"]
    assert (counts["range"], counts["rows"]) == ("D1:E3", 2)
    assert "maps none of the fields only a record has" in counts["reason"]
    assert "table.skipped" in [e["event"] for e in events]
    roster_table = tables[0]
    assert roster_table["header_rows"] == [3, 4]
    assert roster_table["headers"][2] == "Contact Email"
    assert roster_table["merged_header_cells"] == ["B3:C3", "D3:E3"]
    assert roster_table["hidden_columns"] == ["F"]
    assert roster_table["fields_mapped"] == {
        "first_name": "B",
        "last_name": "C",
        "email": "D",
        "phone": "E",
        "hire_date": "F",
    }
    records = read_table(out, 1)
    assert [r["Full Name"] for r in records] == ["Ann Lee", "Bob Roy"]
    assert [r["Hire Date"] for r in records] == ["2021-05-03", "2021-01-01"]
    assert records[0]["Email"] == "ann@x.org"
    assert summary.sheets[0]["tables"] == [] and summary.sheets[3]["tables"] == []
    workbook = load_workbook(out / "normalized.xlsx", read_only=True)
    assert workbook.sheetnames == ["1 Roster", "2 Side", "Issues"]
    data = summary_json(out)
    assert data["tables_found"] == 2
    assert [e["event"] for e in events][:2] == ["run.started", "sheet.started"]
    assert events[-1]["event"] == "run.finished"
    assert [e["seq"] for e in events] == list(range(len(events)))


FIRST_NAMES = ["Ann", "Bob", "Cy", "Di", "Ed"]


def test_issues_are_never_dropped(tmp_path: Path) -> None:
    rows = [["First Name", "Last Name", "Email"]]
    rows += [
        [FIRST_NAMES[i % 5], "" if i % 3 == 0 else "Lee", "nope" if i % 10 == 0 else f"p{i}@x.org"]
        for i in range(300)
    ]
    path = write_csv(tmp_path / "many.csv", rows)
    out = tmp_path / "out"
    summary, _ = run(path, out)
    assert summary.issues.by_field["email"] == {"invalid_value": 30}
    assert summary.issues.by_field["last_name"] == {"required_missing": 100}
    assert len(_issues_csv(out)) == 130
    # the summary carries each field's first three issues, for the run page
    examples = summary_json(out)["issues"]["examples"]
    assert [e["row"] for e in examples["email"]] == [2, 12, 22]
    assert {e["value"] for e in examples["email"]} == {"nope"}
    assert [e["row"] for e in examples["last_name"]] == [2, 5, 8]
    sheet = load_workbook(out / "normalized.xlsx", read_only=True)["Issues"]
    assert sum(1 for _ in sheet.iter_rows()) == 131


def test_required_field_without_any_column_is_one_table_issue(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", [["Email", "Phone"], ["a@b.co", "5551234567"]])
    summary, _ = run(path, tmp_path / "out")
    assert summary.tables[0]["missing_required"] == ["first_name", "last_name"]
    assert summary.issues.by_field == {
        "first_name": {"required_column_missing": 1},
        "last_name": {"required_column_missing": 1},
    }


def test_full_name_is_joined_from_parts(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["Given", "Surname"], ["ann", "o'neil"]])
    out = tmp_path / "out"
    run(path, out)
    assert read_table(out, 1)[0]["Full Name"] == "Ann O'Neil"


def test_custom_configuration_and_sheet_selection(tmp_path: Path) -> None:
    spec = ConfigurationSpec.model_validate(
        {"fields": [{"name": "sku", "required": True}, {"name": "qty", "type": "integer"}]}
    )
    path = write_xlsx(
        tmp_path / "s.xlsx",
        {"A": [["SKU", "Qty"], ["x1", "3"]], "B": [["SKU", "Qty"], ["y", "1.5"]]},
    )
    summary, _ = run(path, tmp_path / "out", spec, sheets=["B"])
    assert [t["sheet"] for t in summary.tables] == ["B"]
    assert summary.issues.by_field == {"qty": {"invalid_value": 1}}


def test_no_table_is_a_deterministic_failure_with_an_event(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "notes.csv", [["Just some notes"], ["nothing tabular"]])
    events: list[dict[str, Any]] = []
    with pytest.raises(EngineError) as caught:
        extract(path, _spec(), tmp_path / "out", on_event=events.append)
    assert caught.value.code == "no_table_found"
    assert events[-1]["event"] == "run.failed"
    assert events[-1]["code"] == "no_table_found"
    assert not (tmp_path / "out" / "summary.json").exists()


def _spec() -> ConfigurationSpec:
    from ade.db.configuration_spec import default_configuration

    return default_configuration()


def test_corrupt_workbook_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    with pytest.raises(EngineError) as caught:
        extract(path, _spec(), tmp_path / "out")
    assert caught.value.code == "unreadable_file"
    assert not (tmp_path / "out" / "normalized.xlsx").exists()


def test_event_log_is_appended_line_by_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["First", "Last"], ["a", "b"]])
    log_path = tmp_path / "log.ndjson"
    with NdjsonLog(log_path) as log:
        extract(path, _spec(), tmp_path / "out", on_event=log)
        lines_after_first = log_path.read_text("utf-8").splitlines()
    events = [json.loads(line) for line in lines_after_first]
    assert [e["event"] for e in events] == [
        "run.started",
        "sheet.started",
        "table.found",
        "table.finished",
        "sheet.finished",
        "run.finished",
    ]
    assert events[2]["mapping"][0] == {
        "column": "A",
        "header": "First",
        "field": "first_name",
        "score": 0.99,  # an alias: the label "First Name" would score 1.0
        "reason": "mapped",
        "detail": "header matches 'First'; 1 of 1 sampled values fit name",
        "evidence": {"type": "name", "matched": 1.0, "sample": 1},
    }


cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(',;"\n|\t'),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip())


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(cell_text, min_size=3, max_size=3), min_size=1, max_size=8))
@example(body=[["0", "0", "0"]] * 5)  # found by CI: text fields of numbers must still map
def test_csv_round_trip_of_text_fields(tmp_path: Path, body: list[list[str]]) -> None:
    # What a program reading the CSVs gets (formula defusing off; test_output covers it on).
    spec = ConfigurationSpec.model_validate(
        {
            "fields": [{"name": "alpha"}, {"name": "beta"}, {"name": "gamma"}],
            "csv_defuse_formulas": False,
        }
    )
    case = tmp_path / f"case{abs(hash(str(body)))}"
    case.mkdir(exist_ok=True)  # Hypothesis may draw the same body twice
    path = write_csv(case / "in.csv", [["alpha", "beta", "gamma"], *body])
    extract(path, spec, case / "out")
    with (case / "out" / "tables" / "1.csv").open(newline="", encoding="utf-8-sig") as handle:
        written = list(csv.reader(handle))
    expected = [[" ".join(v.split()) for v in row] for row in body]
    assert written == [["alpha", "beta", "gamma"], *expected]


def test_a_union_roster_keeps_its_own_columns_and_maps_none_of_them_wrongly(
    tmp_path: Path,
) -> None:
    rows = [
        ["Member #", "Name", "Employer", "Status", "Local", "Last Audit Date", "Email", "Notes"],
        ["1001", "Patel, ALEX", "Prairie Build Systems", "Active", "12", "2012-03-05",
         "alex@example.com", "  keep  my spacing "],
        ["1002", "O'NEIL, MARY", "Acme Electric Ltd", "Inactive", "12", "2013-04-06",
         "mary@example.com", ""],
        ["1003", "van der Berg, jan", "Northwind Construction", "Active", "7", "2014-05-07",
         "jan@example.com", "moved"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "roster.csv", rows)
    out = tmp_path / "out"
    summary, _ = run(path, out)
    [table] = summary.tables
    assert table["fields_mapped"] == {"employee_id": "A", "full_name": "B", "email": "G"}
    kept = {c["header"]: c["kept_as"] for c in table["unmapped_columns"]}
    assert kept == {
        "Employer": "Employer",
        "Status": "Status",
        "Local": "Local",
        "Last Audit Date": "Last Audit Date",
        "Notes": "Notes",
    }
    records = read_table(out, 1)
    assert [r["Full Name"] for r in records] == ["Alex Patel", "Mary O'Neil", "Jan van der Berg"]
    assert [r["Last Name"] for r in records] == ["Patel", "O'Neil", "van der Berg"]
    assert [r["Employer"] for r in records] == [row[2] for row in rows[1:]]
    assert records[0]["Notes"] == "  keep  my spacing "  # kept values are not normalized
    assert records[1]["Last Audit Date"] == "2013-04-06"
    header = next(iter(load_workbook(out / "normalized.xlsx", read_only=True)["1 roster"].values))
    assert list(header[-5:]) == ["Employer", "Status", "Local", "Last Audit Date", "Notes"]


def test_unmapped_columns_can_be_dropped_by_configuration(tmp_path: Path) -> None:
    spec = _spec().model_copy(update={"keep_unmapped_columns": False})
    path = write_csv(tmp_path / "p.csv", [["First", "Last", "Status"], ["Ann", "Lee", "x"]])
    out = tmp_path / "out"
    summary, _ = run(path, out, spec)
    assert "Status" not in read_table(out, 1)[0]
    assert summary.tables[0]["unmapped_columns"] == [
        {"column": "C", "header": "Status", "reason": "unknown_header", "kept_as": None}
    ]


def test_kept_workbook_values_keep_their_meaning(tmp_path: Path) -> None:
    sheet: list[list[Any]] = [
        ["First", "Last", "Hours", "Rate", "Audited", "Remark"],
        ["Ann", "Lee", 30.0, 12.5, dt.datetime(2024, 3, 5), "as typed "],
    ]
    path = write_xlsx(tmp_path / "w.xlsx", {"Pay": sheet})
    out = tmp_path / "out"
    run(path, out)
    [record] = read_table(out, 1)
    assert (record["Hours"], record["Rate"], record["Audited"]) == ("30", "12.5", "2024-03-05")
    assert record["Remark"] == "as typed "
    row = list(load_workbook(out / "normalized.xlsx", read_only=True)["1 Pay"].values)[1]
    assert row[-4:] == (30, 12.5, "2024-03-05", "as typed ")


def test_kept_text_loses_only_control_characters_no_workbook_can_hold(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["First", "Last", "Remark"], ["Ann", "Lee", "a\x01b\tc"]])
    out = tmp_path / "out"
    run(path, out)
    assert read_table(out, 1)[0]["Remark"] == "ab\tc"


# -- issue 17: titles in names, times in dates --------------------------------------------------


def test_titles_suffixes_and_maiden_names_stay_out_of_the_name_parts(tmp_path: Path) -> None:
    rows = [
        ["PassengerId", "Name", "Age"],
        ["1", "Braund, Mr. Owen Harris", "22"],
        ["2", "Cumings, Mrs. John Bradley (Florence Briggs Thayer)", "38"],
        ["3", "Dr Jane Smith PhD", "35"],
        ["4", "Braund, Owen Harris, Jr.", "4"],
    ]
    out = tmp_path / "out"
    run(write_csv(tmp_path / "titanic.csv", rows), out)
    records = read_table(out, 1)
    parts = [
        tuple(
            r[k] for k in ("Name Prefix", "First Name", "Middle Name", "Last Name", "Name Suffix")
        )
        for r in records
    ]
    assert parts == [
        ("Mr.", "Owen", "Harris", "Braund", ""),
        ("Mrs.", "John", "Bradley", "Cumings", ""),
        ("Dr", "Jane", "", "Smith", "PhD"),
        ("", "Owen", "Harris", "Braund", "Jr."),
    ]
    assert [r["Full Name"] for r in records] == [
        "Mr. Owen Harris Braund",
        "Mrs. John Bradley Cumings (Florence Briggs Thayer)",
        "Dr Jane Smith PhD",
        "Owen Harris Braund Jr.",
    ]


def test_a_joined_full_name_leaves_the_title_out(tmp_path: Path) -> None:
    rows = [
        ["Salutation", "First Name", "Last Name", "Suffix"],
        *[[t, f, "Patel", s] for t, f, s in [("Mr.", "Alex", "Jr."), ("Ms.", "Mary", ""),
          ("Dr.", "Sean", ""), ("Mrs.", "Ana", ""), ("Mr.", "Jan", "III")]],
    ]  # fmt: skip
    out = tmp_path / "out"
    summary, _ = run(write_csv(tmp_path / "contacts.csv", rows), out)
    assert summary.tables[0]["fields_mapped"]["name_prefix"] == "A"
    records = read_table(out, 1)
    assert [r["Full Name"] for r in records] == [
        "Alex Patel Jr.", "Mary Patel", "Sean Patel", "Ana Patel", "Jan Patel III"
    ]  # fmt: skip
    assert [r["Name Prefix"] for r in records] == ["Mr.", "Ms.", "Dr.", "Mrs.", "Mr."]


def test_a_title_comes_from_the_full_name_when_first_and_last_have_columns(tmp_path: Path) -> None:
    rows = [
        ["Name", "First Name", "Last Name"],
        ["Mr. Owen Braund", "Owen", "Braund"],
        ["Ann Lee", "Ann", "Lee"],
        ["Jane Smith MD", "Jane", "Smith"],
    ]
    out = tmp_path / "out"
    run(write_csv(tmp_path / "people.csv", rows), out)
    records = read_table(out, 1)
    assert [(r["Name Prefix"], r["Name Suffix"]) for r in records] == [
        ("Mr.", ""),
        ("", ""),
        ("", "MD"),
    ]
    assert [r["Middle Name"] for r in records] == ["", "", ""]


def test_date_fields_drop_times_and_the_summary_counts_those_not_at_midnight(
    tmp_path: Path,
) -> None:
    sheet: list[list[Any]] = [
        ["First Name", "Last Name", "Date of Birth", "Hire Date", "Last Login"],
        ["Ann", "Lee", dt.datetime(1994, 5, 12, 13, 17, 12), "2020-01-05T00:00:00",
         dt.datetime(2024, 3, 5, 8, 30)],
        ["Bob", "Roy", "1994-05-12T13:17:12", 43835.75, dt.datetime(2024, 3, 5, 9, 0)],
        ["Cy", "Doe", "5/12/1994 1:17 PM", dt.datetime(2020, 1, 5), None],
        ["Di", "Ek", dt.datetime(1994, 5, 12), "2020-01-05 00:00", None],
    ]  # fmt: skip
    out = tmp_path / "out"
    summary, _ = run(write_xlsx(tmp_path / "staff.xlsx", {"Staff": sheet}), out)
    [table] = summary.tables
    records = read_table(out, 1)
    assert [r["Date of Birth"] for r in records] == ["1994-05-12"] * 4
    assert [r["Hire Date"] for r in records] == ["2020-01-05"] * 4
    assert table["times_dropped"] == {"date_of_birth": 3, "hire_date": 1}
    assert summary.issues.total == 0  # a dropped time is no issue
    assert records[0]["Last Login"] == "2024-03-05T08:30:00"  # unmapped: kept as written
    row = list(load_workbook(out / "normalized.xlsx", read_only=True)["1 Staff"].values)[1]
    assert dt.datetime(1994, 5, 12) in row  # the date, as a date cell (no time of day)
    assert summary_json(out)["tables"][0]["times_dropped"] == table["times_dropped"]


@pytest.mark.parametrize(
    ("phones", "expected", "code"),
    [
        # A US list: one number written abroad-style settles the country of the others.
        (
            ["(555) 201-3344", "+1 555 201 4410", "555.987.6543"],
            ["+15552013344", "+15552014410", "+15559876543"],
            {"phone": "1"},
        ),
        # A number of another country among them: the national ones' country is unknown.
        (
            ["(555) 201-3344", "+44 20 7946 0958", "555.987.6543"],
            ["5552013344", "+442079460958", "5559876543"],
            {},
        ),
        # No international number at all: nothing says which country, nothing is added.
        (["(555) 201-3344", "555.987.6543"], ["5552013344", "5559876543"], {}),
    ],
)
def test_a_phone_column_is_written_in_one_form_when_its_numbers_say_the_country(
    tmp_path: Path, phones: list[str], expected: list[str], code: dict[str, str]
) -> None:
    rows = [["First Name", "Last Name", "Phone"]]
    rows += [[f"Ann{i}", "Lee", phone] for i, phone in enumerate(phones)]
    out = tmp_path / "out"
    summary, _ = run(write_csv(tmp_path / "staff.csv", rows), out)
    assert [r["Phone"] for r in read_table(out, 1)] == expected
    assert summary.tables[0]["phone_country_codes"] == code
