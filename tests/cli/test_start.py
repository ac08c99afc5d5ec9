"""`ade start`: migrate, run the API and a worker together, stop both together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.db_cli import child_env
from tests.support.processes import alive, children, cmdline

STARTUP_LIMIT_S = 120  # generous: a loaded 2-core CI machine imports slowly; not a timing assertion


def _services(pid: int) -> dict[int, str]:
    """The supervisor's live children and their command lines."""
    return {child: cmdline(child) for child in children(pid)}


@contextmanager
def running_supervisor(
    tmp_path: Path, port: int, *args: str, **env: str
) -> Iterator[subprocess.Popen[str]]:
    """`ade start ARGS` with ADE_DATA_DIR in tmp_path, once its API on ``port`` is healthy and
    both services run; killed on exit if a test left it running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ade.cli.commands.main", "start", "--grace", "20", *args],
        env=child_env({"ADE_DATA_DIR": str(tmp_path / "data"), **env}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while True:
            assert process.poll() is None, f"ade start exited early:\n{process.communicate()[0]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                    if reply.status == 200 and len(_services(process.pid)) == 2:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"API never became healthy:\n{process.communicate()[0]}")
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture()
def supervisor(tmp_path: Path, unused_tcp_port: int) -> Iterator[tuple[subprocess.Popen[str], int]]:
    with running_supervisor(tmp_path, unused_tcp_port, "--port", str(unused_tcp_port)) as process:
        yield process, unused_tcp_port


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


def test_child_commands_pass_only_the_options_given() -> None:
    """Options left out reach the children as nothing, so their env settings
    (ADE_API_HOST/PORT, ADE_WORKER_CONCURRENCY) and defaults apply (they once were overridden)."""
    from ade.cli.commands.start import child_commands

    bare = child_commands()
    assert bare["api"][-2:] == ["api", "start"]
    assert bare["worker"][-2:] == ["worker", "start"]
    given = child_commands(host="0.0.0.0", port=9000, concurrency=3)
    assert given["api"][-6:] == ["api", "start", "--host", "0.0.0.0", "--port", "9000"]
    assert given["worker"][-4:] == ["worker", "start", "--concurrency", "3"]
    only_port = child_commands(port=9001)
    assert only_port["api"][-4:] == ["api", "start", "--port", "9001"]
    assert "--concurrency" not in only_port["worker"]


def test_environment_configures_the_services(tmp_path: Path, unused_tcp_port: int) -> None:
    settings = {"ADE_API_PORT": str(unused_tcp_port), "ADE_WORKER_CONCURRENCY": "2"}
    with running_supervisor(tmp_path, unused_tcp_port, **settings) as process:
        commands = list(_services(process.pid).values())
        assert not any("--port" in cmd or "--concurrency" in cmd for cmd in commands), commands
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
