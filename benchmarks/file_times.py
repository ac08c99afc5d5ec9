"""What a change did to the cost of test files: each file run as Pants runs it (one pytest
process per file), in a baseline revision and in the working tree, alternately.

    python benchmarks/file_times.py --baseline main --rounds 3 tests/api/test_contract.py ...

The baseline is exported with `git archive` into a temporary folder (no worktree, no checkout)
and measured in the same run, round by round in turn with the working tree, so load from other
work on the machine falls on both alike. A file missing from one tree (a file split in two) is
simply not run there: name every file of the group and compare the totals. Prints, per file and
in total, the medians of wall seconds and of CPU seconds (the pytest process and its children;
a daemonized PostgreSQL server is not a child) and the number of tests each side ran.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Runs:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    tests: int = 0
    failed: int = 0


def export(revision: str, into: Path, name: str) -> Path:
    """The files of ``revision`` in ``into/name`` (git archive: the repository is left as is)."""
    archive = into / f"{name}.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(REPO), "archive", revision], stdout=out, check=True)
    tree = into / name
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    archive.unlink()
    return tree


def run_file(tree: Path, test_file: str, report: Path) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds, tests and failures of one pytest process over ``test_file``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src/python"), str(tree)])}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file]
    subprocess.run(
        [*command, f"--junitxml={report}"],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cases = list(ET.parse(report).getroot().iter("testcase")) if report.is_file() else []
    failed = [
        case.get("name", "?")
        for case in cases
        if case.find("failure") is not None or case.find("error") is not None
    ]
    for name in failed:
        print(f"  FAILED in {tree.name}: {test_file}::{name}", flush=True)
    return wall, cpu, len(cases), len(failed)


def measure(
    trees: dict[str, Path], files: Sequence[str], rounds: int, scratch: Path
) -> dict[str, dict[str, Runs]]:
    results: dict[str, dict[str, Runs]] = {label: {} for label in trees}
    for round_number in range(rounds):
        for test_file in files:
            for label, tree in trees.items():
                if not (tree / test_file).is_file():
                    continue
                report = scratch / f"{label}-{round_number}-{test_file.replace('/', '.')}.xml"
                wall, cpu, tests, failed = run_file(tree, test_file, report)
                runs = results[label].setdefault(test_file, Runs())
                runs.wall.append(wall)
                runs.cpu.append(cpu)
                runs.tests, runs.failed = tests, max(runs.failed, failed)
                print(f"  round {round_number + 1} {label:8} {test_file}: {wall:.1f} s", flush=True)
    return results


def table(results: dict[str, dict[str, Runs]], files: Sequence[str]) -> str:
    base, new = results["baseline"], results["current"]

    def cell(runs: Runs | None, attribute: str) -> float | None:
        return statistics.median(getattr(runs, attribute)) if runs else None

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    def ratio(after: float | None, before: float | None) -> str:
        return "-" if not after or not before else f"{after / before:.2f}x"

    header = (
        f"{'file':<44} {'tests':>9}  {'wall s base':>11} {'new':>7} {'ratio':>6}"
        f"  {'cpu s base':>10} {'new':>7} {'ratio':>6}"
    )
    lines = [header]
    totals = {key: 0.0 for key in ("bw", "nw", "bc", "nc")}
    counts = [0, 0]
    for test_file in files:
        b, n = base.get(test_file), new.get(test_file)
        bw, nw, bc, nc = cell(b, "wall"), cell(n, "wall"), cell(b, "cpu"), cell(n, "cpu")
        for key, value in zip(totals, (bw, nw, bc, nc), strict=True):
            totals[key] += value or 0.0
        counts[0] += b.tests if b else 0
        counts[1] += n.tests if n else 0
        failed = "".join(
            f" FAILED ({label})"
            for label, runs in (("base", b), ("new", n))
            if runs and runs.failed
        )
        tests = f"{b.tests if b else '-'}/{n.tests if n else '-'}"
        lines.append(
            f"{test_file:<44} {tests:>9}  {fmt(bw):>11} {fmt(nw):>7} {ratio(nw, bw):>6}"
            f"  {fmt(bc):>10} {fmt(nc):>7} {ratio(nc, bc):>6}{failed}"
        )
    lines.append(
        f"{'total':<44} {f'{counts[0]}/{counts[1]}':>9}  {totals['bw']:11.1f} {totals['nw']:7.1f}"
        f" {ratio(totals['nw'], totals['bw']):>6}  {totals['bc']:10.1f} {totals['nc']:7.1f}"
        f" {ratio(totals['nc'], totals['bc']):>6}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="test files, relative to the repository root")
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument(
        "--current", help="git revision to measure instead of the working tree (edits go on)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ade-test-times-") as scratch_name:
        scratch = Path(scratch_name)
        current = export(args.current, scratch, "current") if args.current else REPO
        trees = {"baseline": export(args.baseline, scratch, "baseline"), "current": current}
        results = measure(trees, args.files, args.rounds, scratch)
    print(
        f"\nmedians of {args.rounds} rounds, baseline {args.baseline}"
        f" vs {args.current or 'the working tree'}"
    )
    print("(tests: baseline/current; medians of wall and CPU seconds per pytest process)")
    print(table(results, args.files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
