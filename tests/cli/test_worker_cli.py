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
