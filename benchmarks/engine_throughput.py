"""Whole `ade extract` runs on a people roster (CSV and XLSX input), beside I/O floors of the run.

Floors, measured in this run on the same rows (each in a fresh process, timed inside it, so they
pay no interpreter start-up and the engine does):
  - csv.reader -> csv.writer: the floor the issue's targets are stated against;
  - csv.reader, read only; python-calamine, read only (the whole-sheet reader ADE uses up to
    64 MiB of sheet XML) and python-calamine-plus streaming (what ADE uses above that);
  - the fastest workbook write of the same rows: rust_xlsxwriter constant-memory (the writer ADE
    uses), fed by csv.reader.
The engine is `python -m ade.cli.commands.main extract FILE -o DIR`: reading, table detection,
mapping, normalization, validation, one CSV per table, issues.csv, summary.json and
normalized.xlsx, timed from outside the process. "engine, CSV outputs only" runs `extract(...,
write_xlsx=False)` in a process of its own: the engine's cost without the workbook.

Peak RSS is the high-water mark (VmHWM) of each process, summed over the process tree (ADE's
workbook writer is a child process): an upper bound of what the tree held at once, since the
two processes peak at different moments. "at once" is the largest sum of the tree's current
RSS (VmRSS) in samples every 20 ms: what the machine had to hold, short spikes aside.
CPU is user + system seconds of the whole tree; for `ade extract` it is also split between the
main process and the workbook writer (sampled from /proc). On a machine busy with other work
the wall time of a two-process run grows more than its CPU time: compare the CPU columns too.

    python benchmarks/engine_throughput.py [--rows 100000 1000000] [--runs 3] [--writers]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

HEADER = [
    "Employee ID",
    "First Name",
    "Last Name",
    "Full Name",
    "Email",
    "Phone",
    "Date of Birth",
    "Hire Date",
    "Department",
    "Job Title",
    "Salary",
    "Notes",
]
FIRST = ["john", "MARY", "Ana", "o'neil", "Jean-Luc", "Li", "Priya", "Kwame", "Sofia", "Ömer"]
LAST = ["smith", "MCDONALD", "García", "Smith-Jones", "van Dyk", "O'Brien", "Nguyen", "Okafor"]
DEPTS = ["Sales", "Engineering", "  Human   Resources ", "Ops", "Finance"]


def make_rows(count: int) -> list[list[str]]:
    rng = random.Random(5)
    rows = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            [
                str(100000 + i),
                first,
                last,
                f"{last}, {first}",
                # Unique, as e-mails are in a real roster (no help from value caches).
                f"{first}.{last}{i}@Example.COM".replace(" ", "").replace("'", ""),
                f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2004)}",
                f"{rng.randint(2000, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                rng.choice(DEPTS),
                "Engineer",
                f"{rng.randint(30, 200)},{rng.randint(0, 999):03d}.00",
                "",
            ]
        )
    return rows


def write_inputs(directory: Path, count: int) -> tuple[Path, Path]:
    """The roster as CSV and as XLSX (shared strings, as Excel writes them)."""
    from rvgsrust_xlsxwriter import Workbook

    rows = make_rows(count)
    csv_path = directory / f"roster{count}.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    xlsx_path = directory / f"roster{count}.xlsx"
    workbook = Workbook()
    sheet = workbook.add_worksheet("Roster")
    sheet.write_row(0, 0, HEADER)
    sheet.write_rows(1, 0, rows)
    del rows
    workbook.close(str(xlsx_path))
    return csv_path, xlsx_path


# Floors run as `python -c` in a fresh process; each prints its own seconds and peak RSS.
_FLOOR_PRELUDE = """
import csv, resource, sys, time
source, out = sys.argv[1], sys.argv[2]
start = time.perf_counter()
"""
_FLOOR_REPORT = """
seconds = time.perf_counter() - start
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(seconds, int(hwm) * 1024)
"""
FLOORS = {
    "csv.reader -> csv.writer": """
with open(source, newline="", encoding="utf-8") as src, open(out + "/floor.csv", "w", newline="",
                                                             encoding="utf-8") as dst:
    writer = csv.writer(dst)
    for row in csv.reader(src):
        writer.writerow(row)
""",
    "csv.reader, read only": """
with open(source, newline="", encoding="utf-8") as src:
    for row in csv.reader(src):
        pass
""",
    "python-calamine, read only (whole sheet)": """
from python_calamine import CalamineWorkbook
workbook = CalamineWorkbook.from_path(source)
for row in workbook.get_sheet_by_index(0).iter_rows():
    pass
""",
    "python-calamine-plus, read only (streaming)": """
from python_calamine_plus import CalamineWorkbook
workbook = CalamineWorkbook.from_path(source)
for row in workbook.stream_sheet_by_index(0):
    pass
""",
    # --writers: the workbook writers ADE could use, side by side on the same rows.
    "csv.reader -> openpyxl write-only (ADE's writer before)": """
from openpyxl import Workbook
workbook = Workbook(write_only=True)
sheet = workbook.create_sheet("Data")
with open(source, newline="", encoding="utf-8") as src:
    for row in csv.reader(src):
        sheet.append(row)
workbook.save(out + "/floor.xlsx")
""",
    "csv.reader -> rust_xlsxwriter, one call per row": """
from rvgsrust_xlsxwriter import Workbook
workbook = Workbook()
sheet = workbook.add_worksheet("Data", constant_memory=True)
with open(source, newline="", encoding="utf-8") as src:
    for at, row in enumerate(csv.reader(src)):
        sheet.write_row(at, 0, row)
workbook.close(out + "/floor.xlsx")
""",
    "csv.reader -> ADE's writer process (batches over a pipe)": """
from pathlib import Path
from ade.worker.engine.workbook import BookProcess
book = BookProcess()
sheet = book.add_sheet("Data")
batch = []
with open(source, newline="", encoding="utf-8") as src:
    for row in csv.reader(src):
        batch.append(row)
        if len(batch) == 500:
            book.write_rows(sheet, batch)
            batch = []
book.write_rows(sheet, batch)
book.save(Path(out) / "floor.xlsx")
""",
    "csv.reader -> rust_xlsxwriter constant-memory": """
from rvgsrust_xlsxwriter import Workbook
workbook = Workbook()
sheet = workbook.add_worksheet("Data", constant_memory=True)
batch, at = [], 0
with open(source, newline="", encoding="utf-8") as src:
    for row in csv.reader(src):
        batch.append(row)
        if len(batch) == 500:
            sheet.write_rows(at, 0, batch)
            at += len(batch)
            batch = []
if batch:
    sheet.write_rows(at, 0, batch)
workbook.close(out + "/floor.xlsx")
""",
}
FLOOR_CASES = [
    ("csv", "csv.reader -> csv.writer"),
    ("csv", "csv.reader, read only"),
    ("xlsx", "python-calamine, read only (whole sheet)"),
    ("xlsx", "python-calamine-plus, read only (streaming)"),
    ("csv", "csv.reader -> rust_xlsxwriter constant-memory"),
]
WRITER_CASES = [
    ("csv", "csv.reader -> openpyxl write-only (ADE's writer before)"),
    ("csv", "csv.reader -> rust_xlsxwriter, one call per row"),
    ("csv", "csv.reader -> ADE's writer process (batches over a pipe)"),
]
_ENGINE_CSV_ONLY = """
import sys, time
from ade.db.configuration_spec import default_configuration
from ade.worker.engine.pipeline import extract
start = time.perf_counter()
summary = extract(sys.argv[1], default_configuration(), sys.argv[2], write_xlsx=False)
assert summary.rows == int(sys.argv[3]), summary.rows
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(time.perf_counter() - start, int(hwm) * 1024)
"""


@dataclass
class Result:
    seconds: float
    peak_rss: int  # bytes
    cpu: float = 0.0  # user + system seconds of the process tree
    writer_cpu: float | None = None  # of that, ADE's workbook writer process
    rss_at_once: int | None = None  # bytes; for a process tree, its largest sampled VmRSS sum


class TreeSampler:
    """Samples /proc for a process and its descendants: high-water marks and CPU ticks."""

    def __init__(self, pid: int) -> None:
        self.root = pid
        self.peaks: dict[int, int] = {}
        self.at_once = 0
        self.ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = 0
            for pid in self._tree():
                hwm, rss = _vm_hwm_rss(pid)
                now += rss
                if hwm:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)
                with contextlib.suppress(OSError, IndexError, ValueError):
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    self.ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
            self.at_once = max(self.at_once, now)
            self._stop.wait(0.02)

    def descendants_cpu(self) -> float:
        return sum(t for pid, t in self.ticks.items() if pid != self.root) / _TICKS

    def _tree(self) -> list[int]:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, frontier = [self.root], [self.root]
        while frontier:
            frontier = [pid for pid, parent in parents.items() if parent in frontier]
            tree += frontier
        return tree

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return sum(self.peaks.values())


_TICKS = os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _vm_hwm_rss(pid: int) -> tuple[int, int]:
    """A process's high-water mark and current resident size, in bytes (0, 0 once gone)."""
    found = {"VmHWM:": 0, "VmRSS:": 0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line[:6]
            if key in found:
                found[key] = int(line.split()[1]) * 1024
    return found["VmHWM:"], found["VmRSS:"]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def run_floor(code: str, source: Path, out: Path) -> Result:
    program = textwrap.dedent(_FLOOR_PRELUDE) + textwrap.dedent(code) + _FLOOR_REPORT
    cpu = children_cpu()
    done = subprocess.run(
        [sys.executable, "-c", program, str(source), str(out)],
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, rss = done.stdout.split()
    return Result(float(seconds), int(rss), children_cpu() - cpu)


def run_engine_csv_only(source: Path, rows: int, out: Path) -> Result:
    cpu = children_cpu()
    done = subprocess.run(
        [sys.executable, "-c", _ENGINE_CSV_ONLY, str(source), str(out), str(rows)],
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, rss = done.stdout.split()
    return Result(float(seconds), int(rss), children_cpu() - cpu)


def run_extract(source: Path, rows: int, out: Path) -> Result:
    """`ade extract` as a user runs it: a whole process, timed and sampled from outside."""
    argv = [sys.executable, "-m", "ade.cli.commands.main", "extract", str(source), "-o", str(out)]
    cpu = children_cpu()
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    sampler = TreeSampler(process.pid)
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    peak = sampler.stop()
    if process.returncode != 0:
        raise RuntimeError(f"ade extract failed: {stderr.decode()[-500:]}")
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["rows"] == rows, summary["rows"]
    assert (out / "normalized.xlsx").stat().st_size > 0
    return Result(seconds, peak, children_cpu() - cpu, sampler.descendants_cpu(), sampler.at_once)


def measure(task: Callable[[Path], Result], runs: int, scratch: Path) -> Result:
    results = []
    for _ in range(runs):
        out = Path(tempfile.mkdtemp(dir=scratch))
        results.append(task(out))
        shutil.rmtree(out)
    writer = [r.writer_cpu for r in results if r.writer_cpu is not None]
    at_once = [r.rss_at_once for r in results if r.rss_at_once is not None]
    return Result(
        statistics.median(r.seconds for r in results),
        max(r.peak_rss for r in results),
        statistics.median(r.cpu for r in results),
        statistics.median(writer) if writer else None,
        max(at_once) if at_once else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--writers",
        action="store_true",
        help="also time the workbook writers side by side (openpyxl is slow: ~10k rows/s)",
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    table: list[tuple[int, str, str, Result]] = []
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        for rows in args.rows:
            csv_path, xlsx_path = write_inputs(scratch, rows)
            for kind, name in FLOOR_CASES + (WRITER_CASES if args.writers else []):
                source = csv_path if kind == "csv" else xlsx_path
                result = measure(partial(run_floor, FLOORS[name], source), args.runs, scratch)
                table.append((rows, kind, f"floor: {name}", result))
            for kind, source in (("csv", csv_path), ("xlsx", xlsx_path)):
                result = measure(partial(run_extract, source, rows), args.runs, scratch)
                table.append((rows, kind, "ade extract (whole process, all outputs)", result))
            result = measure(partial(run_engine_csv_only, csv_path, rows), args.runs, scratch)
            table.append((rows, "csv", "engine, CSV outputs only (in its process)", result))
            csv_path.unlink()
            xlsx_path.unlink()
    load_after = os.getloadavg()
    print(
        f"{len(HEADER)} columns, median of {args.runs} run(s); load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; {os.cpu_count()} cores"
    )
    print(
        f"{'rows':>9} {'input':<5} {'pass':<62} {'s':>7} {'rows/s':>9} "
        f"{'vs csv r->w':>11} {'vs read':>8} {'vs xlsx write':>13} {'peak RSS MiB':>12} "
        f"{'at once':>7} "
        f"{'CPU s (main+writer)':>20}"
    )
    for rows, kind, name, result in table:
        floors = {n: r.seconds for (count, _, n, r) in table if count == rows}
        read_floor = floors[
            (
                "floor: csv.reader, read only"
                if kind == "csv"
                else "floor: python-calamine, read only (whole sheet)"
            )
        ]
        ratios = [
            floors["floor: csv.reader -> csv.writer"],
            read_floor,
            floors["floor: csv.reader -> rust_xlsxwriter constant-memory"],
        ]
        print(
            f"{rows:>9,} {kind:<5} {name:<62} {result.seconds:>7.2f} "
            f"{rows / result.seconds:>9,.0f} "
            + " ".join(
                f"{floor / result.seconds:>{width}.1%}"
                for floor, width in zip(ratios, (11, 8, 13), strict=True)
            )
            + f" {result.peak_rss / 2**20:>12.0f} {_at_once(result):>7} {_cpu(result):>20}"
        )


def _at_once(result: Result) -> str:
    # A single process (the floors) holds its high-water mark at once by definition.
    if result.rss_at_once is None:
        return f"{result.peak_rss / 2**20:.0f}"
    return f"{result.rss_at_once / 2**20:.0f}"


def _cpu(result: Result) -> str:
    if result.writer_cpu is None:
        return f"{result.cpu:.2f}"
    main = result.cpu - result.writer_cpu
    return f"{result.cpu:.2f} ({main:.2f}+{result.writer_cpu:.2f})"


if __name__ == "__main__":
    main()
