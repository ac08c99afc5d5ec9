"""Engine throughput on a people-roster CSV and XLSX, beside the I/O floors of the same run.

Floors: a plain csv.reader -> csv.writer pass over the CSV, and an openpyxl read-only ->
write-only pass over the XLSX. The engine does more than either floor: it reads, detects the
table, maps, normalizes and validates every cell, and writes BOTH a CSV and an XLSX. So for CSV
input the realistic bound is "csv.reader -> openpyxl write-only + csv.writer", also measured;
and the engine is measured with the XLSX output switched off, to show the engine's own cost.

    python benchmarks/engine_throughput.py [--rows 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook, load_workbook

from ade.db.configuration_spec import default_configuration
from ade.worker.engine.pipeline import extract

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
                f"{first}.{last}@Example.COM".replace(" ", "").replace("'", ""),
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


def write_inputs(directory: Path, rows: list[list[str]]) -> tuple[Path, Path]:
    csv_path = directory / "roster.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    xlsx_path = directory / "roster.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Roster")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(xlsx_path)
    return csv_path, xlsx_path


def floor_csv(source: Path, out: Path) -> None:
    with (
        source.open(newline="", encoding="utf-8") as src,
        (out / "floor.csv").open("w", newline="", encoding="utf-8") as dst,
    ):
        writer = csv.writer(dst)
        for row in csv.reader(src):
            writer.writerow(row)


def floor_csv_to_both(source: Path, out: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Data")
    with (
        source.open(newline="", encoding="utf-8") as src,
        (out / "floor.csv").open("w", newline="", encoding="utf-8") as dst,
    ):
        writer = csv.writer(dst)
        for row in csv.reader(src):
            writer.writerow(row)
            sheet.append(row)
    workbook.save(out / "floor.xlsx")


def floor_xlsx(source: Path, out: Path) -> None:
    reader = load_workbook(source, read_only=True, data_only=True)
    workbook = Workbook(write_only=True)
    for name in reader.sheetnames:
        sheet = workbook.create_sheet(name)
        for row in reader[name].iter_rows(values_only=True):
            sheet.append(row)
    reader.close()
    workbook.save(out / "floor.xlsx")


def median_seconds(task: Callable[[Path], None], runs: int, scratch: Path) -> float:
    times = []
    for _ in range(runs):
        out = Path(tempfile.mkdtemp(dir=scratch))
        start = time.perf_counter()
        task(out)
        times.append(time.perf_counter() - start)
        shutil.rmtree(out)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    spec = default_configuration()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        csv_path, xlsx_path = write_inputs(scratch, make_rows(args.rows))

        def engine(path: Path, xlsx: bool) -> Callable[[Path], None]:
            def run(out: Path) -> None:
                summary = extract(path, spec, out, write_xlsx=xlsx)
                assert summary.rows == args.rows, summary.rows

            return run

        cases = [
            ("csv", "floor: csv.reader -> csv.writer", lambda o: floor_csv(csv_path, o), None),
            (
                "csv",
                "floor: csv.reader -> csv.writer + openpyxl write-only",
                lambda o: floor_csv_to_both(csv_path, o),
                None,
            ),
            ("csv", "engine (csv + xlsx outputs)", engine(csv_path, True), 0),
            ("csv", "engine (csv output only)", engine(csv_path, False), 0),
            (
                "xlsx",
                "floor: openpyxl read-only -> write-only",
                lambda o: floor_xlsx(xlsx_path, o),
                None,
            ),
            ("xlsx", "engine (csv + xlsx outputs)", engine(xlsx_path, True), 4),
        ]
        results: list[tuple[str, str, float]] = []
        for kind, name, task, _ in cases:
            seconds = median_seconds(task, args.runs, scratch)
            results.append((kind, name, args.rows / seconds))
    floors = {"csv": results[0][2], "xlsx": results[4][2]}
    print(f"{args.rows} rows x {len(HEADER)} columns, median of {args.runs} runs")
    print(f"{'input':<6} {'pass':<55} {'rows/s':>10} {'vs floor':>9}")
    for kind, name, rate in results:
        print(f"{kind:<6} {name:<55} {rate:>10,.0f} {rate / floors[kind]:>8.0%}")


if __name__ == "__main__":
    main()
