"""`ade extract DIR --jobs 2` against the same files one after another (`--jobs 1`).

A folder of FILES mixed files (tests/corpus/files and tests/corpus/real/files, repeated under
numbered names) goes through `ade extract DIR -o OUT --no-progress` as a child process, once with
`--jobs 1` (the baseline: one process, the files in turn) and once with `--jobs N`, alternating
when --repeat > 1. It prints, per job count, the median wall time, the ratio to `--jobs 1`, the
files that succeeded and failed (the default configuration finds no roster in some corpus files:
those fail the same way in both), and the peak resident memory of the largest single process
(parent, worker or workbook writer), which shows a worker holds what a single run holds.

Target (issue 21): `--jobs 2` takes at most 60% of `--jobs 1` on a 2-CPU machine.

    ./pants run benchmarks/extract_batch.py -- --files 200 --jobs 2
    PYTHONPATH=src/python:. python benchmarks/extract_batch.py --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = (Path("tests/corpus/files"), Path("tests/corpus/real/files"))

# Runs the command given as its arguments and prints the peak RSS (KiB) of the largest process
# among its descendants: RUSAGE_CHILDREN covers every descendant that was waited for.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def build_folder(folder: Path, count: int) -> list[Path]:
    sources = sorted(p for corpus in CORPUS for p in corpus.iterdir() if p.is_file())
    if not sources:
        raise SystemExit("no corpus files: run from the repository root")
    files = []
    for index in range(count):
        source = sources[index % len(sources)]
        target = folder / f"r{index // len(sources):02}_{source.name}"
        shutil.copyfile(source, target)
        files.append(target)
    return files


def run(folder: Path, output: Path, jobs: int) -> tuple[float, int, int, int, float]:
    """Seconds, files ok, files failed, peak RSS of one process (KiB), and the sum of the
    files' own seconds (batch.csv): the same work takes longer when others use the CPUs."""
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, "-m", "ade.cli.commands.main", "extract", str(folder)]
    command += ["-o", str(output), "--jobs", str(jobs), "--no-progress"]
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - started
    code, peak = (int(v) for v in result.stdout.split())
    if code not in (0, 1):
        raise SystemExit(f"ade extract exited {code}")
    with (output / "batch.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    statuses = [row["status"] for row in rows]
    work = sum(float(row["seconds"] or 0) for row in rows)
    return seconds, statuses.count("ok"), statuses.count("failed"), peak, work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2, help="compared with --jobs 1")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with tempfile.TemporaryDirectory(prefix="ade-batch-bench-") as scratch:
        folder = Path(scratch) / "in"
        folder.mkdir()
        files = build_folder(folder, args.files)
        size = sum(f.stat().st_size for f in files)
        print(f"{len(files)} files, {size / 2**20:.1f} MiB, {cpus} CPU(s), repeat {args.repeat}")
        load_before = os.getloadavg()[0]
        times: dict[int, list[float]] = {1: [], args.jobs: []}
        last: dict[int, tuple[float, int, int, int, float]] = {}
        for _ in range(args.repeat):
            for jobs in (1, args.jobs):
                last[jobs] = run(folder, Path(scratch) / f"out{jobs}", jobs)
                times[jobs].append(last[jobs][0])
        base = statistics.median(times[1])
        header = f"{'jobs':>4} | {'median s':>8} | {'ratio':>6} | {'ok':>4} | {'failed':>6} | "
        print(header + "peak MiB | files' own s")
        for jobs in (1, args.jobs):
            median = statistics.median(times[jobs])
            _, ok, failed, peak, work = last[jobs]
            print(
                f"{jobs:>4} | {median:8.2f} | {median / base:6.1%} | {ok:>4} | {failed:>6} | "
                f"{peak / 1024:8.0f} | {work:12.2f}"
            )
        after = os.getloadavg()[0]
        print(f"1-minute load average {load_before:.2f} before, {after:.2f} after (shared?)")


if __name__ == "__main__":
    main()
