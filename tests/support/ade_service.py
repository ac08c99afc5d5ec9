"""The real service, started as a user starts it, and driven through its HTTP API.

`ade start` (the API and a worker as child processes) on a fresh ADE_DATA_DIR with SQLite, an
API key made with `ade apikey create` for the workspace that first start creates, then
uploads, runs and downloads over HTTP. Used by tests that need the whole product in real
processes and by ``benchmarks/hostile_inputs.py --through api``.

Memory is read from /proc: before a run the high-water marks of the worker's processes are
reset, and while it runs they are sampled every 20 ms (a workbook writer that exits between
two samples is read at its last sample), so each run's peak is its own even though the
engine child is long-lived.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.db_cli import ADE, ade, child_env
from tests.support.ports import free_port
from tests.support.processes import (
    PeakSampler,
    alive,
    children,
    cmdline,
    descendants,
    reset_peak_rss,
)

MiB = 1024 * 1024
UPLOAD_LIMIT = 64 * MiB
"""ADE_API_MAX_UPLOAD_BYTES of the service started here: small enough that an upload over it
is quick to send, larger than every legitimate case of the battery."""
STARTUP_LIMIT_S = 120.0  # a guard against a hung start on a loaded machine, not a timing check
TERMINAL = {"succeeded", "failed", "cancelled"}


@dataclass
class RunResult:
    """A run as the API reported it at its end, with its memory peaks (bytes)."""

    run: dict[str, Any]
    engine_peak: int
    """The largest high-water mark of the worker's child processes (engine, workbook writer)."""
    worker_peak: int
    """The worker process's own high-water mark during the run."""
    seconds: float

    @property
    def status(self) -> str:
        return str(self.run["status"])

    @property
    def outcome(self) -> str:
        """``ok`` or the run's error code."""
        return "ok" if self.status == "succeeded" else str(self.run["error_code"] or self.status)

    @property
    def message(self) -> str:
        return str(self.run["error_message"] or "")


class Service:
    """A running `ade start`, its two service processes and a workspace API key."""

    def __init__(self, process: subprocess.Popen[str], port: int, data_dir: Path) -> None:
        self.process = process
        self.port = port
        self.data_dir = data_dir
        services = {pid: cmdline(pid) for pid in children(process.pid)}
        self.api_pid = next(pid for pid, cmd in services.items() if " api start" in cmd)
        self.worker_pid = next(pid for pid, cmd in services.items() if " worker start" in cmd)
        made = ade("apikey", "create", "--workspace", "default", env=self.env)
        if made.returncode != 0:
            raise RuntimeError(f"ade apikey create failed: {made.stderr.strip()}")
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"X-API-Key": made.stdout.strip()},
            timeout=httpx.Timeout(120.0),
        )
        self.prefix = "/api/v1/workspaces/default"

    @property
    def env(self) -> dict[str, str]:
        return {"ADE_DATA_DIR": str(self.data_dir)}

    def up(self) -> bool:
        """Both services are the processes started first, alive, and the API is ready."""
        if self.process.poll() is not None or not (alive(self.api_pid) and alive(self.worker_pid)):
            return False
        if children(self.process.pid) != {self.api_pid, self.worker_pid}:
            return False  # `ade start` restarts nothing, but say so if it ever does
        try:
            health = self.client.get("/health")
            ready = self.client.get("/ready")
        except httpx.HTTPError:
            return False
        return health.status_code == 200 and ready.status_code == 200

    def upload(self, path: Path, chunked: bool = False) -> httpx.Response:
        """POST the file's bytes to the documents endpoint (raw body, named by ?filename=);
        ``chunked`` sends it without a Content-Length, so the server must count as it reads."""
        headers = {"Content-Type": "application/octet-stream"}
        if not chunked:
            headers["Content-Length"] = str(path.stat().st_size)
        with path.open("rb") as handle:
            return self.client.post(
                f"{self.prefix}/documents",
                params={"filename": path.name},
                content=_chunks(handle),
                headers=headers,
            )

    def documents(self) -> int:
        """How many documents the workspace holds (every page)."""
        count, cursor = 0, None
        while True:
            params: dict[str, str | int] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.client.get(f"{self.prefix}/documents", params=params).json()
            count += len(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return count

    def stored_files(self) -> int:
        """Files in the local blob store (documents, outputs, temporary uploads)."""
        return sum(1 for path in (self.data_dir / "storage").rglob("*") if path.is_file())

    def run(self, document_id: str, timeout: float = 1800.0) -> RunResult:
        """Queue a run of the document and wait for its end, sampling the worker's memory."""
        for pid in (self.worker_pid, *descendants(self.worker_pid)):
            reset_peak_rss(pid)
        peaks = PeakSampler(self.worker_pid)
        started = time.perf_counter()
        with peaks:
            created = self.client.post(f"{self.prefix}/runs", json={"document_id": document_id})
            created.raise_for_status()
            run_id = created.json()["id"]
            deadline = time.monotonic() + timeout
            while True:
                run: dict[str, Any] = self.client.get(f"{self.prefix}/runs/{run_id}").json()
                if run["status"] in TERMINAL:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"run {run_id} did not end in {timeout:g} s: {run}")
                time.sleep(0.05)
        seconds = time.perf_counter() - started
        return RunResult(run, peaks.below, peaks.root, seconds)

    def table_csv(self, run_id: str, number: int) -> bytes:
        reply = self.client.get(
            f"{self.prefix}/runs/{run_id}/output", params={"format": "csv", "table": number}
        )
        reply.raise_for_status()
        return reply.content

    def outputs(self, run_id: str) -> RunOutputs:
        return RunOutputs(self, run_id)

    def run_statuses(self) -> list[str]:
        """The status of every run of the workspace (every page)."""
        statuses: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.client.get(f"{self.prefix}/runs", params=params).json()
            statuses += [run["status"] for run in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                return statuses


@dataclass(frozen=True)
class RunOutputs:
    """A run's outputs, downloaded through the API (what ``hostile_cases.Outputs`` reads)."""

    service: Service
    run_id: str

    def table_csv(self, number: int) -> bytes:
        return self.service.table_csv(self.run_id, number)


def _chunks(handle: Any, size: int = MiB) -> Iterable[bytes]:
    while chunk := handle.read(size):
        yield chunk


@contextmanager
def running_service(
    data_dir: Path, env: Mapping[str, str] | None = None, port: int | None = None
) -> Iterator[Service]:
    """`ade start` on ``data_dir`` (SQLite), once its API answers and both services run;
    stopped with SIGTERM on exit (killed if it does not stop)."""
    port = port or free_port()
    settings = {
        "ADE_DATA_DIR": str(data_dir),
        "ADE_API_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        **(env or {}),
    }
    process = subprocess.Popen(
        [*ADE, "start", "--port", str(port), "--grace", "20"],
        env=child_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"ade start exited early with {process.returncode}")
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                if reply.status_code == 200 and len(children(process.pid)) == 2:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API never became healthy")
            time.sleep(0.2)
        service = Service(process, port, data_dir)
        try:
            yield service
        finally:
            service.client.close()
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
