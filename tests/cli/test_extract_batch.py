"""`ade extract` of folders, globs and several files: selection, layout, batch.csv, exit codes,
worker processes and Ctrl-C (a real SIGINT to a real `ade extract` process)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ade.cli.commands.extract import extract_command
from ade.cli.commands.extract_inputs import find_inputs
from tests.worker.engine.builders import write_csv, write_xlsx

app = typer.Typer()
app.command("extract")(extract_command)


@app.command("noop")
def _noop() -> None:
    """A second command, so `extract` is a subcommand as it is under `ade`."""


ROSTER = [
    ["Name", "Email", "Hire Date"],
    ["Lee, Ann", "ANN@X.ORG", "2024-01-02"],
    ["Bob Roy", "nope", ""],
]


def invoke(*args: str) -> tuple[int, str, str]:
    if "--jobs" not in args:  # one process unless the test is about processes: faster
        args = (*args, "--jobs", "1")
    result = CliRunner().invoke(app, ["extract", *args])
    return result.exit_code, result.stdout, result.stderr


def batch_rows(out: Path) -> list[dict[str, str]]:
    with (out / "batch.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    for sub in ("sub", ".git"):
        (folder / sub).mkdir(parents=True)
    write_csv(folder / "a.csv", ROSTER)
    write_xlsx(folder / "b.xlsx", {"People": ROSTER})
    write_csv(folder / "sub" / "c.csv", ROSTER)
    write_csv(folder / "notes.csv", [["only notes here"]])  # no table: fails
    write_csv(folder / "~$b.xlsx", ROSTER)  # an Office lock file
    write_csv(folder / ".hidden.csv", ROSTER)
    write_csv(folder / ".git" / "d.csv", ROSTER)
    (folder / "README.md").write_text("not a spreadsheet", "utf-8")
    return folder


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_folder_gives_one_folder_per_file_a_batch_csv_and_exit_1_on_a_failure(
    tmp_path: Path, jobs: str
) -> None:
    folder = exports(tmp_path)
    out = tmp_path / "out"
    code, stdout, stderr = invoke(str(folder), "-o", str(out), "--jobs", jobs)
    assert code == 1, stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "a.csv",
        "b.xlsx",
        "batch.csv",
        "c.csv",
        "notes.csv",
    ]
    assert sorted(p.name for p in (out / "b.xlsx").iterdir()) == [
        "issues.csv",
        "log.ndjson",
        "normalized.xlsx",
        "summary.json",
        "tables",
    ]
    # The failed file leaves only its log, like a failed single run.
    assert [p.name for p in (out / "notes.csv").iterdir()] == ["log.ndjson"]
    rows = batch_rows(out)
    assert [(Path(r["file"]).relative_to(folder).as_posix(), r["status"]) for r in rows] == [
        ("a.csv", "ok"),
        ("b.xlsx", "ok"),
        ("notes.csv", "failed"),
        ("sub/c.csv", "ok"),
    ]
    assert rows[0]["tables"] == "1" and rows[0]["rows"] == "2" and rows[0]["issues"] == "1"
    assert float(rows[0]["seconds"]) >= 0 and rows[0]["output"] == str(out / "a.csv")
    assert rows[2]["error"].startswith("no_table_found: ") and rows[2]["tables"] == ""
    assert stdout.count("\n") == 5  # a plain line per file (not a terminal), then the summary
    assert stdout.splitlines()[-1].startswith(
        "4 file(s): 3 ok, 1 failed; 3 table(s), 6 row(s), 3 issue(s) in "
    )


def test_include_and_exclude(tmp_path: Path) -> None:
    folder = exports(tmp_path)
    out = tmp_path / "out"
    code, _, stderr = invoke(
        str(folder), "-o", str(out), "--include", "*.CSV", "--exclude", "notes*", "-x", "sub"
    )
    assert code == 0, stderr
    assert [Path(r["file"]).name for r in batch_rows(out)] == ["a.csv"]
    code, _, stderr = invoke(str(folder), "-o", str(out), "-i", "sub/*.csv", "-i", "*.md")
    assert [Path(r["file"]).name for r in batch_rows(out)] == ["README.md", "c.csv"]
    assert code == 1  # README.md is not a spreadsheet


def test_same_names_get_numbered_folders_in_argument_order(tmp_path: Path) -> None:
    for sub in ("one", "two", "three"):
        (tmp_path / sub).mkdir()
    one = write_csv(tmp_path / "one" / "Roster.csv", ROSTER)
    two = write_csv(tmp_path / "two" / "roster.csv", ROSTER)
    three = write_csv(tmp_path / "three" / "batch.csv", ROSTER)
    jobs = find_inputs([str(two), str(one), str(three)], tmp_path / "out")
    assert [(j.file, j.output.name) for j in jobs] == [
        (two, "roster.csv"),
        (one, "Roster.csv~2"),
        (three, "batch.csv~2"),  # never a folder over batch.csv
    ]
    code, _, stderr = invoke(str(two), str(one), str(three), "-o", str(tmp_path / "out"))
    assert code == 0, stderr
    assert (tmp_path / "out" / "Roster.csv~2" / "summary.json").is_file()


def test_a_quoted_glob_and_the_output_folder_inside_the_input(tmp_path: Path) -> None:
    folder = exports(tmp_path)
    code, _, stderr = invoke(f"{folder}/**/*.csv", "-o", str(tmp_path / "g"))
    assert code == 1, stderr
    names = [Path(r["file"]).name for r in batch_rows(tmp_path / "g")]
    assert names == ["a.csv", "notes.csv", "c.csv"]  # no lock or hidden files
    out = folder / "out"  # inside the folder it reads: its CSVs must not be read back
    assert invoke(str(folder), "-o", str(out))[0] == 1
    code, _, stderr = invoke(str(folder), "-o", str(out))
    assert code == 1, stderr
    assert len(batch_rows(out)) == 4
    code, _, stderr = invoke(f"{folder}/**/*.csv", "-o", str(out))
    assert len(batch_rows(out)) == 3


def test_usage_errors_before_anything_runs(tmp_path: Path) -> None:
    code, _, stderr = invoke(str(tmp_path / "none" / "*.xlsx"), "-o", str(tmp_path / "out"))
    assert code == 2 and stderr == f"error: no file matches '{tmp_path / 'none' / '*.xlsx'}'\n"
    source = write_csv(tmp_path / "a.csv", ROSTER)
    code, _, stderr = invoke(str(source), str(tmp_path / "missing.csv"), "-o", str(tmp_path / "o"))
    assert code == 2 and "no such file or folder" in stderr
    assert not (tmp_path / "o").exists()


def test_progress_bar_reports_failures_and_the_summary(tmp_path: Path) -> None:
    folder = exports(tmp_path)
    code, stdout, _ = invoke(str(folder), "-o", str(tmp_path / "out"), "--progress", "--jobs", "2")
    assert code == 1
    assert "failed      " in stdout and "notes.csv: no_table_found" in stdout
    assert "ok          " not in stdout  # a bar, not a line per file
    assert "4 file(s): 3 ok, 1 failed" in stdout.splitlines()[-1]


def big_csv(path: Path, rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Name,Email,Hire Date,Phone\n")
        for n in range(rows):
            handle.write(
                f"Person {n},p{n}@example.org,2024-01-{n % 28 + 1:02},555-01{n % 100:02}\n"
            )
    return path


def parent_of(pid: int) -> int | None:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(") ", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None  # gone


def command_line(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""  # gone


def processes_with(marker: str) -> list[int]:
    """Live processes whose environment holds `marker`: the process and all it started."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "stat").read_text().split(") ")[-1].startswith("Z"):
                continue  # exited, not yet reaped by init
            if marker.encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def start_extract(
    folder: Path, out: Path, jobs: str, marker: str, *, new_session: bool = False
) -> subprocess.Popen[str]:
    """`ade extract FOLDER` as a real process, every process it starts carrying `marker`
    ("ADE_TEST_MARKER=<uuid>") in its environment, so that the test can find them all."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "ADE_TEST_MARKER": marker.partition("=")[2],
    }
    command = [sys.executable, "-m", "ade.cli.commands.main", "extract", str(folder)]
    return subprocess.Popen(
        [*command, "-o", str(out), "--jobs", jobs],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=new_session,
    )


def wait_until_extracting(process: subprocess.Popen[str], out: Path, name: str) -> None:
    """Until a file matching `name` is being extracted (its staging folder exists)."""
    while not list(out.glob(f"{name}/.ade-extract-*")):
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)


@pytest.mark.parametrize(("jobs", "group"), [("2", False), ("2", True), ("1", False)])
def test_sigint_stops_the_batch_and_says_what_finished(
    tmp_path: Path, jobs: str, group: bool
) -> None:
    """SIGINT to the `ade extract` process alone, or to its whole group (Ctrl-C on a terminal)."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "a_small.csv", ROSTER)
    for n in range(4):
        big_csv(folder / f"b_big{n}.csv", 400_000)
    out = tmp_path / "out"
    marker = f"ADE_TEST_MARKER={uuid.uuid4()}"
    process = start_extract(folder, out, jobs, marker, new_session=True)
    try:
        wait_until_extracting(process, out, "b_big*")
        if group:
            os.killpg(process.pid, signal.SIGINT)
        else:
            os.kill(process.pid, signal.SIGINT)
        rest, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            for pid in processes_with(marker):
                os.kill(pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    summary = rest.splitlines()[-1]
    assert summary.startswith("INTERRUPTED: 5 file(s): ") and " 0 failed, " in summary
    statuses = {Path(r["file"]).name: r["status"] for r in batch_rows(out)}
    assert set(statuses.values()) <= {"ok", "interrupted", "not_run"}
    assert "interrupted" in statuses.values() and "not_run" in statuses.values()
    assert statuses["b_big3.csv"] == "not_run"  # the last one either way
    for name, status in statuses.items():
        if status == "interrupted" and (out / name).exists():  # only the log that says so
            assert [p.name for p in (out / name).iterdir()] == ["log.ndjson"]
    # No staging folder and no worker process left behind.
    assert not list(out.glob("*/.ade-extract-*"))
    assert processes_with(marker) == []


def test_a_killed_worker_fails_no_file_that_runs_again(tmp_path: Path) -> None:
    """kill -9 of a worker (as the out-of-memory killer would) while it extracts a big file:
    the pool breaks, the files left undone run again alone, and every file ends up extracted."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.csv", "b.csv", "c.csv"):
        write_csv(folder / name, ROSTER)
    big_csv(folder / "big.csv", 150_000)
    out = tmp_path / "out"
    marker = f"ADE_TEST_MARKER={uuid.uuid4()}"
    process = start_extract(folder, out, "2", marker)
    try:
        wait_until_extracting(process, out, "big.csv")
        # The pool's two workers are the children of `ade extract` started by spawn (not its
        # resource tracker); a worker's own short-lived children (the workbook writer of a
        # small file) also carry the marker, and may be gone by the time they are killed.
        workers = [
            pid
            for pid in processes_with(marker)
            if parent_of(pid) == process.pid
            and b"spawn_main" in command_line(pid)
            and b"resource_tracker" not in command_line(pid)
        ]
        assert len(workers) == 2
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert {r["status"] for r in batch_rows(out)} == {"ok"}
    assert stdout.splitlines()[-1].startswith("4 file(s): 4 ok, 0 failed;")
