"""Table structure faults of real public files (issue 17): rows with more fields than the header,
summary rows taken for people, and side-by-side people tables joined into one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.worker.engine.builders import detect, info, read_table, run, write_xlsx

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
