"""`ade worker start` refuses a database it cannot work on, in one line, before claiming."""

from __future__ import annotations

from pathlib import Path

from tests.support.db_cli import ade


def test_worker_refuses_an_unmigrated_database(tmp_path: Path, sqlite_url: str) -> None:
    result = ade(
        "worker",
        "start",
        "--drain",
        "--database-url",
        sqlite_url,
        env={"ADE_DATA_DIR": str(tmp_path / "data")},
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "not migrated" in lines[0] and "run `ade db migrate` first" in lines[0]
    assert "Traceback" not in result.stderr


def test_worker_refuses_a_scratch_folder_it_cannot_create(tmp_path: Path, sqlite_url: str) -> None:
    data = tmp_path / "data"
    migrated = ade("db", "migrate", "--database-url", sqlite_url, env={"ADE_DATA_DIR": str(data)})
    assert migrated.returncode == 0, migrated.stderr
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the scratch folder's parent should be")
    result = ade(
        "worker",
        "start",
        "--drain",
        "--database-url",
        sqlite_url,
        env={"ADE_DATA_DIR": str(data), "ADE_WORKER_SCRATCH_DIR": str(blocker / "scratch")},
    )
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot use the scratch folder "), result.stderr
    assert "ADE_WORKER_SCRATCH_DIR" in last
    assert "Traceback" not in result.stderr
