"""Key layout and validation (the one module that builds keys)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ade.storage import InvalidKey, keys

WS = uuid.UUID("6f1c9a52-3a7e-4c55-9a3e-1f2b3c4d5e6f")
RUN = uuid.UUID("0b7e5d1a-9f8c-4d2b-8e6a-7c5b4a392817")
DOC = uuid.UUID("a1b2c3d4-e5f6-4711-8899-aabbccddeeff")


def test_layout() -> None:
    assert keys.document_key(WS, DOC) == f"documents/{WS}/{DOC}"
    assert keys.run_prefix(WS, RUN) == f"runs/{WS}/{RUN}/"
    assert keys.run_output_key(WS, RUN) == f"runs/{WS}/{RUN}/output.xlsx"
    assert keys.run_table_key(WS, RUN, 3) == f"runs/{WS}/{RUN}/tables/3.csv"
    assert keys.run_summary_key(WS, RUN) == f"runs/{WS}/{RUN}/summary.json"
    assert keys.run_log_key(WS, RUN) == f"runs/{WS}/{RUN}/log.ndjson"


def test_owner_of_reads_the_layout_back() -> None:
    document = keys.owner_of(keys.document_key(WS, DOC))
    assert document == keys.KeyOwner("document", WS, DOC)
    for key in (
        keys.run_output_key(WS, RUN),
        keys.run_table_key(WS, RUN, 12),
        keys.run_summary_key(WS, RUN),
        keys.run_log_key(WS, RUN),
    ):
        assert keys.owner_of(key) == keys.KeyOwner("run", WS, RUN)
    # Keys this layout never builds belong to nobody (and are never garbage-collected).
    for foreign in (
        "backups/2024.tar",
        f"documents/{WS}",
        f"documents/{WS}/{DOC}/extra",
        f"documents/{WS}/not-a-uuid",
        f"documents/{str(WS).upper()}/{DOC}",
        f"runs/{WS}/{RUN}",
        f"other/{WS}/{RUN}/output.xlsx",
    ):
        assert keys.owner_of(foreign) is None, foreign


def test_canonical_uuid_strings_are_accepted() -> None:
    assert keys.document_key(str(WS), str(DOC)) == keys.document_key(WS, DOC)


@pytest.mark.parametrize(
    "bad_id",
    ["../etc", "", "not-a-uuid", str(WS).upper(), "{" + str(WS) + "}", f"urn:uuid:{WS}", 42],
)
def test_ids_are_validated(bad_id: object) -> None:
    with pytest.raises(InvalidKey, match="expected a UUID"):
        keys.document_key(WS, bad_id)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [0, -1, True, 1.5, "1"])
def test_table_numbers_are_validated(n: object) -> None:
    with pytest.raises(InvalidKey, match="table number"):
        keys.run_table_key(WS, RUN, n)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("../x", "'.' or '..' segment"),
        ("a/./b", "'.' or '..' segment"),
        ("/abs", "absolute path"),
        ("a//b", "empty path segment"),
        ("a/", "ends with '/'"),
        ("a\\b", "backslash"),
        ("a\x00b", "control character"),
        ("a\x7fb", "control character"),
        ("%2e%2e/x", "'.' or '..' segment"),
        ("%252e%252e/x", "'.' or '..' segment"),
        ("a/%2F/b", "empty path segment"),
        ("a%5cb", "backslash"),
        ("a%00b", "control character"),
        ("%2Fetc", "absolute path"),
        ("a%20b", "percent-encoding is not allowed"),
        ("a/b#frag", "outside [A-Za-z0-9._-]"),
        ("a/b?x=1", "outside [A-Za-z0-9._-]"),
        ("C:/x", "outside [A-Za-z0-9._-]"),
        ("caf\u00e9", "outside [A-Za-z0-9._-]"),
        (".env", "starts with '.'"),
        ("", "empty"),
        ("a" * 513, "longer than 512 bytes"),
        ("a/" + "b" * 256, "longer than 255 bytes"),
    ],
)
def test_validate_key_rejects_with_a_reason(key: str, reason: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        keys.validate_key(key)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("key", ["a", "a/b", "documents/x/y.z", "runs/a-b_c/1.csv", "a..b"])
def test_validate_key_accepts_plain_keys(key: str) -> None:
    assert keys.validate_key(key) == key


def test_non_string_key() -> None:
    with pytest.raises(InvalidKey):
        keys.validate_key(b"a/b")  # type: ignore[arg-type]


def test_prefixes() -> None:
    assert keys.validate_prefix("") == ""
    assert keys.validate_prefix("runs/") == "runs/"
    assert keys.validate_prefix("runs/w1/r") == "runs/w1/r"
    for bad in ["/", "../", "a//", "%2e%2e/"]:
        with pytest.raises(InvalidKey):
            keys.validate_prefix(bad)


@given(st.text(max_size=40))
def test_any_accepted_key_is_a_safe_relative_path(key: str) -> None:
    try:
        keys.validate_key(key)
    except InvalidKey:
        return
    segments = key.split("/")
    assert all(seg not in ("", ".", "..") and not seg.startswith(".") for seg in segments)
    assert all(ch.isascii() and (ch.isalnum() or ch in "._-/") for ch in key)
