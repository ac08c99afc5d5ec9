"""`ade extract` of many files: each in its own folder, `--jobs` at a time, and a batch.csv.

Why processes: the engine is CPU-bound Python, so threads would take turns on one CPU. Each
worker process runs :func:`ade.cli.commands.extract.run_file` on one file at a time, exactly what
`ade extract FILE` runs, so a worker holds what a single run holds and each folder gets the same
outputs (and the same clean-up of a failure) a single run writes. `--jobs 1` runs the files one
after another in this process, with no pool at all.

A file that fails is one row with status "failed" and its error; the others go on. A worker
process that dies (the kernel's out-of-memory killer, a kill -9) breaks the whole pool: the
files it left undone are run again, each alone in a fresh process, and only one that kills its
worker again fails ("worker_died").

Ctrl-C (or a SIGINT to this process alone) stops the batch: no new file starts, each running
file is interrupted the way a single run is (nothing but its log.ndjson left behind), and
batch.csv still lists every file with what happened to it ("ok", "failed", "interrupted",
"not_run"). How: only the parent takes SIGINT. The workers leave the terminal's process group
as they start and ignore SIGINT while idle; while they run a file they take it as
KeyboardInterrupt, and a thread in each, watching the parent's stop flag, sends its own process
one. So a running file stops through the single run's own clean-up, and the engine's
workbook-writer child is never signalled (it exits when its pipe closes). The flag is a
lock-free shared byte, polled: a multiprocessing.Event has a lock shared by every process, and a
KeyboardInterrupt that lands while one process holds it deadlocks them all.

Workers are started with "spawn": no copy of the parent's threads (the progress display's) or
locks, the way the worker's engine child starts.
"""

from __future__ import annotations

import contextlib
import csv
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ade.cli.commands.extract_inputs import BATCH_CSV, Job

if TYPE_CHECKING:
    from ade.db.configuration_spec import ConfigurationSpec

COLUMNS = ("file", "status", "tables", "rows", "issues", "seconds", "error", "output")


@dataclass
class Result:
    """One row of batch.csv."""

    file: str
    output: str
    status: str = "not_run"
    tables: int | None = None
    rows: int | None = None
    issues: int | None = None
    seconds: float | None = None
    error: str = ""

    def as_row(self) -> dict[str, Any]:
        seconds = "" if self.seconds is None else f"{self.seconds:.3f}"
        return {
            "file": self.file,
            "status": self.status,
            "tables": "" if self.tables is None else self.tables,
            "rows": "" if self.rows is None else self.rows,
            "issues": "" if self.issues is None else self.issues,
            "seconds": seconds,
            "error": self.error,
            "output": self.output,
        }


@dataclass
class Batch:
    jobs: Sequence[Job]
    spec: ConfigurationSpec
    sheets: list[str] | None
    results: list[Result] = field(default_factory=list)
    interrupted: bool = False

    def __post_init__(self) -> None:
        self.results = [Result(str(job.file), str(job.output)) for job in self.jobs]


def run_one(job: Job, spec: ConfigurationSpec, sheets: list[str] | None) -> Result:
    """Extract one file (in a worker process or this one); never raises but KeyboardInterrupt."""
    from ade.cli.commands.extract import FileFailed, run_file

    result = Result(str(job.file), str(job.output))
    started = time.perf_counter()
    try:
        summary = run_file(job.file, spec, job.output, sheets).as_dict()
    except FileFailed as exc:
        result.status, result.error = "failed", f"{exc.code}: {exc.message}"
    except KeyboardInterrupt:
        result.status, result.error = "interrupted", "interrupted; no outputs written"
    else:
        result.status = "ok"
        result.tables, result.rows = summary["tables_found"], summary["rows"]
        result.issues = summary["issues"]["total"]
    result.seconds = time.perf_counter() - started
    return result


# Worker process side -------------------------------------------------------------------------

_STOP: Any = None  # the parent's stop flag, a multiprocessing RawValue("b")
_STOP_POLL_SECONDS = 0.1


def _init_worker(stop: Any) -> None:
    global _STOP
    _STOP = stop
    if hasattr(os, "setpgrp"):
        # Out of the terminal's process group: a Ctrl-C reaches this process (and, through
        # the stop flag, the file it runs) only by way of the parent, and never reaches the
        # engine's workbook-writer child, which ignores SIGINT only once it has started.
        os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as it started (see _sigint_held)
    if hasattr(signal, "pthread_sigmask"):  # and blocked too, when the child was vfork()-ed
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def watch() -> None:
        while not stop.value:
            time.sleep(_STOP_POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="ade-extract-stop", daemon=True).start()


def _work(job: Job, spec: ConfigurationSpec, sheets: list[str] | None) -> Result:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if _STOP is not None and _STOP.value:
            return Result(str(job.file), str(job.output))  # not_run
        return run_one(job, spec, sheets)
    except KeyboardInterrupt:  # between run_one's own handler and here
        return Result(str(job.file), str(job.output), "interrupted")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# Parent side ---------------------------------------------------------------------------------


def run_batch(batch: Batch, jobs: int, on_result: Callable[[Result], None]) -> None:
    """Run every job, calling `on_result` as each one ends; sets `batch.interrupted` on Ctrl-C."""
    if jobs <= 1:
        for index, job in enumerate(batch.jobs):
            try:
                batch.results[index] = result = run_one(job, batch.spec, batch.sheets)
                on_result(result)
            except KeyboardInterrupt:  # between two files
                batch.interrupted = True
                return
            if result.status == "interrupted":
                batch.interrupted = True
                return
        return
    context = multiprocessing.get_context("spawn")
    stop = context.RawValue("b", 0)
    broken = _run_pool(batch, _largest_first(batch.jobs), jobs, on_result, context, stop)
    # A worker that died (out of memory, killed) breaks the whole pool: every file not yet
    # done comes back here. Each is run again alone in a fresh process, so only a file that
    # kills its worker again fails.
    for index in broken:
        if batch.interrupted:
            return
        if _run_pool(batch, [index], 1, on_result, context, stop):
            job = batch.jobs[index]
            result = Result(str(job.file), str(job.output), "failed")
            result.error = "worker_died: the process extracting it died, twice (out of memory?)"
            batch.results[index] = result
            on_result(result)


def _run_pool(
    batch: Batch,
    indexes: list[int],
    jobs: int,
    on_result: Callable[[Result], None],
    context: Any,
    stop: Any,
) -> list[int]:
    """Run the files at `indexes` in a pool of `jobs` workers; the indexes whose worker died."""
    broken: list[int] = []
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(stop,)
    ) as pool:
        futures: dict[Future[Result], int] = {}
        try:
            with _sigint_held():  # the workers start during the first submits
                for index in indexes:
                    job = batch.jobs[index]
                    futures[pool.submit(_work, job, batch.spec, batch.sheets)] = index
            for future in as_completed(futures):
                _record(batch, futures[future], future, on_result, broken)
        except KeyboardInterrupt:
            batch.interrupted = True
            stop.value = 1
            for future in futures:
                future.cancel()
            # A second Ctrl-C must not leave the running files half-written: their clean-up
            # takes a moment (Ctrl-\\ still quits at once).
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                running = sum(1 for f in futures if not f.done() and not f.cancelled())
                typer.echo(f"interrupted: stopping {running} running file(s)", err=True)
                _drain(batch, futures, on_result, broken)
            finally:
                signal.signal(signal.SIGINT, previous)
    return [] if batch.interrupted else sorted(broken, key=indexes.index)


def _largest_first(jobs: Sequence[Job]) -> list[int]:
    """Submission order: largest files first, so that a big file met last does not keep one
    worker busy while the others idle (batch.csv keeps the order the files were found in)."""

    def size(index: int) -> int:
        try:
            return jobs[index].file.stat().st_size
        except OSError:
            return 0

    return sorted(range(len(jobs)), key=lambda index: (-size(index), index))


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Start worker processes with SIGINT ignored and this process's Ctrl-C held back.

    A process started while SIGINT is ignored keeps it ignored through exec and Python's
    start-up, so a Ctrl-C cannot kill a worker in its start-up (a "Fatal Python error" and a
    broken pool). Blocking it here too keeps a Ctrl-C pressed meanwhile pending (Linux never
    discards a blocked signal), so this process gets it as KeyboardInterrupt when the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _drain(
    batch: Batch,
    futures: dict[Future[Result], int],
    on_result: Callable[[Result], None],
    broken: list[int],
) -> None:
    """After Ctrl-C: wait for the running files to stop (each cleans up its own outputs)."""
    pending = [f for f in futures if not f.cancelled() and not f.done()]
    for future in as_completed(pending):
        _record(batch, futures[future], future, on_result, broken)


def _record(
    batch: Batch,
    index: int,
    future: Future[Result],
    on_result: Callable[[Result], None],
    broken: list[int],
) -> None:
    try:
        result = future.result()
    except BrokenProcessPool:  # a worker died (killed, out of memory): not this file's fault yet
        broken.append(index)
        return
    except Exception as exc:  # the result could not come back (it always pickles: a bug)
        job = batch.jobs[index]
        text = " ".join(str(exc).split()) or type(exc).__name__
        result = Result(str(job.file), str(job.output), "failed", error=f"internal_error: {text}")
    batch.results[index] = result
    if result.status != "not_run":
        on_result(result)


def write_batch_csv(batch: Batch, output: Path) -> Path:
    path = output / BATCH_CSV
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(result.as_row() for result in batch.results)
    return path


def summary_line(batch: Batch, seconds: float, csv_path: Path) -> str:
    counts = {status: 0 for status in ("ok", "failed", "interrupted", "not_run")}
    for result in batch.results:
        counts[result.status] += 1
    done = [r for r in batch.results if r.status == "ok"]
    parts = [f"{len(batch.results)} file(s): {counts['ok']} ok, {counts['failed']} failed"]
    if batch.interrupted:
        parts.append(f"{counts['interrupted']} interrupted, {counts['not_run']} not run")
    tables = sum(r.tables or 0 for r in done)
    rows = sum(r.rows or 0 for r in done)
    issues = sum(r.issues or 0 for r in done)
    return (
        f"{'INTERRUPTED: ' if batch.interrupted else ''}{', '.join(parts)}; "
        f"{tables} table(s), {rows} row(s), {issues} issue(s) in {seconds:.1f} s; see {csv_path}"
    )


def plain_line(done: int, total: int, result: Result) -> str:
    width = len(str(total))
    head = f"[{done:>{width}}/{total}] {result.status:<11} {result.file}"
    if result.status == "ok":
        return (
            f"{head} -> {result.output}: {result.tables} table(s), {result.rows} row(s), "
            f"{result.issues} issue(s), {result.seconds or 0:.2f} s"
        )
    return f"{head}: {result.error}" if result.error else head


def default_jobs() -> int:
    """The CPUs this process may use (a container's or taskset's limit, not the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run_with_display(batch: Batch, jobs: int, output: Path, progress: bool | None) -> int:
    """Run the batch with a progress bar on a terminal (plain lines otherwise), write
    batch.csv, print the summary line; the exit code (0, 1 when a file failed, 130 on Ctrl-C)."""
    total = len(batch.jobs)
    done = 0
    started = time.perf_counter()
    tty = sys.stdout.isatty() if progress is None else progress
    if tty:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console()
        with Progress(
            TextColumn("extracting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[failed]} failed"),
            console=console,
        ) as bar:
            task = bar.add_task("extract", total=total, failed=0)
            failed = 0

            def show(result: Result) -> None:
                nonlocal done, failed
                done += 1
                if result.status != "ok":
                    failed += 1
                    bar.console.print(plain_line(done, total, result), markup=False, soft_wrap=True)
                bar.update(task, advance=1, failed=failed)

            run_batch(batch, jobs, show)
    else:

        def show(result: Result) -> None:
            nonlocal done
            done += 1
            typer.echo(plain_line(done, total, result))

        run_batch(batch, jobs, show)
    csv_path = write_batch_csv(batch, output)
    typer.echo(summary_line(batch, time.perf_counter() - started, csv_path))
    if batch.interrupted:
        return 130
    return 1 if any(r.status != "ok" for r in batch.results) else 0
