"""Where the test suite's time goes: seconds per test file and the slowest tests, from JUnit XML.

    python3 benchmarks/suite_times.py [REPORT_DIR_OR_XML ...] [--top 20] [--slowest 10]

CI (`.ci/run`) prints this after `pants test --test-report`, so a file that became slow is
visible in the log of the day it did, not months later as a 20-minute suite. It reads the
reports Pants writes (one XML per test file: the file's time is its pytest session's time,
imports and session fixtures such as a PostgreSQL start-up included) and also one XML of a
plain `pytest --junitxml` run over many files (then a file's time is the sum of its tests').

Standard library only: CI runs it with the machine's python3, outside Pants.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileTime:
    """One test file's cost."""

    file: str
    seconds: float = 0.0
    tests: int = 0
    failed: int = 0
    slowest: tuple[float, str] = (0.0, "")


@dataclass
class SuiteTimes:
    files: dict[str, FileTime] = field(default_factory=dict)
    tests: list[tuple[float, str]] = field(default_factory=list)
    """(seconds, "path::name") of every test case (call, setup and teardown together)."""

    reports: int = 0

    @property
    def total(self) -> float:
        return sum(entry.seconds for entry in self.files.values())


def module_file(classname: str) -> str:
    """``tests.api.test_x.TestY`` (pytest's JUnit classname) -> ``tests/api/test_x.py``."""
    parts = classname.split(".")
    while len(parts) > 1 and parts[-1][:1].isupper():  # test classes, possibly nested
        parts.pop()
    return "/".join(parts) + ".py"


def report_files(paths: Iterable[Path]) -> list[Path]:
    """The XML files named, or found (recursively) in the folders named."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.rglob("*.xml")) if path.is_dir() else [path])
    return found


def read(reports: Sequence[Path]) -> SuiteTimes:
    times = SuiteTimes()
    for report in reports:
        try:
            root = ET.parse(report).getroot()
        except ET.ParseError as error:
            raise ValueError(f"{report} is not JUnit XML ({error})") from error
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        times.reports += 1
        for suite in suites:
            _read_suite(suite, times)
    return times


def _is_subtest(case: ET.Element, names: set[tuple[str, str]]) -> bool:
    """A subtest (Schemathesis reports one per API operation) is a case named after another
    case of its class plus a bracketed suffix: ``test_x[sqlite][GET /a]`` under
    ``test_x[sqlite]``. Its time is already part of that case's."""
    classname, name = case.get("classname", "?"), case.get("name", "?")
    return any((classname, name[:at]) in names for at in range(1, len(name)) if name[at] == "[")


def _read_suite(suite: ET.Element, times: SuiteTimes) -> None:
    in_suite: dict[str, FileTime] = {}
    cases = list(suite.iter("testcase"))
    names = {(case.get("classname", "?"), case.get("name", "?")) for case in cases}
    for case in cases:
        file = case.get("file") or module_file(case.get("classname", "?"))
        seconds = float(case.get("time") or 0.0)
        entry = in_suite.setdefault(file, FileTime(file))
        if case.find("failure") is not None or case.find("error") is not None:
            entry.failed += 1
        if _is_subtest(case, names):  # its time is in its test's; only a failure counts
            continue
        entry.seconds += seconds
        entry.tests += 1
        name = f"{file}::{case.get('name', '?')}"
        entry.slowest = max(entry.slowest, (seconds, name))
        times.tests.append((seconds, name))
    # One file per pytest session (Pants): the session's time also counts collection, imports
    # and session fixtures, which no test case's time includes.
    if len(in_suite) == 1:
        entry = next(iter(in_suite.values()))
        entry.seconds = max(entry.seconds, float(suite.get("time") or 0.0))
    for file, entry in in_suite.items():
        merged = times.files.setdefault(file, FileTime(file))
        merged.seconds += entry.seconds
        merged.tests += entry.tests
        merged.failed += entry.failed
        merged.slowest = max(merged.slowest, entry.slowest)


def table(times: SuiteTimes, top: int, slowest: int) -> str:
    """The report: files by time (top N, then the rest summed), total, then the slowest tests."""
    files = sorted(times.files.values(), key=lambda entry: (-entry.seconds, entry.file))
    total = times.total or 1.0
    width = max([len(entry.file) for entry in files[:top]] + [4])
    lines = [f"{'seconds':>8} {'share':>6} {'tests':>5}  {'file':<{width}}  slowest test (s)"]
    for entry in files[:top]:
        failed = f" ({entry.failed} failed)" if entry.failed else ""
        test = entry.slowest[1].split("::", 1)[-1]
        lines.append(
            f"{entry.seconds:8.1f} {entry.seconds / total:6.1%} {entry.tests:5d}  "
            f"{entry.file:<{width}}  {test} {entry.slowest[0]:.1f}{failed}"
        )
    rest = files[top:]
    if rest:
        seconds = sum(entry.seconds for entry in rest)
        count = sum(entry.tests for entry in rest)
        label = f"({len(rest)} more files)"
        lines.append(f"{seconds:8.1f} {seconds / total:6.1%} {count:5d}  {label:<{width}}")
    tests = sum(entry.tests for entry in files)
    lines.append(
        f"{times.total:8.1f} {1:6.0%} {tests:5d}  {'total':<{width}}  "
        f"({len(files)} files; summed over test processes, which run in parallel)"
    )
    if slowest > 0 and times.tests:
        lines.append("")
        lines.append(f"slowest {min(slowest, len(times.tests))} tests:")
        for seconds, name in sorted(times.tests, key=lambda item: (-item[0], item[1]))[:slowest]:
            lines.append(f"{seconds:8.1f}  {name}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="*", type=Path, default=[Path("dist/test/reports")])
    parser.add_argument("--top", type=int, default=20, help="files listed one by one")
    parser.add_argument("--slowest", type=int, default=10, help="slowest tests listed")
    args = parser.parse_args(argv)
    reports = report_files(args.reports)
    if not reports:
        print(f"suite_times: no JUnit XML in {', '.join(map(str, args.reports))}", file=sys.stderr)
        return 1
    try:
        times = read(reports)
    except ValueError as error:
        print(f"suite_times: {error}", file=sys.stderr)
        return 1
    print(f"test time per file, from {times.reports} JUnit reports:")
    print(table(times, args.top, args.slowest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
