"""Decompression bombs are refused with ``too_large`` before they cost memory or time.

Every bomb here is deflated from a generator (tests/support/xlsx_stream.py): nothing unzipped is
held or stored, and the files are a few hundred kilobytes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ade.db.configuration_spec import default_configuration
from ade.worker.engine import zip_limits
from ade.worker.engine.errors import EngineError
from ade.worker.engine.pipeline import extract
from ade.worker.engine.zip_limits import MiB, ZipLimits
from tests.support.xlsx_stream import (
    SHEET_HEAD,
    SHEET_TAIL,
    lie_about_size,
    long_shared_strings,
    padded_sheet_xml,
    shared_string_references,
    shared_strings_xml,
    sheet_xml,
    write_ods_repeated,
    write_xlsx_stream,
)

ROWS = [["First Name", "Last Name", "Email"], ["Ann", "Lee", "ann@example.org"]]


@pytest.fixture(autouse=True)
def default_limits() -> Iterator[None]:
    yield
    zip_limits.configure(ZipLimits())


def refusal(path: Path, out: Path) -> EngineError:
    with pytest.raises(EngineError) as caught:
        extract(path, default_configuration(), out)
    assert caught.value.code == "too_large"
    assert not (out / "summary.json").exists()
    return caught.value


def test_a_sheet_that_unzips_to_hundreds_of_times_its_size_is_refused(tmp_path: Path) -> None:
    bomb = write_xlsx_stream(tmp_path / "bomb.xlsx", padded_sheet_xml(ROWS, 64 * MiB))
    assert bomb.stat().st_size < 200_000
    error = refusal(bomb, tmp_path / "out")
    assert "xl/worksheets/sheet1.xml" in error.message
    assert "times its zipped size (limit 100 times)" in error.message


def test_shared_strings_beyond_the_size_limit_are_refused(tmp_path: Path) -> None:
    zip_limits.configure(ZipLimits(max_ratio=10_000, max_whole_part_bytes=2 * MiB))
    bomb = write_xlsx_stream(
        tmp_path / "strings.xlsx", sheet_xml(ROWS), shared_strings_xml(300_000)
    )
    error = refusal(bomb, tmp_path / "out")
    assert "xl/sharedStrings.xml unzips to 5 MiB, more than the limit of 2 MiB" in error.message


def test_a_part_that_unzips_beyond_what_its_directory_states_is_stopped_while_streaming(
    tmp_path: Path,
) -> None:
    """The directory is the file's own claim: a bomb can state a small size there."""
    bomb = write_xlsx_stream(tmp_path / "lie.xlsx", padded_sheet_xml(ROWS, 8 * MiB), zip64=False)
    lie_about_size(bomb, "xl/worksheets/sheet1.xml", 50_000)
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 50_000
    error = refusal(bomb, tmp_path / "out")
    assert "more than the 49 KiB its ZIP directory states" in error.message


def test_lying_shared_strings_are_stopped_before_calamine_reads_them(tmp_path: Path) -> None:
    bomb = write_xlsx_stream(
        tmp_path / "lie.xlsx", sheet_xml(ROWS), shared_strings_xml(600_000), zip64=False
    )
    lie_about_size(bomb, "xl/sharedStrings.xml", 10_000)
    error = refusal(bomb, tmp_path / "out")
    assert "xl/sharedStrings.xml unzips to more than" in error.message


def test_a_small_very_regular_part_is_not_a_bomb(tmp_path: Path) -> None:
    """Below the ratio floor (1 MiB unzipped) any ratio is fine: styles, an empty sheet."""
    workbook = write_xlsx_stream(tmp_path / "ok.xlsx", padded_sheet_xml(ROWS, 900_000))
    with zipfile.ZipFile(workbook) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        assert info.file_size > 200 * info.compress_size
    summary = extract(workbook, default_configuration(), tmp_path / "out")
    assert summary.rows == 1


def test_a_workbook_within_the_limits_is_read_whole(tmp_path: Path) -> None:
    rows = [ROWS[0]] + [[f"Ann{n}", f"Lee{n}", f"a{n}@example.org"] for n in range(3000)]
    workbook = write_xlsx_stream(tmp_path / "ok.xlsx", sheet_xml(rows))
    summary = extract(workbook, default_configuration(), tmp_path / "out")
    assert summary.rows == 3000


def test_a_long_shared_string_behind_many_cells_is_refused(tmp_path: Path) -> None:
    """Every part is small and compresses like a real one would not, but no ratio shows it:
    2,000 cells pointing to one 100,000-character string are 200 MB of cell text."""
    bomb = write_xlsx_stream(
        tmp_path / "echo.xlsx",
        shared_string_references(200, 10, ["First Name", "Notes"]),
        long_shared_strings("x" * 100_000),
    )
    assert bomb.stat().st_size < 10_000
    zip_limits.configure(ZipLimits(max_sheet_text_bytes=64 * MiB))
    error = refusal(bomb, tmp_path / "out")
    assert "xl/worksheets/sheet1.xml repeats shared strings into more than 64 MiB" in error.message


def test_a_long_shared_string_in_few_cells_is_read(tmp_path: Path) -> None:
    """The cheap bound (cells x longest string) is over the limit; the exact sum is not."""
    zip_limits.configure(ZipLimits(max_sheet_text_bytes=1 * MiB))
    rows = [["First Name", "Last Name"]] + [[f"Ann{n}", "Lee"] for n in range(4000)]
    strings = ["Lee", "First Name", "Last Name", "n" * 50_000]
    # Last names are shared-string cells; one cell at the end holds the long string.
    sheet = [SHEET_HEAD, b'<row r="1"><c t="s"><v>1</v></c><c t="s"><v>2</v></c></row>']
    for number, row in enumerate(rows[1:], start=2):
        sheet.append(
            b'<row r="%d"><c t="inlineStr"><is><t>%s</t></is></c><c t="s"><v>0</v></c></row>'
            % (number, row[0].encode())
        )
    sheet.append(b'<row r="4002"><c t="s"><v>3</v></c></row>')
    sheet.append(SHEET_TAIL)
    workbook = write_xlsx_stream(tmp_path / "ok.xlsx", sheet, long_shared_strings(*strings))
    summary = extract(workbook, default_configuration(), tmp_path / "out")
    assert summary.rows >= 4000


def test_a_damaged_deflate_stream_is_an_unreadable_file_not_a_crash(tmp_path: Path) -> None:
    rows = [ROWS[0]] + [[f"Ann{n}", f"Lee{n}", f"a{n}@example.org"] for n in range(3000)]
    workbook = write_xlsx_stream(tmp_path / "damaged.xlsx", sheet_xml(rows), zip64=False)
    with zipfile.ZipFile(workbook) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(workbook.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + 200
    data[start : start + 64] = bytes(range(64))
    workbook.write_bytes(bytes(data))
    with pytest.raises(EngineError) as caught:
        extract(workbook, default_configuration(), tmp_path / "out")
    assert caught.value.code == "unreadable_file"


def test_an_ods_whose_repeated_cells_expand_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    """Repeat attributes are a bomb of their own: 20 million cells from under a kilobyte."""
    bomb = write_ods_repeated(tmp_path / "repeated.ods", rows=20_000, columns=1000)
    assert bomb.stat().st_size < 1000
    error = refusal(bomb, tmp_path / "out")
    assert "content.xml repeats its cells into more than 4,194,304 cells" in error.message


def test_an_ods_with_modest_repeats_is_read(tmp_path: Path) -> None:
    workbook = write_ods_repeated(tmp_path / "repeated.ods", rows=500, columns=2)
    summary = extract(workbook, default_configuration(), tmp_path / "out")
    assert summary.rows == 500
