"""Hostile and oversized inputs: does every one succeed or fail clearly, within 512 MiB?

The cases (``tests/support/hostile_cases.py``) are generated into a temporary folder by
streaming (bombs are deflated from generators, never held or kept). Each states what must become
of it: ``ok`` (and, for some, what the outputs hold) or a failure code and a fragment of its
message. Every case is checked for that and for a peak RSS under 512 MiB.

``--through extract`` (the default) runs each file through ``python -m ade.cli.commands.main
extract`` in a process of its own; its peak RSS is the largest high-water mark of the CLI
process and its workbook writer, read from /proc every 20 ms (``wait4``'s would start at this
script's own size: a child inherits its parent's mark at fork).

``--through api`` starts the real service as a user does (``ade start`` on a fresh
ADE_DATA_DIR with SQLite, ADE_API_MAX_UPLOAD_BYTES=64 MiB, an ``ade apikey create`` key) and
sends each file through the HTTP API: upload to the documents endpoint (an upload the API must
refuse is checked for its status and for nothing stored), a run, its end polled, the outputs
downloaded for the checks. The peak RSS is the largest high-water mark of the worker's child
processes (engine child, workbook writer) during that run, read from /proc (reset before each
run, sampled every 20 ms), beside the worker process's own. After every case the API must
answer /health and /ready with both services still the processes started first; at the end
every run must have ended (none lost). ``--through both`` does both per case and also requires
the two to give the same outcome and the same message.

The last case runs with the ZIP limits opened wide, to show the engine child's memory ceiling
(ADE_WORKER_ENGINE_MEMORY_MIB, default 448) stopping what only it can stop: through the
worker's engine child directly (extract mode) or a second service started with those settings,
whose worker must then still run a normal file.

    PYTHONPATH=src/python:. python benchmarks/hostile_inputs.py [--through extract|api|both]
        [--only WORD ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ade_service import TERMINAL, Service, running_service
from tests.support.hostile_cases import (
    CASES,
    OK,
    PEOPLE,
    Case,
    Outputs,
    check_people,
    echo_bomb,
)
from tests.support.processes import PeakSampler

MiB = 1024 * 1024
RSS_LIMIT = 512 * MiB
WIDE_OPEN = {
    "ADE_WORKER_ZIP_MAX_RATIO": "1e9",
    "ADE_WORKER_ZIP_MAX_PART_MIB": str(1 << 20),
    "ADE_WORKER_ZIP_MAX_WHOLE_PART_MIB": str(1 << 20),
    "ADE_WORKER_ZIP_MAX_SHEET_TEXT_MIB": str(1 << 20),
}
CEILING = Case(
    "ZIP limits off: long string (memory ceiling)",
    echo_bomb,
    "too_large",
    "more memory than the engine's limit",
)


def _people(folder: Path) -> Path:
    path = folder / "people.csv"
    path.write_text(PEOPLE)
    return path


AFTER_CEILING = Case("... then a normal file, same worker", _people, OK, check=check_people)


@dataclass
class Result:
    """What one case gave through one way in, and what was wrong with it."""

    outcome: str
    message: str
    peak_rss: int
    seconds: float
    problems: list[str] = field(default_factory=list)
    worker_rss: int = 0
    run_created: bool = False


class FolderOutputs:
    """The outputs `ade extract` wrote."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def table_csv(self, number: int) -> bytes:
        return (self.folder / "tables" / f"{number}.csv").read_bytes()


def judge(case: Case, result: Result, outputs: Outputs) -> Result:
    """Add to ``result.problems`` whatever differs from what the case expects."""
    if result.outcome != case.expect:
        result.problems.append(f"expected {case.expect}, got {result.outcome}")
    elif case.message and case.message not in result.message:
        result.problems.append(f"the message lacks {case.message!r}")
    if result.peak_rss >= RSS_LIMIT:
        result.problems.append(f"peak RSS {result.peak_rss / MiB:.0f} MiB")
    if result.outcome == OK and case.check is not None:
        try:
            case.check(outputs)
        except (AssertionError, OSError, KeyError) as error:
            result.problems.append(f"outputs: {' '.join(str(error).split())[:200]}")
    return result


def through_extract(case: Case, source: Path, out: Path) -> Result:
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
        with PeakSampler(process.pid) as peaks:
            _, status, _ = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        lines = stderr.read().decode("utf-8", "replace").strip().splitlines()
    first = lines[0] if lines else ""
    if code == 0:
        outcome, message = OK, ""
    elif first.startswith("error: ") and ": " in first[7:]:
        outcome, message = first[7:].split(": ", 1)
    else:
        outcome, message = f"exit {code}", first
    result = Result(outcome, message, max(peaks.root, peaks.below), seconds)
    return judge(case, result, FolderOutputs(out))


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
        print(f"{failure.failure.code}: {failure.failure.message}")
    finally:
        engine.close()
    """
)


def through_worker_child(case: Case, source: Path, out: Path) -> Result:
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
    outcome, _, message = text.partition(": ")
    return judge(case, Result(outcome or "exit", message, peak, seconds), FolderOutputs(out))


def through_api(service: Service, case: Case, source: Path) -> Result:
    """Upload, run, wait, check; then the service must still be up."""
    started = time.perf_counter()
    documents, files = service.documents(), service.stored_files()
    reply = service.upload(source, chunked=case.chunked)
    if case.api_refused is not None:
        status, fragment = case.api_refused
        detail = str(reply.json().get("detail", "")) if reply.content else ""
        result = Result(f"http {reply.status_code}", detail, 0, time.perf_counter() - started)
        if reply.status_code != status:
            result.problems.append(f"expected http {status}, got {reply.status_code}")
        elif fragment not in detail:
            result.problems.append(f"the refusal lacks {fragment!r}")
        if (service.documents(), service.stored_files()) != (documents, files):
            result.problems.append("the refused upload left a document or a file behind")
    elif reply.status_code != 201:
        result = Result(f"http {reply.status_code}", reply.text[:200], 0, 0.0)
        result.problems.append("the upload was refused")
    else:
        run = service.run(str(reply.json()["document"]["id"]))
        result = Result(run.outcome, run.message, run.engine_peak, run.seconds)
        result.worker_rss, result.run_created = run.worker_peak, True
        judge(case, result, service.outputs(str(run.run["id"])))
    if not service.up():
        result.problems.append("the service is down after this case")
    return result


def runs_lost(service: Service, created: int) -> list[str]:
    """Every run created must be listed and have ended."""
    statuses = service.run_statuses()
    problems = []
    if len(statuses) != created:
        problems.append(f"{created} runs created, {len(statuses)} listed")
    unfinished = [status for status in statuses if status not in TERMINAL]
    if unfinished:
        problems.append(f"runs not ended: {unfinished}")
    return problems


# ------------------------------------------------------------------------------ report

HEAD = (
    f"{'case':<46} {'input':>7} {'via':<7} {'outcome':<18} {'peak MiB':>8} "
    f"{'s':>6} {'verdict':<7} message"
)


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / MiB:.1f}M" if size >= MiB else f"{size / 1024:.0f}k"


def _row(name: str, source: Path, via: str, result: Result) -> str:
    verdict = "FAIL" if result.problems else "pass"
    shown = "; ".join(result.problems) + " | " if result.problems else ""
    return (
        f"{name[:46]:<46} {_size(source):>7} {via:<7} {result.outcome[:18]:<18} "
        f"{result.peak_rss / MiB:>8.0f} {result.seconds:>6.1f} {verdict:<7} "
        f"{shown}{result.message[:140]}"
    )


@dataclass
class Tally:
    """Per way in (extract, child, api): cases passed and failed, largest peaks, seconds."""

    passed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    worker_peak: int = 0
    runs: int = 0

    def add(self, via: str, result: Result) -> None:
        self.peak[via] = max(self.peak.get(via, 0), result.peak_rss)
        self.seconds[via] = self.seconds.get(via, 0.0) + result.seconds
        self.worker_peak = max(self.worker_peak, result.worker_rss)
        self.runs += result.run_created
        counts = self.failed if result.problems else self.passed
        counts[via] = counts.get(via, 0) + 1

    def lines(self) -> list[str]:
        lines = []
        for via in self.peak:
            passed, failed = self.passed.get(via, 0), self.failed.get(via, 0)
            lines.append(
                f"through {via}: {passed}/{passed + failed} passed, max peak RSS "
                f"{self.peak[via] / MiB:.0f} MiB, {self.seconds[via]:.0f} s in the cases"
            )
        if self.worker_peak:
            lines.append(
                f"the worker process itself peaked at {self.worker_peak / MiB:.0f} MiB; "
                f"{self.runs} runs through the API"
            )
        return lines


@contextlib.contextmanager
def _service(wanted: bool, scratch: Path) -> Iterator[Service | None]:
    if not wanted:
        yield None
        return
    with running_service(scratch) as service:
        yield service


def run_battery(cases: list[Case], through: str, ceiling: bool) -> int:
    tally = Tally()
    problems: list[str] = []
    ways = ["extract", "api"] if through == "both" else [through]
    started = time.perf_counter()
    print(HEAD, flush=True)
    with (
        tempfile.TemporaryDirectory() as scratch,
        _service("api" in ways, Path(scratch) / "service") as service,
    ):
        for case in cases:
            with tempfile.TemporaryDirectory() as work:
                folder = Path(work)
                source = case.build(folder)
                results: dict[str, Result] = {}
                for via in ways:
                    if via not in case.through:
                        continue
                    if via == "extract":
                        results[via] = through_extract(case, source, folder / "out")
                    else:
                        assert service is not None
                        results[via] = through_api(service, case, source)
                _compare(case, results)
                for via, result in results.items():
                    tally.add(via, result)
                    print(_row(case.name, source, via, result), flush=True)
        if service is not None:
            problems += runs_lost(service, tally.runs)
            if not service.up():
                problems.append("the service is down at the end")
    if ceiling:
        problems += _ceiling(ways, tally)
    failed = sum(tally.failed.values())
    total = failed + sum(tally.passed.values())
    print(
        f"\n{total - failed}/{total} passed, {failed} failed (peak RSS limit "
        f"{RSS_LIMIT / MiB:.0f} MiB); {time.perf_counter() - started:.0f} s in all"
    )
    print("\n".join(tally.lines()))
    if "api" in ways and not problems:
        print("no run lost, the service up after every case, the same API and worker processes")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if failed or problems else 0


def _compare(case: Case, results: dict[str, Result]) -> None:
    """Through both ways, a case must end the same, with the same words."""
    if "extract" not in results or "api" not in results or case.api_refused is not None:
        return
    cli, api = results["extract"], results["api"]
    if (cli.outcome, cli.message) != (api.outcome, api.message):
        api.problems.append("differs from extract")


def _ceiling(ways: list[str], tally: Tally) -> list[str]:
    """The memory ceiling alone, with the ZIP limits off: the run fails too_large, and (through
    the service) the same worker then runs a normal file."""
    problems: list[str] = []
    for via in ways:
        with tempfile.TemporaryDirectory() as work:
            folder = Path(work)
            if via == "extract":
                source = CEILING.build(folder)
                result = through_worker_child(CEILING, source, folder / "out")
                tally.add("child", result)
                print(_row(CEILING.name, source, "child", result), flush=True)
                continue
            with running_service(folder / "service", WIDE_OPEN) as service:
                for case in (CEILING, AFTER_CEILING):
                    source = case.build(folder)
                    result = through_api(service, case, source)
                    tally.add("api", result)
                    print(_row(case.name, source, "api", result), flush=True)
                problems += runs_lost(service, 2)
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--through", choices=["extract", "api", "both"], default="extract")
    parser.add_argument("--only", nargs="*", help="cases whose name contains one of these words")
    args = parser.parse_args()

    def chosen(case: Case) -> bool:
        return not args.only or any(word.lower() in case.name.lower() for word in args.only)

    cases = [case for case in CASES if chosen(case)]
    sys.exit(run_battery(cases, args.through, chosen(CEILING)))


if __name__ == "__main__":
    main()
