"""The root `ade` command: help, version, usage errors, and a fast start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files

from tests.support.db_cli import ade, child_env

HEAVY_MODULES = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "uvicorn",
    "boto3",
    "openpyxl",
    "pydantic",
    "python_calamine",
    "rvgsrust_xlsxwriter",
)


def test_help_lists_every_command_group() -> None:
    result = ade("--help")
    assert result.returncode == 0, result.stderr
    for group in ("db", "storage", "api", "worker", "start", "extract"):
        assert f" {group} " in result.stdout, f"`ade --help` does not mention `{group}`"


def test_version_comes_from_the_one_version_file() -> None:
    expected = (files("ade") / "VERSION").read_text(encoding="utf-8").strip()
    result = ade("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ade {expected}"


def test_unknown_command_is_a_usage_error() -> None:
    result = ade("no-such-command")
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_imports_no_heavy_library() -> None:
    """`ade --help` runs on every completion and health script: it must stay cheap."""
    probe = (
        "import json, sys\n"
        "sys.argv = ['ade', '--help']\n"
        "from ade.cli.commands import main\n"
        "try:\n"
        "    main.run()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"loaded = sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)\n"
        "print(json.dumps(loaded), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stderr.strip().splitlines()[-1])
    assert loaded == [], f"`ade --help` imported {loaded}"
