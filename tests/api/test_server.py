"""`ade api start` as a real uvicorn process, plus the admin CLI commands."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ade.cli.commands import api as api_cli
from ade.cli.commands import apikey as apikey_cli
from ade.cli.commands import workspace as workspace_cli
from tests.api.conftest import migrate
from tests.support.db_cli import child_env
from tests.support.processes import alive, children, mapped_files
from tests.support.waiting import wait_for

runner = CliRunner()


API_START_NO_PORT = [sys.executable, "-m", "ade.cli.commands.api", "start"]
API_START = [*API_START_NO_PORT, "--port", "0"]


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return child_env({"ADE_DATA_DIR": str(tmp_path / "data"), **extra})


def start_server(
    tmp_path: Path,
    database_url: str,
    *args: str,
    command: list[str] = API_START,
    **env: str,
) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [*command, "--database-url", database_url, *args],
        env=server_env(tmp_path, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"running on (http://127\.0\.0\.1:\d+)", line, re.IGNORECASE)
        if match:
            return process, match.group(1)
    process.kill()
    raise AssertionError("server did not start:\n" + "".join(lines))


def test_real_server_upload_download_and_clean_sigterm(tmp_path: Path, sqlite_url: str) -> None:
    migrate(sqlite_url)
    created = runner.invoke(
        workspace_cli.app, ["create", "Acme Corp", "--database-url", sqlite_url]
    )
    assert created.exit_code == 0, created.output
    slug = created.stdout.split("\t")[0]
    assert slug == "acme-corp"
    key_result = runner.invoke(
        apikey_cli.app, ["create", "--workspace", slug, "--database-url", sqlite_url]
    )
    assert key_result.exit_code == 0, key_result.output
    key = key_result.stdout.strip()
    assert key.startswith("ade_") and "\n" not in key

    process, base = start_server(tmp_path, sqlite_url, ADE_LOG_FORMAT="json")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(100):
                if client.get("/health").status_code == 200:
                    break
                time.sleep(0.05)
            assert client.get("/ready").status_code == 200
            # uvicorn loads the C parser by name; missing, it would silently cost about a third
            # of the request rate (benchmarks/api_load.py)
            loaded = mapped_files(process.pid)
            assert "/httptools/" in loaded and "/uvloop/" not in loaded, loaded
            headers = {"X-API-Key": key}
            content = os.urandom(3 * 1024 * 1024 + 17)
            upload = client.post(
                f"/api/v1/workspaces/{slug}/documents",
                headers=headers,
                files={"file": ("big.bin", content, "application/octet-stream")},
            )
            assert upload.status_code == 201, upload.text
            document = upload.json()["document"]["id"]
            download = client.get(
                f"/api/v1/workspaces/{slug}/documents/{document}/content", headers=headers
            )
            assert download.content == content
            missing = client.get("/api/v1/nope", headers={"X-Request-ID": "probe-42"})
            assert missing.status_code == 404 and missing.json()["request_id"] == "probe-42"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    access = [line for line in output.splitlines() if '"logger": "ade.api.access"' in line]
    assert any('"request_id": "probe-42"' in line and '"status": 404' in line for line in access)
    # the key was stored only as a hash
    db_bytes = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    assert key.encode() not in db_bytes


def _answers(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx.ConnectError:
        return False


def test_several_workers_serve_and_stop_together(tmp_path: Path, sqlite_url: str) -> None:
    migrate(sqlite_url)
    process, base = start_server(tmp_path, sqlite_url, "--workers", "2")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_for(lambda: len(children(process.pid)) >= 2, "uvicorn's two worker processes")
            workers = children(process.pid)
            assert len(workers) >= 2, "uvicorn did not start two worker processes"
            # With several workers uvicorn prints "running on" once the parent has bound the
            # socket; each worker listens only after its own start-up, so wait for an answer.
            wait_for(lambda: _answers(client, "/health"), "a worker to answer /health")
            statuses = {client.get("/ready").status_code for _ in range(20)}
            assert statuses == {200}
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert len(set(re.findall(r"Started server process \[(\d+)\]", output))) == 2
    wait_for(lambda: not any(map(alive, workers)), "the workers to exit", timeout=10)


def test_start_refuses_an_unmigrated_database(tmp_path: Path, sqlite_url: str) -> None:
    result = subprocess.run(
        [*API_START, "--database-url", sqlite_url],
        env=server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "not migrated" in lines[0] and "ade api migrate" in lines[0]


def test_start_with_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(api_cli.app, ["start", "--database-url", "mysql://x/y"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")


def test_api_migrate_then_admin_commands(tmp_path: Path, sqlite_url: str) -> None:
    migrated = runner.invoke(api_cli.app, ["migrate", "--database-url", sqlite_url])
    assert migrated.exit_code == 0, migrated.output
    assert (
        runner.invoke(
            workspace_cli.app, ["create", "One", "--slug", "one", "--database-url", sqlite_url]
        ).exit_code
        == 0
    )
    duplicate = runner.invoke(
        workspace_cli.app, ["create", "Other", "--slug", "one", "--database-url", sqlite_url]
    )
    assert duplicate.exit_code == 1 and "already exists" in duplicate.stderr
    bad = runner.invoke(
        workspace_cli.app, ["create", "X", "--slug", "../bad", "--database-url", sqlite_url]
    )
    assert bad.exit_code == 1 and bad.stderr.startswith("error: invalid slug")
    listing = runner.invoke(workspace_cli.app, ["list", "--database-url", sqlite_url])
    assert listing.stdout.startswith("one\t")
    no_ws = runner.invoke(
        apikey_cli.app, ["create", "--workspace", "nope", "--database-url", sqlite_url]
    )
    assert no_ws.exit_code == 1 and "no workspace" in no_ws.stderr
    key = runner.invoke(
        apikey_cli.app, ["create", "--workspace", "one", "--database-url", sqlite_url]
    )
    prefix = key.stdout.strip()[4:16]
    revoked = runner.invoke(apikey_cli.app, ["revoke", prefix, "--database-url", sqlite_url])
    assert revoked.exit_code == 0 and prefix in revoked.stderr
    unknown = runner.invoke(
        apikey_cli.app, ["revoke", "000000000000", "--database-url", sqlite_url]
    )
    assert unknown.exit_code == 1


def test_admin_commands_on_unmigrated_database(sqlite_url: str) -> None:
    result = runner.invoke(workspace_cli.app, ["list", "--database-url", sqlite_url])
    assert result.exit_code == 1
    assert "not migrated" in result.stderr and result.stderr.count("\n") == 1


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def test_listener_comes_from_the_environment(
    tmp_path: Path, sqlite_url: str, unused_tcp_port: int
) -> None:
    """ADE_API_HOST/ADE_API_PORT are used when no flag is given (they once were ignored)."""
    migrate(sqlite_url)
    process, base = start_server(
        tmp_path,
        sqlite_url,
        command=API_START_NO_PORT,
        ADE_API_HOST="127.0.0.1",
        ADE_API_PORT=str(unused_tcp_port),
    )
    try:
        assert base == f"http://127.0.0.1:{unused_tcp_port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_for(lambda: _answers(client, "/health"), "the API to answer /health")
    finally:
        _stop(process)


def test_port_flag_beats_the_environment(
    tmp_path: Path, sqlite_url: str, unused_tcp_port: int
) -> None:
    migrate(sqlite_url)
    process, base = start_server(tmp_path, sqlite_url, ADE_API_PORT=str(unused_tcp_port))
    try:
        assert not base.endswith(f":{unused_tcp_port}"), base  # --port 0: a random port
    finally:
        _stop(process)


def test_workers_come_from_the_environment(tmp_path: Path, sqlite_url: str) -> None:
    migrate(sqlite_url)
    process, base = start_server(tmp_path, sqlite_url, ADE_API_WORKERS="2")
    try:
        wait_for(lambda: len(children(process.pid)) >= 2, "uvicorn's two worker processes")
        with httpx.Client(base_url=base, timeout=30) as client:
            wait_for(lambda: _answers(client, "/health"), "a worker to answer /health")
    finally:
        output = _stop(process)
    assert len(set(re.findall(r"Started server process \[(\d+)\]", output))) == 2


def test_invalid_listener_environment_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADE_API_PORT", "70000")
    result = runner.invoke(api_cli.app, ["start", "--database-url", "mysql://x/y"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "ADE_API_PORT" in result.stderr
