"""`ade extract`: outputs, report, and one-line errors with the right exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from ade.cli.commands.extract import extract_command
from tests.worker.engine.builders import write_csv, write_xlsx

app = typer.Typer()
app.command("extract")(extract_command)


@app.command("noop")
def _noop() -> None:
    """A second command, so `extract` is a subcommand as it is under `ade`."""


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["extract", *args])
    return result.exit_code, result.stdout, result.stderr


ROSTER = [
    ["Name", "Email", "Hire Date"],
    ["Lee, Ann", "ANN@X.ORG", "2024-01-02"],
    ["Bob Roy", "nope", ""],
]


def test_extract_writes_what_a_run_stores_and_reports(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    out = tmp_path / "out"
    code, stdout, stderr = invoke(str(source), "--output", str(out))
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "issues.csv",
        "log.ndjson",
        "normalized.xlsx",
        "summary.json",
        "tables",
    ]
    assert [p.name for p in (out / "tables").iterdir()] == ["1.csv"]
    assert "1 table(s), 2 row(s), 1 issue(s)" in stdout
    assert "full_name<-A 'Name'" in stdout
    assert "issues email: invalid_value 1" in stdout
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["tables"][0]["range"] == "A1:C3"
    events = [json.loads(line) for line in (out / "log.ndjson").read_text("utf-8").splitlines()]
    assert events[0]["event"] == "run.started" and events[-1]["event"] == "run.finished"


def test_rerun_replaces_previous_outputs(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    out = tmp_path / "out"
    (out / "tables").mkdir(parents=True)
    (out / "tables" / "7.csv").write_text("stale", "utf-8")
    (out / "keep.txt").write_text("mine", "utf-8")
    assert invoke(str(source), "-o", str(out))[0] == 0
    assert invoke(str(source), "-o", str(out))[0] == 0
    assert [p.name for p in (out / "tables").iterdir()] == ["1.csv"]
    assert (out / "keep.txt").read_text("utf-8") == "mine"
    log = (out / "log.ndjson").read_text("utf-8").splitlines()
    assert sum(1 for line in log if '"run.started"' in line) == 1


def test_config_and_sheet_options(tmp_path: Path) -> None:
    config = tmp_path / "spec.json"
    config.write_text(json.dumps({"fields": [{"name": "sku", "aliases": ["Item code"]}]}), "utf-8")
    book = write_xlsx(
        tmp_path / "b.xlsx",
        {"One": [["Item code", "Qty"], ["A1", 2]], "Two": [["Item code", "Qty"], ["B2", 3]]},
    )
    code, stdout, stderr = invoke(
        str(book), "-o", str(tmp_path / "o"), "-c", str(config), "--sheet", "Two"
    )
    assert code == 0, stderr
    assert "sheet 'Two'" in stdout and "sheet 'One'" not in stdout
    assert "sku<-A 'Item code'" in stdout


def test_invalid_configuration_is_one_line_exit_1(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    config = tmp_path / "bad.json"
    config.write_text('{"fields": [{"name": "a"}, {"name": "a"}]}', "utf-8")
    code, stdout, stderr = invoke(str(source), "-o", str(tmp_path / "o"), "-c", str(config))
    assert code == 1
    assert stderr.count("\n") == 1
    assert "duplicate field name 'a'" in stderr
    assert "Traceback" not in stderr


def test_malformed_configuration_json_is_one_line_exit_1(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    config = tmp_path / "bad.json"
    config.write_text('{"fields": [', "utf-8")
    code, _, stderr = invoke(str(source), "-o", str(tmp_path / "o"), "-c", str(config))
    assert code == 1
    assert stderr.startswith("error: invalid configuration bad.json") and stderr.count("\n") == 1


def test_missing_configuration_file_is_exit_1(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    code, _, stderr = invoke(str(source), "-o", str(tmp_path / "o"), "-c", str(tmp_path / "x.json"))
    assert code == 1 and "configuration file not found" in stderr


def test_missing_input_file_is_one_line_exit_1(tmp_path: Path) -> None:
    code, _, stderr = invoke(str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o"))
    assert code == 1
    assert stderr == f"error: file_not_found: no such file: {tmp_path / 'nope.csv'}\n"


def test_corrupt_input_is_one_line_exit_1(tmp_path: Path) -> None:
    source = tmp_path / "broken.xlsx"
    source.write_bytes(b"PK\x03\x04garbage")
    code, _, stderr = invoke(str(source), "-o", str(tmp_path / "o"))
    assert code == 1
    assert stderr.startswith("error: unreadable_file: broken.xlsx")
    assert stderr.count("\n") == 1


def test_file_without_table_is_exit_1(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "notes.csv", [["only notes here"]])
    code, _, stderr = invoke(str(source), "-o", str(tmp_path / "o"))
    assert code == 1 and stderr.startswith("error: no_table_found")


def test_output_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    target = tmp_path / "file.txt"
    target.write_text("x", "utf-8")
    code, _, stderr = invoke(str(source), "-o", str(target))
    assert code == 2 and "not a directory" in stderr


def test_missing_output_option_is_a_usage_error(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    assert invoke(str(source))[0] == 2


def test_module_imports_no_heavy_libraries() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import sys, ade.cli.commands.extract;"
        "heavy = ('openpyxl','pydantic','sqlalchemy','python_calamine','rvgsrust_xlsxwriter');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_an_unexpected_error_is_one_line_exit_1_and_leaves_no_outputs(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from ade.worker.engine import workbook

    def broken_save(self: Any, path: Path, wait: Any = None) -> None:
        raise ValueError("Row or column exceeds Excel's allowed limits")

    # The raw error of an Excel limit before ADE knew them, raised once the tables are written.
    monkeypatch.setattr(workbook.LocalBook, "save", broken_save)
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    out = tmp_path / "out"
    code, stdout, stderr = invoke(str(source), "-o", str(out))
    assert code == 1 and stdout == ""
    assert stderr.startswith("error: internal_error: ValueError: Row or column exceeds")
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    # Nothing the run wrote is left, only the log that says why it failed.
    assert sorted(p.name for p in out.iterdir()) == ["log.ndjson"]
    assert '"run.failed"' in (out / "log.ndjson").read_text("utf-8").splitlines()[-1]


def test_a_ctrl_c_as_the_staging_folder_is_made_leaves_only_the_log(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """The narrowest window of a Ctrl-C (CI once landed in it: an empty output folder): the
    staging folder exists, the engine has not started."""
    import tempfile

    real_mkdtemp = tempfile.mkdtemp

    def interrupted_mkdtemp(*args: Any, **kwargs: Any) -> str:
        real_mkdtemp(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(tempfile, "mkdtemp", interrupted_mkdtemp)
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    out = tmp_path / "out"
    code, stdout, stderr = invoke(str(source), "-o", str(out))
    assert code == 130 and stdout == ""
    assert stderr == "error: interrupted; no outputs written\n"
    assert [p.name for p in out.iterdir()] == ["log.ndjson"]
    assert '"interrupted"' in (out / "log.ndjson").read_text("utf-8")


def test_a_ctrl_c_while_the_outputs_are_moved_in_takes_them_back_out(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """summary.json goes in last; a Ctrl-C just before it must not leave the tables and the
    workbook looking like a finished run's."""
    import os

    real_replace = os.replace

    def interrupted_replace(source: Any, target: Any) -> None:
        target = Path(target)  # the engine writes into the staging folder with os.replace too
        if target.name == "summary.json" and not target.parent.name.startswith(".ade-extract"):
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", interrupted_replace)
    source = write_csv(tmp_path / "roster.csv", ROSTER)
    out = tmp_path / "out"
    code, _, stderr = invoke(str(source), "-o", str(out))
    assert code == 130 and stderr == "error: interrupted; no outputs written\n"
    assert [p.name for p in out.iterdir()] == ["log.ndjson"]


def test_a_decompression_bomb_is_one_line_too_large(tmp_path: Path) -> None:
    from tests.support.xlsx_stream import padded_sheet_xml, write_xlsx_stream

    bomb = write_xlsx_stream(
        tmp_path / "bomb.xlsx", padded_sheet_xml([["First Name"], ["Ann"]], 32 * 2**20)
    )
    code, _, stderr = invoke(str(bomb), "-o", str(tmp_path / "out"))
    assert code == 1 and stderr.startswith("error: too_large: bomb.xlsx is refused")
    assert stderr.count("\n") == 1


def test_sheet_by_position_and_the_active_sheet(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    config = tmp_path / "spec.json"
    config.write_text(json.dumps({"fields": [{"name": "sku", "aliases": ["Item code"]}]}), "utf-8")
    rows: list[list[Any]] = [["Item code", "Qty"], ["A1", 2]]
    book = write_xlsx(tmp_path / "b.xlsx", {"One": rows, "Two": rows, "Three": rows})
    workbook = load_workbook(book)
    workbook.active = 2
    workbook.save(book)
    code, stdout, stderr = invoke(
        str(book), "-o", str(tmp_path / "o"), "-c", str(config), "-s", "2"
    )
    assert code == 0, stderr
    assert "sheet 'Two'" in stdout and "sheet 'One'" not in stdout
    code, stdout, stderr = invoke(
        str(book), "-o", str(tmp_path / "o"), "-c", str(config), "--active-sheet"
    )
    assert code == 0, stderr
    assert "sheet 'Three'" in stdout and "sheet 'Two'" not in stdout
    code, _, stderr = invoke(str(book), "-o", str(tmp_path / "o"), "-s", "9")
    assert code == 1 and stderr.startswith("error: sheet_not_found: no sheet number 9 in b.xlsx")
    code, _, stderr = invoke(str(book), "-o", str(tmp_path / "o"), "-s", "1", "--active-sheet")
    assert code == 2 and "choose one way" in stderr


def test_explain_lists_each_columns_candidates_after_the_report(tmp_path: Path) -> None:
    rows = [["Name", "Email", "Emial", "Location"], ["Ann Lee", "a@x.org", "a@x.org", "Regina"]]
    source = write_csv(tmp_path / "roster.csv", rows)
    code, stdout, stderr = invoke(str(source), "-o", str(tmp_path / "out"), "--explain")
    assert code == 0, stderr
    report, _, explained = stdout.partition("candidates per column")
    assert "outputs in" in report
    lines = [" ".join(line.split()) for line in explained.splitlines()]
    # The column, its header and field, then the winner first, marked chosen.
    at = lines.index("A 'Name' -> full_name")
    assert lines[at + 1].startswith("full_name header 0.99 values 100% of 1 chosen")
    assert lines[at + 2].startswith("first_name header 0.65")
    # Long reasons wrap to the width (80 when piped), indented under the candidate.
    name = " ".join(lines[at : lines.index("B 'Email' -> email")])
    assert (
        "first_name header 0.65 values 100% of 1 lost: header score below match_threshold" in name
    )
    # A refused column shows "-" and why its closest field lost; a column with none says so.
    joined = " ".join(lines[lines.index("C 'Emial' -> -") :])
    assert joined.startswith("C 'Emial' -> - email header 0.9")
    assert "lost: email is mapped from column B" in joined
    assert "D 'Location' -> - no candidate (unknown_header)" in joined
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    assert summary["tables"][0]["mapping"][0]["candidates"][0]["why"] == "chosen"


def test_explain_is_refused_for_a_folder(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    write_csv(tmp_path / "in" / "a.csv", ROSTER)
    code, _, stderr = invoke(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--explain")
    assert code == 2
    assert "--explain takes one FILE" in stderr
    assert not (tmp_path / "out" / "batch.csv").exists()
