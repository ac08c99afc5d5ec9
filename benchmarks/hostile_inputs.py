"""Hostile and oversized inputs: does every one succeed or fail clearly, within 512 MiB?

Each case's input is generated into a temporary folder by streaming (bombs are deflated from
generators, never held or kept) and run through `python -m ade.cli.commands.main extract` in a
process of its own; its peak RSS is the process tree's high-water mark as `wait4` reports it
(the largest of the CLI process and its workbook writer). The last case goes through the
worker's engine child instead, with the ZIP limits opened wide, to show the memory ceiling
(ADE_WORKER_ENGINE_MEMORY_MIB, default 448) stopping what only it can stop.

    PYTHONPATH=src/python:. python benchmarks/hostile_inputs.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.xlsx_stream import (
    letters,
    lie_about_size,
    long_shared_strings,
    padded_sheet_xml,
    shared_string_references,
    shared_strings_xml,
    sheet_xml,
    write_ods_repeated,
    write_xlsx_stream,
)

MiB = 1024 * 1024
HEADER = ["First Name", "Last Name", "Email"]
ROWS = [HEADER, ["Ann", "Lee", "ann@example.org"], ["Bob", "Ray", "bob@example.org"]]


def people(count: int) -> Iterator[list[str]]:
    yield ["First Name", "Last Name", "Email", "Department", "Notes"]
    for n in range(count):
        name = letters(n)
        yield [f"Ann{name}", f"Lee{name}", f"a{n}@example.org", f"Dept {n % 40}", f"note {n}"]


def sheet_bomb(folder: Path) -> Path:
    """The issue's 0.7 MB XLSX whose sheet unzips to 700 MB."""
    return write_xlsx_stream(folder / "sheet_bomb.xlsx", padded_sheet_xml(ROWS, 700 * MiB))


def strings_bomb(folder: Path) -> Path:
    """An 85 kB XLSX whose shared strings unzip to 80 MB."""
    return write_xlsx_stream(
        folder / "strings_bomb.xlsx", sheet_xml(ROWS), shared_strings_xml(5_000_000)
    )


def echo_bomb(folder: Path) -> Path:
    """A 1 MB shared string behind 3,000 cells: 3 GB of cell text from a few kB."""
    return write_xlsx_stream(
        folder / "echo_bomb.xlsx",
        shared_string_references(300, 10, ["First Name", "Notes"]),
        long_shared_strings("x" * 1_000_000),
    )


def lying_bomb(folder: Path) -> Path:
    """A sheet whose ZIP directory claims 50 kB and which unzips to 200 MB."""
    path = write_xlsx_stream(folder / "lying.xlsx", padded_sheet_xml(ROWS, 200 * MiB), zip64=False)
    lie_about_size(path, "xl/worksheets/sheet1.xml", 50_000)
    return path


def ods_bomb(folder: Path) -> Path:
    """An ODS whose content.xml unzips 1,000 times its size."""
    path = folder / "content_bomb.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        with archive.open("content.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><office:document-content>')
            filler = b"<table:table-row/>" * 50_000
            for _ in range(300 * MiB // len(filler)):
                part.write(filler)
            part.write(b"</office:document-content>")
    return path


def ods_repeats(folder: Path) -> Path:
    """An 800-byte ODS whose repeat attributes ask for 20 million cells."""
    return write_ods_repeated(folder / "repeated.ods", rows=20_000, columns=1000)


def big_workbook(folder: Path) -> Path:
    """A real 300,000-row XLSX: its sheet's XML is over 64 MiB, so it is streamed."""
    return write_xlsx_stream(folder / "big.xlsx", sheet_xml(people(300_000)), level=1)


def million_rows(folder: Path) -> Path:
    """The issue's legitimate 1.1-million-row CSV."""
    path = folder / "million.csv"
    with path.open("w") as handle:
        handle.write("First Name,Last Name\n")
        handle.writelines(f"Ann{letters(n)},Lee\n" for n in range(1_100_000))
    return path


def wide(folder: Path) -> Path:
    """20,000 columns: more than an Excel sheet's 16,384."""
    path = folder / "wide.csv"
    extra = ",".join(str(n) for n in range(19_998))
    with path.open("w") as handle:
        handle.write("First Name,Last Name," + ",".join(f"C{n}" for n in range(19_998)) + "\n")
        for n in range(100):
            handle.write(f"Ann{letters(n)},Lee,{extra}\n")
    return path


def long_cell(folder: Path) -> Path:
    """A 40,000-character cell: more than an Excel cell's 32,767."""
    path = folder / "long_cell.csv"
    path.write_text("First Name,Last Name,Notes\nAnn,Lee," + "y" * 40_000 + "\nBob,Ray,short\n")
    return path


@dataclass
class Outcome:
    code: int
    message: str
    peak_rss: int
    seconds: float


def run_cli(source: Path, out: Path) -> Outcome:
    command = [
        sys.executable,
        "-m",
        "ade.cli.commands.main",
        "extract",
        str(source),
        "-o",
        str(out),
    ]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        text = (stderr.read() or stdout.read()).decode("utf-8", "replace").strip()
    first = text.splitlines()[0] if text else ""
    return Outcome(process.returncode, first, usage.ru_maxrss * 1024, seconds)


_CEILING_DRIVER = textwrap.dedent(
    """
    import dataclasses
    import sys

    from ade.db.configuration_spec import default_configuration
    from ade.worker.child import EngineJob, EngineProcess
    from ade.worker.engine.zip_limits import ZipLimits
    from ade.worker.errors import RunFailed
    from ade.worker.settings import load_settings

    settings = load_settings()
    wide_open = ZipLimits(max_ratio=1e9, max_part_bytes=1 << 40,
        max_whole_part_bytes=1 << 40, max_sheet_text_bytes=1 << 40)
    limits = dataclasses.replace(settings.engine_limits, zip=wide_open)
    engine = EngineProcess(settings.engine, limits)
    spec = default_configuration().model_dump(mode="json")
    job = EngineJob("bench/1", sys.argv[1], spec, sys.argv[2])
    try:
        engine.run(job, lambda e: None, lambda: None, lambda: None)
        print("ok")
    except RunFailed as failure:
        print(f"error: {failure.failure.code}: {failure.failure.message}")
    finally:
        engine.close()
    """
)


def run_worker_child(source: Path, out: Path) -> Outcome:
    """The engine child's peak is the driver's RUSAGE_CHILDREN (the driver itself is small)."""
    started = time.perf_counter()
    env = {**os.environ, "RUST_BACKTRACE": "0"}
    process = subprocess.Popen(
        [sys.executable, "-c", _CEILING_DRIVER, str(source), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    output, _ = process.communicate()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    text = output.decode("utf-8", "replace").strip()
    return Outcome(0 if text == "ok" else 1, text, peak, seconds)


CASES: list[tuple[str, Callable[[Path], Path], Callable[[Path, Path], Outcome]]] = [
    ("sheet bomb (700 MiB sheet XML)", sheet_bomb, run_cli),
    ("shared-strings bomb (80 MB)", strings_bomb, run_cli),
    ("long string x 3,000 cells (3 GB)", echo_bomb, run_cli),
    ("lying ZIP directory (200 MiB)", lying_bomb, run_cli),
    ("ODS content bomb (300 MiB)", ods_bomb, run_cli),
    ("ODS repeated cells (20 million)", ods_repeats, run_cli),
    ("XLSX 300,000 rows (streamed)", big_workbook, run_cli),
    ("CSV 1,100,000 rows", million_rows, run_cli),
    ("CSV 20,000 columns", wide, run_cli),
    ("CSV 40,000-character cell", long_cell, run_cli),
    ("worker child, ZIP limits off: long string", echo_bomb, run_worker_child),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="cases whose name contains one of these words")
    args = parser.parse_args()
    print(f"{'case':<44} {'input':>9} {'outcome':<8} {'peak RSS MiB':>12} {'s':>6}  message")
    for name, build, runner in CASES:
        if args.only and not any(word.lower() in name.lower() for word in args.only):
            continue
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            source = build(folder)
            outcome = runner(source, folder / "out")
            size = source.stat().st_size
            shown = f"{size / MiB:.1f}M" if size >= MiB else f"{size / 1024:.0f}k"
            kind = "ok" if outcome.code == 0 else "failed"
            print(
                f"{name:<44} {shown:>9} {kind:<8} {outcome.peak_rss / MiB:>12.0f} "
                f"{outcome.seconds:>6.1f}  {outcome.message[:150]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
