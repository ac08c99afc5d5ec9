"""The configuration model: precise validation errors and the shipped default."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest
from pydantic import ValidationError

from ade.db.configuration_spec import (
    WORD_CHARACTERS,
    ConfigurationSpec,
    default_configuration,
    has_word_character,
    header_key,
    header_words,
    is_word_character,
    parse_configuration,
)


def errors_of(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        ConfigurationSpec.model_validate(data)
    return str(caught.value)


def test_default_configuration_covers_a_people_roster() -> None:
    spec = default_configuration()
    names = {f.name for f in spec.fields}
    assert {"first_name", "middle_name", "last_name", "full_name", "email", "phone"} <= names
    assert {"date_of_birth", "hire_date", "employee_id"} <= names
    assert spec.field("email").type == "email"
    assert spec.derive_names and spec.derive_names[0].full_name == "full_name"


def test_duplicate_field_names_are_reported_with_positions() -> None:
    message = errors_of({"fields": [{"name": "email"}, {"name": "email"}]})
    assert "fields[1]: duplicate field name 'email' (first defined at fields[0])" in message


def test_alias_claimed_by_two_fields_is_reported() -> None:
    message = errors_of(
        {
            "fields": [
                {"name": "first_name", "aliases": ["Given"]},
                {"name": "nickname", "aliases": ["given "]},
            ]
        }
    )
    assert "alias 'given ' of field 'nickname' is already claimed by field 'first_name'" in message


def test_field_name_must_be_an_identifier() -> None:
    assert "fields.0.name" in errors_of({"fields": [{"name": "First Name"}]})


def test_unknown_type_and_unknown_keys_are_rejected() -> None:
    assert "fields.0.type" in errors_of({"fields": [{"name": "a", "type": "colour"}]})
    assert "extra" in errors_of({"fields": [{"name": "a"}], "surprise": 1}).lower()


def test_derivation_must_reference_existing_fields_of_the_right_type() -> None:
    message = errors_of(
        {
            "fields": [{"name": "name", "type": "text"}, {"name": "first_name"}],
            "derive_names": [{"full_name": "name", "first_name": "first_name", "last_name": "x"}],
        }
    )
    assert "derive_names[0].last_name: unknown field 'x'" in message
    assert "must have type 'full_name'" in message


def test_default_configuration_has_name_prefix_and_suffix_right_after_the_names() -> None:
    spec = default_configuration()
    names = [f.name for f in spec.fields]
    start = names.index("full_name") + 1
    assert names[start : start + 2] == ["name_prefix", "name_suffix"]
    assert (spec.field("name_prefix").type, spec.field("name_suffix").type) == (
        "name_prefix",
        "name_suffix",
    )
    rule = spec.derive_names[0]
    assert (rule.name_prefix, rule.name_suffix) == ("name_prefix", "name_suffix")


def test_derivation_prefix_and_suffix_must_be_existing_fields() -> None:
    message = errors_of(
        {
            "fields": [
                {"name": "name", "type": "full_name"},
                {"name": "first"},
                {"name": "last"},
            ],
            "derive_names": [
                {"full_name": "name", "first_name": "first", "last_name": "last",
                 "name_prefix": "title", "name_suffix": "sfx"}
            ],
        }
    )  # fmt: skip
    assert "derive_names[0].name_prefix: unknown field 'title'" in message
    assert "derive_names[0].name_suffix: unknown field 'sfx'" in message


def test_blank_alias_and_empty_field_list_are_rejected() -> None:
    assert "has no letters or digits" in errors_of({"fields": [{"name": "a", "aliases": ["--"]}]})
    assert "fields" in errors_of({"fields": []})


def test_parse_configuration_reads_json() -> None:
    spec = parse_configuration('{"fields": [{"name": "email", "type": "email"}]}')
    assert spec.fields[0].type == "email"
    with pytest.raises(ValidationError):
        parse_configuration("{not json")


def test_header_overrides_are_validated_with_their_location() -> None:
    message = errors_of(
        {
            "fields": [{"name": "employee_id"}, {"name": "full_name", "type": "full_name"}],
            "header_overrides": {
                "Worker #": "employe_id",
                "WORKER NO.": None,
                "--": "full_name",
            },
        }
    )
    assert "header_overrides['Worker #']: unknown field 'employe_id'" in message
    assert "header_overrides['WORKER NO.']: the same header as 'Worker #'" in message
    assert "header_overrides['--']: a header needs letters or digits" in message


def test_new_mapping_options_have_safe_defaults() -> None:
    spec = default_configuration()
    assert spec.keep_unmapped_columns and spec.map_by_values
    assert spec.value_match_threshold == 0.8
    assert spec.header_overrides == {}
    assert "value_match_threshold" in errors_of(
        {"fields": [{"name": "a"}], "value_match_threshold": 2}
    )


# Script blocks whose letters and digits are header words (see WORD_CHARACTERS).
_SCRIPT_BLOCKS = [
    (0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A), (0xAA, 0x24F), (0x370, 0x3FF), (0x400, 0x52F),
    (0x531, 0x58F), (0x5D0, 0x5EA), (0x620, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F),
    (0x1100, 0x11FF), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
]  # fmt: skip


def test_word_characters_are_the_letters_and_digits_that_survive_normalization() -> None:
    """Every character of the class is a letter or digit whose normalized form is made only of
    characters of the class (so an alias that passes validation never normalizes to nothing),
    and every such letter of the scripts is in it."""
    import unicodedata

    def plain(ch: str) -> str:
        decomposed = unicodedata.normalize("NFKD", ch)
        return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()

    words = re.compile(f"[{WORD_CHARACTERS}]")
    kept = {
        chr(code)
        for low, high in _SCRIPT_BLOCKS
        for code in range(low, high + 1)
        if unicodedata.category(chr(code))[0] in "LN"
    }
    changed = True
    while changed:
        before = len(kept)
        kept = {ch for ch in kept if plain(ch) and all(c in kept for c in plain(ch))}
        changed = len(kept) != before
    in_class = {ch for low, high in _SCRIPT_BLOCKS for code in range(low, high + 1)
                if words.fullmatch(ch := chr(code))}  # fmt: skip
    assert in_class == kept


def test_python_reads_the_class_as_the_json_schemas_regex_does() -> None:
    """Python checks characters against WORD_CHARACTERS's ranges (compiling the class costs
    every process ~30 ms); over the whole Basic Multilingual Plane it must agree with the
    class as a regex, which is what the JSON schema's alias pattern says."""
    words = re.compile(f"[{WORD_CHARACTERS}]")
    disagree = [
        hex(code)
        for code in range(0x10000)
        if is_word_character(chr(code)) != bool(words.fullmatch(chr(code)))
    ]
    assert disagree == []
    non_word = re.compile(f"[^{WORD_CHARACTERS}]+")
    for text in ["Ünïcode-Straße №5", "現職 Position", "ФИО/имя", "e_mail ADDRESS:", "½ time", "Ⅻ"]:
        decomposed = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
        split = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", decomposed).lower()
        assert header_key(text) == non_word.sub(" ", split).strip()
        assert has_word_character(text) == bool(words.search(text))
    assert not has_word_character("--- / ---") and not has_word_character("— · —")


@pytest.mark.parametrize(
    ("header", "words"),
    [("ФИО", ("фио",)), ("現職 Position", ("現職", "position")), ("الاسم", ("الاسم",))],
)
def test_headers_in_other_scripts_are_words_not_blanks(header: str, words: tuple[str]) -> None:
    assert header_words(header) == words
    spec = ConfigurationSpec.model_validate(
        {"fields": [{"name": "full_name", "aliases": [header]}]}
    )
    assert spec.fields[0].aliases == [header]
