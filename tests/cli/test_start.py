"""`ade start`: migrate, run the API and a worker together, stop both together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.db_cli import child_env
from tests.support.processes import alive, children, cmdline

STARTUP_LIMIT_S = 120  # generous: a loaded 2-core CI machine imports slowly; not a timing assertion


def _services(pid: int) -> dict[int, str]:
    """The supervisor's live children and their command lines."""
    return {child: cmdline(child) for child in children(pid)}


@pytest.fixture()
def supervisor(tmp_path: Path, unused_tcp_port: int) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = unused_tcp_port
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ade.cli.commands.main",
            "start",
            "--port",
            str(port),
            "--grace",
            "20",
        ],
        env=child_env({"ADE_DATA_DIR": str(tmp_path / "data")}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while True:
        assert process.poll() is None, f"ade start exited early:\n{process.communicate()[0]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200 and len(_services(process.pid)) == 2:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"API never became healthy:\n{process.communicate()[0]}")
        time.sleep(0.2)
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_stops_api_and_worker_cleanly(
    supervisor: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    process, _ = supervisor
    services = _services(process.pid)
    assert any(" api start" in cmd for cmd in services.values()), services
    assert any(" worker start" in cmd for cmd in services.values()), services
    assert (tmp_path / "data" / "db" / "ade.sqlite").is_file(), "ade start did not migrate"

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert not any(alive(pid) for pid in services), "a service outlived ade start"


def test_either_service_dying_stops_both_with_failure(
    supervisor: tuple[subprocess.Popen[str], int],
) -> None:
    process, _ = supervisor
    services = _services(process.pid)
    worker = next(pid for pid, cmd in services.items() if " worker start" in cmd)
    os.kill(worker, signal.SIGKILL)

    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    assert "worker exited" in output
    assert not any(alive(pid) for pid in services), "the API outlived the dead worker"
