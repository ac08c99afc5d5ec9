"""Chaos: an operator's bad day as a repeatable experiment, and the invariants checked after it.

Starts an embedded PostgreSQL, `ade api start` and N `ade worker start` processes on local
storage, uploads M documents with ``process=true`` (people lists whose e-mails say which document
they come from, a few long ones so runs overlap the faults, a few broken ones that must fail for
their own reason), each with an Idempotency-Key and retried like a careful client (connection
errors, 503, 409 in progress). Meanwhile it injects, at moments drawn from ``--seed``:

- worker SIGKILLs: the main process only, or the main process and its engine children; a
  replacement worker is started (as a supervisor would);
- engine-child SIGKILLs (the worker survives);
- an API SIGKILL while a (deliberately slow) upload streams, then a restart;
- a database restart (``pg_ctl stop -m fast``, a pause, ``pg_ctl start``).

Then it drains the queue, downloads every output through the API, stops everything, runs
``ade storage gc --older-than 0s`` and checks:

- mixed up: a run whose status, error code, summary, table, ``run.started`` event or progress
  events do not match *its own* document (expected outcomes come from the documents themselves;
  broken ones from a fault-free extraction in this process);
- failed for infrastructure reasons: a good document whose run failed anyway;
- stuck: runs not finished when the queue should have drained;
- duplicates: more than one document or run per upload (retried uploads must be replayed);
- outputs whose downloaded sha256 differs from the recorded one;
- executed twice at once: a run seen in the scratch folders of two live workers at one time
  (sampled every 50 ms), or attempts whose claims are not 1, 2, 3... in order;
- orphans after gc and shutdown: blobs without a row, temporary files, scratch folders, live
  engine processes;
- client-visible errors other than connection errors, 503 and 409 (Idempotency-Key in use).

Prints the figures and exits 1 if any of those is not 0, or if a fault could not be injected
(its precondition never held: no upload or run in flight), since the run then proves less.

    ./pants run benchmarks/chaos.py -- [--documents 120] [--seed 11] [--worker-kills 5] ...
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port
from tests.support.processes import alive, children

TERMINAL = {"succeeded", "failed", "cancelled"}
INFRASTRUCTURE_CODES = {
    "engine_crashed",
    "lease_expired",
    "database_unavailable",
    "storage_unavailable",
    "storage_misconfigured",
    "storage_error",
    "io_error",
    "out_of_memory",
    "scratch_missing",
}
HEADERS = [
    ("First Name", "Last Name", "E-mail", "Phone"),
    ("Given Name", "Surname", "Email Address", "Mobile"),
    ("First", "Last", "Work Email", "Telephone"),
]


# -- documents -----------------------------------------------------------------------------


@dataclass
class Doc:
    index: int
    name: str
    content: bytes
    content_type: str
    rows: int
    tag: str
    expect_code: str | None = None
    """None: must succeed; else the code a fault-free extraction of this file fails with."""
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    document_id: str | None = None
    run_id: str | None = None
    upload_error: str | None = None

    long: bool = False
    """One of the --long-documents: uploaded slowly, runs long."""


def people_csv(tag: str, rows: int, variant: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS[variant % len(HEADERS)])
    for n in range(1, rows + 1):
        writer.writerow(
            [f"{tag}n{n}", f"Person{n}", f"{tag.lower()}.{n}@example.com", f"555-{n:04d}"]
        )
    return out.getvalue().encode()


def people_xlsx(tag: str, rows: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Staff export", "", "", ""])  # a title row above the table
    sheet.append([])
    sheet.append(list(HEADERS[0]))
    for n in range(1, rows + 1):
        sheet.append([f"{tag}n{n}", f"Person{n}", f"{tag.lower()}.{n}@example.com", f"555-{n:04d}"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_documents(args: argparse.Namespace, rng: random.Random) -> list[Doc]:
    docs: list[Doc] = []
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for index in range(args.documents):
        tag = f"D{index:03d}"
        if index < args.long_documents:
            rows = args.long_rows
            docs.append(
                Doc(
                    index,
                    f"long-{tag}.csv",
                    people_csv(tag, rows, index),
                    "text/csv",
                    rows,
                    tag,
                    long=True,
                )
            )
        elif index < args.long_documents + args.bad_documents:
            if index % 2:
                content, name = b"PK\x03\x04 not really a workbook" * 50, f"broken-{tag}.xlsx"
                docs.append(Doc(index, name, content, xlsx, 0, tag))
            else:
                content = f"Notes for {tag}\n\nnothing tabular here\n".encode()
                docs.append(Doc(index, f"notes-{tag}.csv", content, "text/csv", 0, tag))
        elif index % 7 == 0:
            rows = rng.randint(5, 300)
            docs.append(Doc(index, f"staff-{tag}.xlsx", people_xlsx(tag, rows), xlsx, rows, tag))
        else:
            rows = rng.randint(3, 2000)
            content = people_csv(tag, rows, index)
            docs.append(Doc(index, f"people-{tag}.csv", content, "text/csv", rows, tag))
    return docs


def expect_failures(docs: list[Doc], folder: Path) -> None:
    """The code a fault-free extraction gives each broken document (run here, in-process)."""
    from ade.db.configuration_spec import default_configuration
    from ade.worker.engine.errors import EngineError
    from ade.worker.engine.pipeline import extract

    spec = default_configuration()
    for doc in docs:
        if doc.rows:
            continue
        path = folder / doc.name
        path.write_bytes(doc.content)
        try:
            extract(path, spec, folder / f"out-{doc.index}")
        except EngineError as error:
            doc.expect_code = error.code
        else:
            raise SystemExit(f"{doc.name} was meant to be broken but extracts fine")


# -- processes -----------------------------------------------------------------------------


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(extra)
    return env


def marked_processes(marker: str) -> list[int]:
    """Live processes whose environment carries this experiment's marker."""
    needle = marker.encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if needle in environ.read_bytes() and alive(int(environ.parent.name)):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


class Cluster:
    """The API and the workers, as child processes that can be killed and replaced."""

    def __init__(self, folder: Path, url: str, args: argparse.Namespace, marker: str) -> None:
        self.folder, self.url, self.args = folder, url, args
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = child_env(
            {
                "ADE_DATA_DIR": str(folder / "data"),
                "ADE_CHAOS_MARKER": marker,
                "ADE_WORKER_CONCURRENCY": str(args.concurrency),
                "ADE_WORKER_LEASE_SECONDS": str(args.lease_seconds),
                "ADE_WORKER_HEARTBEAT_SECONDS": "1",
                "ADE_WORKER_SWEEP_SECONDS": "1",
                "ADE_WORKER_RETRY_BASE_SECONDS": "1",
                "ADE_WORKER_RETRY_MAX_SECONDS": "5",
                "ADE_WORKER_GRACE_SECONDS": "30",
                "ADE_WORKER_SCRATCH_DIR": str(folder / "scratch"),
                "ADE_LOG_LEVEL": "warning",
            }
        )
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.started_workers = 0
        self.lock = threading.Lock()

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.folder / "logs" / f"{name}.log").open("ab")
        command = [sys.executable, "-m", "ade.cli.commands.main", *args]
        return subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_api(self) -> None:
        self.api = self._spawn(
            "api", "api", "start", "--port", str(self.port), "--database-url", self.url
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit("the API did not start; see logs/api.log")

    def start_worker(self) -> None:
        with self.lock:
            self.started_workers += 1
            number = self.started_workers
            worker = self._spawn(f"worker-{number}", "worker", "start", "--database-url", self.url)
            self.workers.append(worker)

    def live_workers(self) -> list[subprocess.Popen[bytes]]:
        with self.lock:
            return [w for w in self.workers if w.poll() is None]

    def stop(self) -> None:
        processes = [*self.live_workers(), *([self.api] if self.api else [])]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- the client ----------------------------------------------------------------------------


class ClientStats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.other: list[str] = []
        self.streaming_long = 0

    def add(self, kind: str, detail: str | None = None) -> None:
        with self.lock:
            self.counts[kind] += 1
            if detail is not None:
                self.other.append(detail)


def throttled(
    content: bytes, bytes_per_second: int, stats: ClientStats, long: bool
) -> Iterator[bytes]:
    """The body as a slow client sends it (so an API kill can land mid-upload)."""
    if long:
        with stats.lock:
            stats.streaming_long += 1
    try:
        step = 64 * 1024
        for start in range(0, len(content), step):
            yield content[start : start + step]
            if long:
                time.sleep(step / bytes_per_second)
    finally:
        if long:
            with stats.lock:
                stats.streaming_long -= 1


def upload(
    doc: Doc, base: str, api_key: str, slug: str, args: argparse.Namespace, stats: ClientStats
) -> None:
    headers = {"X-API-Key": api_key, "Idempotency-Key": doc.key, "Content-Type": doc.content_type}
    url = f"{base}/api/v1/workspaces/{slug}/documents"
    params = {"process": "true", "filename": doc.name}
    delay = 0.2
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        body = throttled(doc.content, args.upload_bytes_per_second, stats, doc.long)
        try:
            with httpx.Client(timeout=120) as client:
                response = client.post(url, headers=headers, params=params, content=body)
        except httpx.TransportError:
            stats.add("connection error")
            time.sleep(delay)
            delay = min(5.0, delay * 2)
            continue
        if response.status_code == 201:
            data = response.json()
            doc.document_id, doc.run_id = data["document"]["id"], data["run"]["id"]
            if response.headers.get("Idempotent-Replayed") == "true":
                stats.add("replayed (201)")
            return
        if response.status_code == 503:
            stats.add("503")
        elif response.status_code == 409 and "idempotency-key-in-use" in response.text:
            stats.add("409 (key in use)")
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        else:
            stats.add("other", f"{doc.name}: {response.status_code} {response.text[:200]}")
            doc.upload_error = f"{response.status_code} {response.text[:200]}"
            return
        time.sleep(delay)
        delay = min(5.0, delay * 2)
    doc.upload_error = "gave up retrying"


def feeding_order(docs: list[Doc], rng: random.Random) -> list[Doc]:
    """Shuffled, with the long documents spread evenly from the start: their slow uploads are
    what the API kill lands in, their long runs what worker kills and the restart land in."""
    long = [doc for doc in docs if doc.long]
    order = [doc for doc in docs if not doc.long]
    rng.shuffle(order)
    for k, doc in enumerate(long):
        order.insert(k * (len(order) + 1) // max(1, len(long)) + k, doc)
    return order


# -- faults --------------------------------------------------------------------------------


class Injector(threading.Thread):
    """Runs the fault plan: each fault at a seeded moment, once its precondition holds."""

    def __init__(
        self,
        cluster: Cluster,
        server: Any,
        db: Any,
        stats: ClientStats,
        args: argparse.Namespace,
        rng: random.Random,
    ) -> None:
        super().__init__(name="chaos-injector", daemon=True)
        self.cluster, self.server, self.db, self.stats, self.args = cluster, server, db, stats, args
        self.rng = rng
        self.done: Counter[str] = Counter()
        self.log: list[str] = []
        self.stop_event = threading.Event()
        plan = (
            ["worker"] * args.worker_kills
            + ["engine"] * args.engine_kills
            + ["api"] * args.api_kills
            + ["database"] * args.db_restarts
        )
        rng.shuffle(plan)
        if "api" in plan:  # the API kill needs uploads in flight: first
            plan.remove("api")
            plan.insert(0, "api")
        self.plan = plan

    def _running_runs(self) -> int:
        from sqlalchemy import func, select

        from ade.db.models import Run

        try:
            with self.db.connect() as connection:
                return int(
                    connection.execute(
                        select(func.count()).select_from(Run).where(Run.status == "running")
                    ).scalar_one()
                )
        except Exception:
            return 0

    def _wait(self, condition: Callable[[], bool], timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop_event.is_set():
            if condition():
                return True
            time.sleep(0.1)
        return False

    def _busy_worker(self) -> subprocess.Popen[bytes] | None:
        """A live worker that holds a running run (its pid is in ``runs.claimed_by``)."""
        from sqlalchemy import select

        from ade.db.models import Run

        try:
            with self.db.connect() as connection:
                owners = connection.execute(
                    select(Run.claimed_by).where(Run.status == "running")
                ).scalars()
                pids = {int(owner.split(":")[1]) for owner in owners if owner}
        except Exception:
            return None
        busy = [w for w in self.cluster.live_workers() if w.pid in pids]
        return self.rng.choice(busy) if busy else None

    @staticmethod
    def _engine_children(worker: subprocess.Popen[bytes]) -> list[int]:
        found = []
        for pid in children(worker.pid):
            try:
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
            except OSError:
                continue
        return found

    @staticmethod
    def _busiest(pids: list[int]) -> int | None:
        """The engine child using the most CPU (an idle one waits on its pipe)."""

        def cpu(pid: int) -> int:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return 0
            return int(fields[11]) + int(fields[12])

        before = {pid: cpu(pid) for pid in pids}
        time.sleep(0.5)
        used = {pid: cpu(pid) - before[pid] for pid in pids}
        busiest = max(used, key=lambda pid: used[pid], default=None)
        return busiest if busiest is not None and used[busiest] > 0 else None

    def run(self) -> None:
        for number, fault in enumerate(self.plan):
            if self.stop_event.wait(self.rng.uniform(*self.args.fault_gap)):
                return
            try:
                getattr(self, f"_{fault}")(number)
            except Exception as error:  # report, keep going
                self.log.append(f"{fault} fault failed: {error}")

    def _worker(self, number: int) -> None:
        if not self._wait(lambda: self._busy_worker() is not None):
            self.log.append("worker kill skipped: no run in flight")
            return
        worker = self._busy_worker()
        if worker is None:
            return
        with_children = number % 2 == 1
        engines = self._engine_children(worker)
        os.kill(worker.pid, signal.SIGKILL)
        if with_children:
            for pid in engines:
                kill_quietly(pid)
        worker.wait()
        self.done[
            "worker kills (main only)" if not with_children else "worker kills (main + engines)"
        ] += 1
        engines_too = " and its engines" if with_children else ""
        self.log.append(f"{time.strftime('%X')} SIGKILL worker {worker.pid}{engines_too}")
        time.sleep(self.args.restart_delay)
        self.cluster.start_worker()

    def _engine(self, _number: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.stop_event.is_set():
            worker = self._busy_worker()
            pid = self._busiest(self._engine_children(worker)) if worker is not None else None
            if worker is not None and pid is not None:
                kill_quietly(pid)
                self.done["engine-child kills"] += 1
                self.log.append(
                    f"{time.strftime('%X')} SIGKILL engine child {pid} of worker {worker.pid}"
                )
                return
            time.sleep(0.1)
        self.log.append("engine kill skipped: no engine at work")

    def _api(self, _number: int) -> None:
        if not self._wait(lambda: self.stats.streaming_long > 0):
            self.log.append("API kill skipped: no upload in flight")
            return
        time.sleep(0.5)
        api = self.cluster.api
        assert api is not None
        os.kill(api.pid, signal.SIGKILL)
        api.wait()
        self.done["API kills mid-upload"] += 1
        uploads = self.stats.streaming_long
        self.log.append(f"{time.strftime('%X')} SIGKILL API {api.pid} during {uploads} upload(s)")
        time.sleep(self.args.restart_delay)
        self.cluster.start_api()

    def _database(self, _number: int) -> None:
        if not self._wait(lambda: self._running_runs() > 0):
            self.log.append("database restart skipped: no run in flight")
            return
        running = self._running_runs()
        self.server.stop()
        time.sleep(self.args.db_downtime)
        self.server.start()
        self.done["database restarts"] += 1
        down = self.args.db_downtime
        self.log.append(f"{time.strftime('%X')} database down {down}s, {running} run(s) in flight")


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class ScratchSampler(threading.Thread):
    """Samples the scratch folders: a run in two live workers' folders at once ran twice."""

    def __init__(self, root: Path) -> None:
        super().__init__(name="chaos-scratch", daemon=True)
        self.root = root
        self.stop_event = threading.Event()
        self.overlaps: set[str] = set()
        self.samples = 0

    def run(self) -> None:
        while not self.stop_event.wait(0.05):
            seen: dict[str, set[str]] = {}
            try:
                folders = [p for p in self.root.iterdir() if p.is_dir()]
            except OSError:
                continue
            for folder in folders:
                parts = folder.name.rsplit("-", 2)
                if len(parts) != 3 or not parts[1].isdigit() or not alive(int(parts[1])):
                    continue
                try:
                    runs = [p.name[:36] for p in folder.iterdir()]
                except OSError:
                    continue
                for run in runs:
                    seen.setdefault(run, set()).add(folder.name)
            self.samples += 1
            self.overlaps |= {run for run, owners in seen.items() if len(owners) > 1}


# -- checks --------------------------------------------------------------------------------


@dataclass
class Findings:
    mixed_up: list[str] = field(default_factory=list)
    infrastructure: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    bad_sha: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    client: list[str] = field(default_factory=list)
    not_injected: list[str] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)


def check_runs(db: Any, docs: list[Doc], findings: Findings) -> dict[str, Any]:
    from sqlalchemy import func, select

    from ade.db.models import Document, Run, RunEvent
    from ade.worker.artifacts import safe_filename

    with db.connect() as connection:
        runs = {str(r.id): r for r in connection.execute(select(Run)).all()}
        document_count = connection.execute(select(func.count()).select_from(Document)).scalar_one()
        events: dict[str, list[Any]] = {}
        for event in connection.execute(select(RunEvent).order_by(RunEvent.run_id, RunEvent.seq)):
            events.setdefault(str(event.run_id), []).append(event)
    if document_count != len(docs) or len(runs) != len(docs):
        findings.duplicates.append(
            f"{document_count} documents and {len(runs)} runs for {len(docs)} uploads"
        )
    for doc in docs:
        if doc.run_id is None:
            findings.client.append(f"{doc.name}: never uploaded ({doc.upload_error})")
            continue
        run = runs.get(doc.run_id)
        if run is None:
            findings.duplicates.append(f"{doc.name}: its run {doc.run_id} is missing")
            continue
        label = f"{doc.name} (run {doc.run_id})"
        findings.notes["attempts > 1"] += run.attempt_count > 1
        if run.status not in TERMINAL:
            findings.stuck.append(f"{label}: {run.status}")
            continue
        if doc.expect_code is None and run.status != "succeeded":
            target = (
                findings.infrastructure
                if run.error_code in INFRASTRUCTURE_CODES
                else findings.mixed_up
            )
            target.append(f"{label}: {run.status} {run.error_code}: {run.error_message}")
            continue
        if doc.expect_code is not None and (run.status, run.error_code) != (
            "failed",
            doc.expect_code,
        ):
            findings.mixed_up.append(
                f"{label}: {run.status} {run.error_code}, expected {doc.expect_code}"
            )
            continue
        own = safe_filename(doc.name)
        log = events.get(doc.run_id, [])
        started = {e.payload.get("file") for e in log if e.type == "run.started"}
        if started != {own}:
            findings.mixed_up.append(f"{label}: run.started names {sorted(started)}")
        progress = [
            int(e.payload.get("rows", 0))
            for e in log
            if e.type in ("table.progress", "table.finished")
        ]
        if progress and max(progress) > doc.rows:
            findings.mixed_up.append(f"{label}: progress counts {max(progress)} rows of {doc.rows}")
        claims = [e.payload.get("attempt") for e in log if e.type == "worker.claimed"]
        if claims != list(range(1, len(claims) + 1)) or len(claims) != run.attempt_count:
            findings.twice.append(f"{label}: claims {claims}, attempt_count {run.attempt_count}")
        if run.status == "succeeded":
            summary = run.summary or {}
            if summary.get("file") != own or summary.get("rows") != doc.rows:
                findings.mixed_up.append(
                    f"{label}: summary says {summary.get('file')}, {summary.get('rows')} rows"
                )
    return runs


def check_outputs(
    base: str, api_key: str, slug: str, docs: list[Doc], runs: dict[str, Any], findings: Findings
) -> None:
    headers = {"X-API-Key": api_key}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for doc in docs:
            run = runs.get(doc.run_id or "")
            if run is None or run.status != "succeeded":
                continue
            prefix = f"/api/v1/workspaces/{slug}/runs/{doc.run_id}"
            output = client.get(f"{prefix}/output")
            if (
                output.status_code != 200
                or hashlib.sha256(output.content).hexdigest() != run.output_sha256
            ):
                findings.bad_sha.append(f"{doc.name}: {output.status_code}")
            table = client.get(f"{prefix}/output", params={"format": "csv", "table": 1})
            # Each row's e-mail names its document: "d017.42@example.com".
            emails = [row.get("Email", "") for row in csv.DictReader(io.StringIO(table.text))]
            mine = f"{doc.tag.lower()}."
            expected = {f"{mine}{n}@example.com" for n in range(1, doc.rows + 1)}
            if set(emails) != expected or len(emails) != doc.rows:
                strangers = sorted({e for e in emails if not e.startswith(mine)})[:3]
                findings.mixed_up.append(
                    f"{doc.name}: table has {len(emails)} rows, e.g. {strangers}"
                )


def check_leftovers(folder: Path, db: Any, marker: str, findings: Findings) -> Counter[str]:
    from datetime import timedelta

    from ade.storage.local import LocalBlobStore
    from ade.worker.storage_gc import collect_garbage

    env = child_env({"ADE_DATA_DIR": str(folder / "data")})
    gc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ade.cli.commands.main",
            "storage",
            "gc",
            "--older-than",
            "0s",
            "--database-url",
            str(db.url.render_as_string(hide_password=False)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if gc.returncode != 0:
        findings.orphans.append(f"ade storage gc failed: {gc.stderr.strip()}")
    removed = Counter(line.split("\t")[1] for line in gc.stdout.splitlines() if "\t" in line)
    store = LocalBlobStore(folder / "data" / "storage")
    after = collect_garbage(db, store, timedelta(0), dry_run=True)
    findings.orphans += [f"after gc: {item.kind} {item.name}" for item in after.garbage]
    scratch = folder / "scratch"
    if scratch.exists():
        findings.orphans += [f"scratch: {path.name}" for path in scratch.iterdir()]
    deadline = time.monotonic() + 10
    while marked_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    findings.orphans += [f"process {pid} still running" for pid in marked_processes(marker)]
    return removed


# -- main ----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=120)
    parser.add_argument("--long-documents", type=int, default=4, help="documents of --long-rows")
    parser.add_argument("--long-rows", type=int, default=100_000)
    parser.add_argument("--bad-documents", type=int, default=4, help="broken files (must fail)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4, help="parallel uploading clients")
    parser.add_argument(
        "--feed-seconds", type=float, default=60.0, help="spread the uploads over this long"
    )
    parser.add_argument("--worker-kills", type=int, default=5)
    parser.add_argument("--engine-kills", type=int, default=2)
    parser.add_argument("--api-kills", type=int, default=1)
    parser.add_argument("--db-restarts", type=int, default=1)
    parser.add_argument("--db-downtime", type=float, default=2.0, help="seconds down per restart")
    parser.add_argument("--lease-seconds", type=float, default=10.0)
    parser.add_argument("--restart-delay", type=float, default=1.0)
    parser.add_argument(
        "--fault-gap", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX")
    )
    parser.add_argument(
        "--upload-bytes-per-second", type=int, default=512 * 1024, help="per long upload"
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up draining after")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    marker = f"ade-chaos-{uuid.uuid4().hex}"
    folder = Path(tempfile.mkdtemp(prefix="ade-chaos-"))
    os.chmod(folder, 0o755)  # the embedded server may run as another user
    (folder / "logs").mkdir()
    from sqlalchemy import func, select

    from ade.api.admin import create_api_key, create_workspace
    from ade.db.engine import create_engine, create_session_factory
    from ade.db.migrate import upgrade
    from ade.db.models import Run
    from tests.support.postgres import embedded_postgres_server

    docs = make_documents(args, rng)
    expect_failures(docs, folder)
    findings = Findings()
    started = time.monotonic()
    try:
        with embedded_postgres_server() as server:
            database = server.create_database()
            url = server.url(database)
            upgrade(url, echo=lambda _line: None)
            db = create_engine(url)
            with create_session_factory(db)() as session:
                workspace = create_workspace(session, "Chaos", "chaos")
                key = create_api_key(session, workspace)
                session.commit()
                slug, api_key = workspace.slug, key.secret
            cluster = Cluster(folder, url, args, marker)
            cluster.start_api()
            for _ in range(args.workers):
                cluster.start_worker()
            stats = ClientStats()
            sampler = ScratchSampler(folder / "scratch")
            sampler.start()
            injector = Injector(cluster, server, db, stats, args, rng)
            order = feeding_order(docs, rng)
            print(
                f"chaos (seed {args.seed}): {len(docs)} documents ({args.long_documents} x "
                f"{args.long_rows} rows, {args.bad_documents} broken), {args.workers} workers x "
                f"{args.concurrency} slots, lease {args.lease_seconds:.0f}s; plan: {injector.plan}",
                flush=True,
            )
            injector.start()
            feed_started = time.monotonic()

            def paced_upload(position: int, doc: Doc) -> None:
                # Uploads spread over --feed-seconds, so work arrives during every fault.
                due = feed_started + position * args.feed_seconds / max(1, len(order))
                time.sleep(max(0.0, due - time.monotonic()))
                upload(doc, cluster.base, api_key, slug, args, stats)

            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(paced_upload, range(len(order)), order))
            print(f"uploads done after {time.monotonic() - started:.0f}s", flush=True)

            def pending() -> int:
                try:
                    with db.connect() as connection:
                        return int(
                            connection.execute(
                                select(func.count())
                                .select_from(Run)
                                .where(Run.status.in_(["queued", "running"]))
                            ).scalar_one()
                        )
                except Exception:
                    return -1

            deadline = time.monotonic() + args.timeout
            while (injector.is_alive() or pending() != 0) and time.monotonic() < deadline:
                time.sleep(1)
            injector.stop_event.set()
            injector.join(60)
            findings.not_injected = [line for line in injector.log if "skipped" in line]
            print(f"drained after {time.monotonic() - started:.0f}s", flush=True)
            runs = check_runs(db, docs, findings)
            check_outputs(cluster.base, api_key, slug, docs, runs, findings)
            cluster.stop()
            sampler.stop_event.set()
            sampler.join()
            findings.twice += [
                f"run {run} in two live workers' scratch at once"
                for run in sorted(sampler.overlaps)
            ]
            removed = check_leftovers(folder, db, marker, findings)
            findings.client += stats.other
            logs = "".join(p.read_text(errors="replace") for p in (folder / "logs").glob("*.log"))
            findings.notes["engine messages of another job dropped"] = logs.count(
                "dropped a message of another job"
            )
            db.dispose()
            report(
                args,
                docs,
                runs,
                injector,
                stats,
                sampler,
                removed,
                findings,
                time.monotonic() - started,
            )
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    bad = [
        findings.mixed_up,
        findings.infrastructure,
        findings.stuck,
        findings.duplicates,
        findings.bad_sha,
        findings.twice,
        findings.orphans,
        findings.client,
        findings.not_injected,
    ]
    if any(bad):
        raise SystemExit(1)


def report(
    args: argparse.Namespace,
    docs: list[Doc],
    runs: dict[str, Any],
    injector: Injector,
    stats: ClientStats,
    sampler: ScratchSampler,
    removed: Counter[str],
    findings: Findings,
    seconds: float,
) -> None:
    statuses = Counter(run.status for run in runs.values())
    retried = findings.notes["attempts > 1"]
    print(f"\nfinished in {seconds:.0f}s; runs: {dict(statuses)}; with 2+ attempts: {retried}")
    print(
        "faults injected: " + ", ".join(f"{n} {what}" for what, n in sorted(injector.done.items()))
    )
    for line in injector.log:
        print(f"  {line}")
    print(
        "client retries: "
        + (", ".join(f"{n} x {what}" for what, n in sorted(stats.counts.items())) or "none")
    )
    print(
        f"ade storage gc removed: {dict(removed) or 'nothing'}; scratch samples: {sampler.samples}"
    )
    dropped = findings.notes["engine messages of another job dropped"]
    print(f"engine messages of another job dropped by workers: {dropped}")
    rows = [
        ("runs mixed up (another document's results, events or outcome)", findings.mixed_up),
        ("runs failed for infrastructure reasons", findings.infrastructure),
        ("runs stuck (not finished after the drain)", findings.stuck),
        ("duplicate documents or runs from retried uploads", findings.duplicates),
        ("outputs whose sha256 differs from the recorded one", findings.bad_sha),
        ("runs executed twice at the same time", findings.twice),
        ("orphans after gc and shutdown (blobs, temp files, scratch, processes)", findings.orphans),
        ("client errors other than connection errors, 503, 409 key in use", findings.client),
        ("faults asked for but not injected (the run proves less)", findings.not_injected),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"\n{'invariant':<{width}}  count  target")
    print("-" * (width + 15))
    for label, items in rows:
        print(f"{label:<{width}}  {len(items):>5}  {0:>6}")
    for label, items in rows:
        for item in items[:10]:
            print(f"  {label}: {item}")
    print(f"\ndocuments: {len(docs)}; " + json.dumps(dict(injector.done)))


if __name__ == "__main__":
    main()
