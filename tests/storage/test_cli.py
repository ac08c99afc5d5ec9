"""`ade storage check`, tested on the storage sub-app (the root app is mounted elsewhere)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ade.cli.commands import storage
from tests.support.s3 import MotoS3

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ADE_STORAGE_BACKEND", "ADE_STORAGE_PATH", "ADE_S3_BUCKET", "ADE_S3_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADE_DATA_DIR", str(tmp_path / "data"))


def test_check_local_default(tmp_path: Path) -> None:
    result = runner.invoke(storage.app, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "backend: local",
        f"location: {tmp_path / 'data' / 'storage'}",
        "writable: yes",
    ]
    assert result.stderr == ""


def test_check_local_unwritable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_bytes(b"")
    monkeypatch.setenv("ADE_STORAGE_PATH", str(tmp_path / "a-file"))
    result = runner.invoke(storage.app, ["check"])
    assert result.exit_code == 1
    assert "writable: no" in result.stdout
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: storage root ")
    assert "not a folder" in result.stderr


def test_check_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADE_STORAGE_BACKEND", "s3")
    result = runner.invoke(storage.app, ["check"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: invalid storage settings: ADE_S3_BUCKET is required when ADE_STORAGE_BACKEND=s3\n"
    )


def test_check_s3(moto: MotoS3, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = moto.create_bucket()
    for name, value in moto.env(bucket, prefix="cli").items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(storage.app, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "backend: s3"
    assert f"s3://{bucket}/cli/ at {moto.endpoint_url}" in result.stdout
    assert result.stdout.splitlines()[-1] == "writable: yes"


def test_check_s3_missing_bucket(moto: MotoS3, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in moto.env("never-created").items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(storage.app, ["check"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "S3 bucket 'never-created' does not exist" in result.stderr


def test_no_args_shows_help() -> None:
    result = runner.invoke(storage.app, [])
    assert result.exit_code in (0, 2)
    assert "check" in result.output


def test_importing_the_cli_module_and_package_stays_light() -> None:
    code = (
        "import sys, ade.cli.commands.storage, ade.storage, ade.storage.keys;"
        "heavy = [m for m in ('boto3', 'botocore', 'pydantic', 'sqlalchemy') if m in sys.modules];"
        "print(heavy)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}  # same imports as this run
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.strip() == "[]"
