"""Outputs on disk: the workbook's content (both writers), atomic saves, and failures mid-run."""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from ade.db.configuration_spec import default_configuration
from ade.worker.engine import output, pipeline, table_run
from ade.worker.engine.output import XLSX_NAME, OutputWriter
from ade.worker.engine.validate import Issue
from ade.worker.engine.workbook import EXCEL_MAX_TEXT, BookProcess, WorkbookWriterError
from tests.worker.engine.builders import run, write_csv


@pytest.fixture(params=["in-process", "second process"])
def writer_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the workbook written here and by a child process."""
    kind: str = request.param
    if kind == "second process":
        monkeypatch.setattr(output, "SECOND_PROCESS_MIN_BYTES", 0)
    return kind


def sheet_rows(path: Path, title: str) -> list[list[Any]]:
    workbook = load_workbook(path, read_only=True)
    try:
        return [list(row) for row in workbook[title].iter_rows(values_only=True)]
    finally:
        workbook.close()


def issue(row: int, value: str) -> Issue:
    return Issue(1, "S", row, "B", "email", value, "invalid_value", "not an email address")


def test_workbook_holds_every_table_then_the_issues(tmp_path: Path, writer_kind: str) -> None:
    writer = OutputWriter(tmp_path, input_bytes=10)
    wide = writer.open_table(1, "Roster", ["ID", "Name", "Paid", "Born", "Note"])
    narrow = writer.open_table(2, "Roster", ["Code"])
    many = writer.open_table(3, "Side: [x]", [f"c{i}" for i in range(40)])
    # Side-by-side tables arrive interleaved, and issues between their rows.
    for number in range(1, 1201):
        wide.write([number, f"p{number}", number + 0.5, dt.date(2000, 1, 1), None])
        if number % 400 == 0:
            writer.issue(issue(number, f"bad{number}"))
        narrow.write([f"K{number}"])
    many.write(list(range(40)))
    writer.finish({"ok": True})

    book = tmp_path / XLSX_NAME
    assert load_workbook(book, read_only=True).sheetnames == [
        "1 Roster",
        "2 Roster",
        "3 Side_ _x_",
        "Issues",
    ]
    wide_rows = sheet_rows(book, "1 Roster")
    assert wide_rows[0] == ["ID", "Name", "Paid", "Born", "Note"]
    assert len(wide_rows) == 1201
    number, name, paid, born, note = wide_rows[1200]
    assert (number, name, paid, note) == (1200, "p1200", 1200.5, None)
    assert born == dt.datetime(2000, 1, 1)  # a real date cell, with a date format
    assert sheet_rows(book, "2 Roster")[-1] == ["K1200"]
    assert sheet_rows(book, "3 Side_ _x_")[1] == list(range(40))
    issues = sheet_rows(book, "Issues")
    assert issues[0] == ["table", "sheet", "row", "column", "field", "value", "code", "message"]
    assert [row[2] for row in issues[1:]] == [400, 800, 1200]
    with (tmp_path / "issues.csv").open(newline="", encoding="utf-8") as handle:
        assert [r["value"] for r in csv.DictReader(handle)] == ["bad400", "bad800", "bad1200"]
    assert not list(tmp_path.glob(".*partial"))


def test_date_fields_are_date_cells_in_the_workbook_and_iso_text_in_the_csv(
    tmp_path: Path, writer_kind: str
) -> None:
    """Excel sorts and filters a date column only when its cells are dates; a value that is no
    date stays the text the person wrote, and the header stays a header."""
    source = write_csv(
        tmp_path / "hires.csv",
        [
            ["Employee ID", "First Name", "Last Name", "Hire Date", "Notes"],
            ["7", "Ann", "Lee", "03/15/2021", "2021-03-15"],
            ["8", "Bo", "Ray", "not yet", "x"],
            ["9", "Cy", "Lu", "", "y"],
            ["10", "Di", "Ek", "1745-03-21", "z"],  # before Excel's dates begin (1900)
        ],
    )
    out = tmp_path / "out"
    run(source, out)
    rows = sheet_rows(out / XLSX_NAME, "1 hires")
    header = rows[0]
    hired = header.index("Hire Date")
    assert [row[hired] for row in rows[1:]] == [
        dt.datetime(2021, 3, 15),
        "not yet",
        None,
        "1745-03-21",
    ]
    assert rows[1][header.index("Notes")] == "2021-03-15"  # kept text is no date field
    with (out / "tables" / "1.csv").open(newline="", encoding="utf-8-sig") as handle:
        assert [r["Hire Date"] for r in csv.DictReader(handle)] == [
            "2021-03-15",
            "not yet",
            "",
            "1745-03-21",
        ]
    workbook = load_workbook(out / XLSX_NAME)
    try:
        assert workbook["1 hires"].cell(2, hired + 1).number_format == "yyyy-mm-dd"
    finally:
        workbook.close()


def test_text_stays_text_and_overlong_text_is_cut_in_the_workbook_only(
    tmp_path: Path, writer_kind: str
) -> None:
    long_text = "x" * (EXCEL_MAX_TEXT + 10)
    writer = OutputWriter(tmp_path)
    sink = writer.open_table(1, "S", ["Formula-like", "Long"])
    sink.write(['=HYPERLINK("http://evil")', long_text])
    writer.finish({})
    assert sheet_rows(tmp_path / XLSX_NAME, "1 S")[1] == [
        '=HYPERLINK("http://evil")',
        "x" * EXCEL_MAX_TEXT,
    ]
    with (tmp_path / "tables" / "1.csv").open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle))[1][1] == long_text


def test_abort_leaves_no_workbook_and_stops_the_writer(tmp_path: Path, writer_kind: str) -> None:
    writer = OutputWriter(tmp_path)
    sink = writer.open_table(1, "S", ["a"])
    for number in range(2000):
        sink.write([number])
    book = writer._book
    writer.abort()
    assert not (tmp_path / XLSX_NAME).exists()
    assert not list(tmp_path.glob(".*partial"))
    if isinstance(book, BookProcess):
        assert book._process.poll() is not None  # the child is gone, not left behind


def test_a_dead_writer_process_fails_the_run_without_a_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "SECOND_PROCESS_MIN_BYTES", 0)
    writer = OutputWriter(tmp_path)
    sink = writer.open_table(1, "S", ["a"])
    book = writer._book
    assert isinstance(book, BookProcess)
    book._process.kill()
    book._process.wait()
    with pytest.raises(WorkbookWriterError, match="stopped"):
        for number in range(100_000):  # until the pipe reports the dead reader
            sink.write([number])
        writer.finish({})
    writer.abort()
    assert not (tmp_path / XLSX_NAME).exists()
    assert not (tmp_path / "summary.json").exists()


_KILLED_PARENT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ade.worker.engine import output
    output.SECOND_PROCESS_MIN_BYTES = 0
    writer = output.OutputWriter(Path(sys.argv[1]))
    sink = writer.open_table(1, "S", ["a"])
    for number in range(5000):
        sink.write([number])
    print(writer._book._process.pid, flush=True)
    time.sleep(60)
    """
)


def test_a_killed_engine_takes_its_writer_process_with_it(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    parent = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PARENT, str(tmp_path)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)
    assert not (tmp_path / XLSX_NAME).exists()


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie awaiting its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_long_tables_report_progress_as_they_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_run, "PROGRESS_SECONDS", 0.0)
    rows = [["First Name", "Last Name"]] + [["Ann", "Lee"] for _ in range(1000)]
    _, events = run(write_csv(tmp_path / "p.csv", rows), tmp_path / "out")
    progress = [e["rows"] for e in events if e["event"] == "table.progress"]
    assert progress == [256, 512, 768]  # the clock is read every 256 rows


def _extract_with_writer_process(source: str, out: str) -> None:
    output.SECOND_PROCESS_MIN_BYTES = 0
    pipeline.extract(source, default_configuration(), out)


def test_writer_process_starts_from_the_workers_daemon_engine_child(tmp_path: Path) -> None:
    """The worker runs the engine in a daemonic `spawn` child, which may not use multiprocessing
    children of its own: the writer is a plain subprocess, so it works there too."""
    rows = [["Employee ID", "Department"]] + [[f"e{i}", f"Unit {i}"] for i in range(3000)]
    source = write_csv(tmp_path / "p.csv", rows)
    child = multiprocessing.get_context("spawn").Process(
        target=_extract_with_writer_process, args=(str(source), str(tmp_path / "out")), daemon=True
    )
    child.start()
    child.join(120)
    assert child.exitcode == 0
    written = sheet_rows(tmp_path / "out" / XLSX_NAME, "1 p")
    header, last = written[0], written[-1]
    assert len(written) == 3001
    assert (last[header.index("Employee ID")], last[header.index("Department")]) == (
        "e2999",
        "Unit 2999",
    )
