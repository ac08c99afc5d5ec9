"""API load benchmark: `ade api start` on loopback (SQLite, local storage, temp data dir).

From this process (a second process, an httpx async client) it measures:

- requests/s and p50/p99 latency of GET /api/v1/workspaces/{ws}/runs/{id} at concurrency
  1, 16 and 64 (bounded by request count and time);
- upload and download throughput of a large document (256 MiB by default) beside `cp` of the
  same file in the same run (the baseline), as medians of several rounds;
- the server's peak RSS during the uploads (polled VmRSS, plus VmHWM from /proc/<pid>/status).
  Target: under 150 MiB, i.e. nothing is buffered whole.

    python benchmarks/api_load.py [--size-mib 256] [--rounds 3] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
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
from pathlib import Path

import httpx

MiB = 1024 * 1024
TARGET_RSS_MIB = 150


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["ADE_DATA_DIR"] = str(data_dir)
    env["ADE_API_MAX_UPLOAD_BYTES"] = str(8 * 1024 * MiB)
    return env


def cli(env: dict[str, str], module: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", f"ade.cli.commands.{module}", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"ade {module} {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def latency(
    base: str, path: str, key: str, concurrency: int, requests: int, max_seconds: float
) -> tuple[float, float, float, int]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers={"X-API-Key": key}, limits=limits, timeout=60
    ) as client:
        for _ in range(min(concurrency, 16)):  # warm up connections
            (await client.get(path)).raise_for_status()
        timings: list[float] = []
        remaining = requests
        deadline = time.perf_counter() + max_seconds

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                started = time.perf_counter()
                response = await client.get(path)
                timings.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"GET {path}: {response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return (
        len(timings) / elapsed,
        percentile(timings, 0.5) * 1000,
        percentile(timings, 0.99) * 1000,
        len(timings),
    )


def file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(MiB):
            yield chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="per concurrency level")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="per concurrency level")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ade-api-bench-"))
    env = env_for(tmp / "data")
    server: subprocess.Popen[bytes] | None = None
    try:
        cli(env, "api", "migrate")
        slug = cli(env, "workspace", "create", "Benchmark").split("\t")[0]
        key = cli(env, "apikey", "create", "--workspace", slug)
        log_path = tmp / "server.log"
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "ade.cli.commands.api", "start", "--port", "0"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base = ""
        for _ in range(600):
            match = re.search(r"running on (http://127\.0\.0\.1:\d+)", log_path.read_text(), re.I)
            if match:
                base = match.group(1)
                break
            if server.poll() is not None:
                raise SystemExit("server exited:\n" + log_path.read_text())
            time.sleep(0.05)
        if not base:
            raise SystemExit("server did not start")
        pid = server.pid
        headers = {"X-API-Key": key}
        ws = f"/api/v1/workspaces/{slug}"
        with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
            upload = client.post(
                f"{ws}/documents",
                params={"process": "true"},
                files={"file": ("people.csv", b"Name,Email\nAda,ada@example.com\n")},
            )
            upload.raise_for_status()
            run_id = upload.json()["run"]["id"]

        rows: list[tuple[str, str]] = []
        for concurrency in (1, 16, 64):
            rps, p50, p99, count = asyncio.run(
                latency(
                    base, f"{ws}/runs/{run_id}", key, concurrency, args.requests, args.max_seconds
                )
            )
            rows.append(
                (
                    f"GET run, concurrency {concurrency:>2}",
                    f"{rps:8.0f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   (n={count})",
                )
            )

        source = tmp / "big.bin"
        with open(source, "wb") as handle:
            for _ in range(args.size_mib):
                handle.write(os.urandom(MiB))
        size = source.stat().st_size
        rss_before = rss_kib(pid, "VmRSS")
        cp_times, up_times, down_times, peaks = [], [], [], []
        with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
            for round_ in range(args.rounds):
                target = tmp / f"copy-{round_}.bin"
                started = time.perf_counter()
                subprocess.run(["cp", str(source), str(target)], check=True)
                cp_times.append(time.perf_counter() - started)
                target.unlink()

                with RssSampler(pid) as sampler, open(source, "rb") as handle:
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
        hwm = rss_kib(pid, "VmHWM")

        cp_s, up_s, down_s = (statistics.median(t) for t in (cp_times, up_times, down_times))
        mib = size / MiB
        rows += [
            (f"cp {mib:.0f} MiB (baseline)", f"{mib / cp_s:8.0f} MiB/s   {cp_s:6.2f} s"),
            (
                f"upload {mib:.0f} MiB (multipart)",
                f"{mib / up_s:8.0f} MiB/s   {up_s:6.2f} s   " f"{up_s / cp_s:5.1f}x cp",
            ),
            (
                f"download {mib:.0f} MiB",
                f"{mib / down_s:8.0f} MiB/s   {down_s:6.2f} s   " f"{down_s / cp_s:5.1f}x cp",
            ),
            ("server RSS before uploads", f"{rss_before / 1024:8.1f} MiB"),
            (
                "server peak RSS during uploads",
                f"{statistics.median(peaks) / 1024:8.1f} MiB (median "
                f"of rounds; max {max(peaks) / 1024:.1f})",
            ),
            (
                "server VmHWM (whole life)",
                f"{hwm / 1024:8.1f} MiB   target < {TARGET_RSS_MIB} MiB: "
                f"{'OK' if hwm / 1024 < TARGET_RSS_MIB else 'OVER'}",
            ),
        ]
        width = max(len(name) for name, _ in rows)
        print(
            f"ADE API benchmark ({args.rounds} rounds, medians; SQLite + local storage, loopback)"
        )
        for name, value in rows:
            print(f"  {name:<{width}}  {value}")
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
