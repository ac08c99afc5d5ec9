"""Sheet selection: names, positions, the active sheet, from the caller or the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError

from ade.db.configuration_spec import ConfigurationSpec, default_configuration
from ade.worker.engine.errors import EngineError
from ade.worker.engine.pipeline import extract
from ade.worker.engine.readers import detect_format
from ade.worker.engine.sheet_select import active_sheet, select_sheets, sheet_names
from tests.worker.engine.builders import write_csv, write_xlsx

ROWS = [["Name", "Email"], ["Ann Lee", "ann@x.org"]]
REAL = Path("tests/corpus/real/files")


def book(tmp_path: Path, active: int | None = None) -> Path:
    path = write_xlsx(tmp_path / "b.xlsx", {"2": ROWS, "Staff": ROWS, "Notes": ROWS})
    if active is not None:
        workbook = load_workbook(path)
        workbook.active = active
        workbook.save(path)
    return path


def spec(**options: object) -> ConfigurationSpec:
    return default_configuration().model_copy(update=options)


def select(path: Path, chosen: list[str] | None = None, **options: object) -> list[str] | None:
    """`chosen`: the caller's selection (`--sheet`); `options`: configuration keys."""
    return select_sheets(path, detect_format(path), spec(**options), chosen)


def test_nothing_selected_reads_everything_and_names_pass_unopened(tmp_path: Path) -> None:
    missing = tmp_path / "never-opened.xlsx"  # names alone need no look at the file
    assert select_sheets(missing, "xlsx", spec(), ["Staff"]) == ["Staff"]
    assert select(book(tmp_path)) is None


def test_a_callers_number_is_a_name_first_then_a_position(tmp_path: Path) -> None:
    path = book(tmp_path)
    assert select(path, ["2"]) == ["2"]  # the sheet named "2" (it is the first)
    assert select(path, ["3", "Staff"]) == ["Notes", "Staff"]
    with pytest.raises(EngineError) as error:
        select(path, ["4"])
    assert error.value.code == "sheet_not_found"
    assert error.value.message == (
        "no sheet number 4 in b.xlsx (3 sheet(s): 1 '2', 2 'Staff', 3 'Notes')"
    )


def test_configuration_types_say_name_or_position(tmp_path: Path) -> None:
    path = book(tmp_path)
    assert select(path, sheets=["2"]) == ["2"]
    assert select(path, sheets=[2, "Notes"]) == ["Staff", "Notes"]
    assert select(path, ["Notes"], sheets=[2]) == ["Notes"]  # the caller's selection wins


def test_active_sheet_of_an_xlsx_is_its_active_tab(tmp_path: Path) -> None:
    assert select(book(tmp_path, active=2), active_sheet_only=True) == ["Notes"]
    assert select(book(tmp_path, active=0), active_sheet_only=True) == ["2"]


def test_active_sheet_of_real_files() -> None:
    ods = REAL / "cs109_titanic_passengers.ods"  # saved on its last sheet
    assert active_sheet(ods, "ods") == ["Passenger class of those who survived"]
    xls = next(p for p in sorted(REAL.glob("*.xls")) if detect_format(p) == "xls")
    assert active_sheet(xls, "xls") == sheet_names(xls, "xls")[:1]


def test_csv_has_one_sheet_at_position_one(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", ROWS)
    assert select(path, ["1"]) == ["people"]
    assert select(path, active_sheet_only=True) is None
    with pytest.raises(EngineError):
        select(path, sheets=[2])


def test_a_run_reads_only_the_selected_sheets(tmp_path: Path) -> None:
    path = book(tmp_path, active=1)
    summary = extract(path, spec(active_sheet_only=True), tmp_path / "out")
    assert [s["name"] for s in summary.sheets] == ["Staff"]
    summary = extract(path, spec(sheets=[3, 1]), tmp_path / "out2")
    assert [s["name"] for s in summary.sheets] == ["Notes", "2"]


@pytest.mark.parametrize(
    "options",
    [
        {"sheets": [0]},
        {"sheets": [""]},
        {"sheets": [True]},
        {"sheets": [1.5]},
        {"sheets": ["Staff"], "active_sheet_only": True},
    ],
)
def test_bad_selections_are_configuration_errors(options: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ConfigurationSpec.model_validate({"fields": [{"name": "a"}], **options})


def test_defaults_leave_existing_configurations_unchanged() -> None:
    parsed = ConfigurationSpec.model_validate({"fields": [{"name": "a"}]})
    assert parsed.sheets == [] and parsed.active_sheet_only is False
