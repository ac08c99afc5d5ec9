"""A real ADE for browser tests: `ade api start` and `ade worker start` as processes on one
SQLite database and storage folder, and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.db_cli import child_env

ADE = [sys.executable, "-m", "ade.cli.commands.main"]
CHROMIUM = os.environ.get("ADE_TEST_CHROMIUM", "/usr/bin/chromium")
UPLOAD_LIMIT = 300_000  # small, so the too-large case costs nothing


def chromium_or_skip(path: str = CHROMIUM, in_ci: bool | None = None) -> str:
    """The browser's path. Missing in CI is a failure (.ci/run installs it); elsewhere a skip
    that says how to get it."""
    if Path(path).is_file():
        return path
    message = (
        f"{path} not found: `apt-get install -y chromium chromium-driver` "
        "(or set ADE_TEST_CHROMIUM); the browser tests need a real browser"
    )
    if in_ci is None:
        in_ci = bool(os.environ.get("CI"))
    if in_ci:
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class Ade:
    base_url: str
    database_url: str
    data_dir: Path


def _env(data_dir: Path) -> dict[str, str]:
    return child_env(
        {
            "ADE_DATA_DIR": str(data_dir),
            "ADE_API_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
            "ADE_WORKER_POLL_MAX_SECONDS": "0.2",
            "ADE_WORKER_EVENT_FLUSH_SECONDS": "0.1",
        }
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def api_server(data_dir: Path, database_url: str) -> Iterator[Ade]:
    """`ade api start --port 0`, once it says where it listens."""
    process = subprocess.Popen(
        [*ADE, "api", "start", "--port", "0", "--database-url", database_url],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"running on (http://127\.0\.0\.1:\d+)", line, re.IGNORECASE)
            if match:
                # keep draining its log so the pipe never fills up and blocks the server
                drain = subprocess.Popen(["cat"], stdin=process.stdout, stdout=subprocess.DEVNULL)
                try:
                    yield Ade(match.group(1), database_url, data_dir)
                finally:
                    _stop(process)
                    drain.wait(timeout=30)
                return
        raise AssertionError("the API did not start:\n" + "".join(lines))
    finally:
        _stop(process)


@contextmanager
def worker(ade: Ade) -> Iterator[subprocess.Popen[bytes]]:
    """`ade worker start` on the same database and storage, stopped (SIGTERM) on exit."""
    process = subprocess.Popen(
        [*ADE, "worker", "start", "--database-url", ade.database_url],
        env=_env(ade.data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
