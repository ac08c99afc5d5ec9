"""Value profiles of the name prefix and suffix types: what a column of them holds."""

from __future__ import annotations

import pytest

from ade.worker.engine.cells import Cell
from ade.worker.engine.value_profiles import is_honorific, is_label, is_name_suffix


@pytest.mark.parametrize(
    "value",
    ["Mr.", "Mr", "MRS", "ms", "Miss", "Mx", "Dr.", "Prof", "Rev.", "Fr.", "Sir", "Dame", "Lady",
     "Mme", "Mlle", "M.", "Herr", "Frau", "Sr.", "Sra.", "Srta", "Don", "Doña", "Capt.", "Col",
     "Major", "Master", "Mr. & Mrs.", "Mr/Mrs", "Rev. Dr."],
)  # fmt: skip
def test_courtesy_titles_are_honorifics(value: str) -> None:
    assert is_honorific(value)


@pytest.mark.parametrize(
    "value",
    ["Manager", "Ann", "Dear Ann,", "Jr.", "Mr. Smith", "", "12", None, 3, "Head of Sales"],
)
def test_other_values_are_not(value: Cell) -> None:
    assert not is_honorific(value)


@pytest.mark.parametrize("value", ["Jr.", "JR", "Sr", "II", "III", "IV", "PhD", "Ph.D.", "MD",
                                   "DDS", "Esq.", "CPA", "MD, PhD", "Jnr"])  # fmt: skip
def test_name_suffixes(value: str) -> None:
    assert is_name_suffix(value)


@pytest.mark.parametrize("value", ["Mr.", "Smith", "Junior Analyst", "", None, 2])
def test_values_that_are_no_name_suffix(value: Cell) -> None:
    assert not is_name_suffix(value)


@pytest.mark.parametrize(
    "value",
    ["Robbery Squad", "Parking Enforcement - P5 Squad", "Sr. Analyst", "Admin Dept.",
     "Office of the Chief Financial Officer Budget"],
)  # fmt: skip
def test_short_names_of_things_are_labels(value: str) -> None:
    assert is_label(value)


@pytest.mark.parametrize(
    "value",
    ["Plans, directs and reviews the work of the unit's detectives and support staff",
     "Answers calls for service.", "", "   ", None, 42],
)  # fmt: skip
def test_prose_and_non_text_are_not_labels(value: Cell) -> None:
    assert not is_label(value)
