"""Mapping precision and recall on a corpus of real-looking files with hand-written expectations.

Prints one line per file (mappings made, correct, expected; precision and recall), then every
wrong and every missed mapping with the engine's reason and detail, then the totals. The
baseline it compares against is the expectation itself: a person's reading of each column.

    ./pants run benchmarks/mapping_precision.py                  # the three corpora below
    ./pants run benchmarks/mapping_precision.py -- --corpus DIR  # any corpus of that layout

By default it scores tests/corpus (made for the golden test), benchmarks/corpus_independent
(20 exports by a colleague who never saw the engine; see its NOTES.md) and tests/corpus/real
(public files written by people outside the team; see its README.md). Per file it also counts
the value checks that hold and whether the file came out fully right.

A corpus is a folder with files/ and expected/<file>.json (format: tests/corpus/scoring.py).
Exits 1 when any mapping is wrong (precision below 100%), so it can gate a held-out corpus.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.corpus.scoring import CORPUS, FileScore, expectations, score


def _ratio(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def report(results: list[FileScore]) -> list[str]:
    width = max([len(r.file) for r in results] + [4])
    lines = [
        f"{'file':<{width}}  made  correct  expected  precision  recall  checks  problems  right"
    ]
    for r in results:
        passed = r.checks - len(r.failed_checks)
        lines.append(
            f"{r.file:<{width}}  {r.made:>4}  {r.correct:>7}  {r.expected:>8}  "
            f"{_ratio(r.correct, r.made):>9}  {_ratio(r.recalled, r.expected):>6}  "
            f"{passed:>3}/{r.checks:<3} {len(r.problems):>8}  {'yes' if r.fully_right else 'NO':>5}"
        )
    for r in results:
        for column in r.wrong:
            lines.append(
                f"WRONG   {r.file} table {column.table} {column.key!r}: {column.actual}, "
                f"expected {column.wanted} ({column.reason}: {column.detail})"
            )
        for column in r.missed:
            lines.append(
                f"MISSED  {r.file} table {column.table} {column.key!r}: expected "
                f"{column.wanted} ({column.reason}: {column.detail})"
            )
        for check in r.failed_checks:
            lines.append(f"VALUE   {r.file} {check}")
        for problem in r.problems:
            lines.append(f"PROBLEM {r.file}: {problem}")
    made = sum(r.made for r in results)
    correct = sum(r.correct for r in results)
    recalled = sum(r.recalled for r in results)
    expected = sum(r.expected for r in results)
    checks = sum(r.checks for r in results)
    failed = sum(len(r.failed_checks) for r in results)
    right = sum(1 for r in results if r.fully_right)
    lines.append(
        f"TOTAL {len(results)} files: precision {_ratio(correct, made)} ({correct}/{made}), "
        f"recall {_ratio(recalled, expected)} ({recalled}/{expected}), "
        f"wrong {sum(len(r.wrong) for r in results)}, "
        f"missed {sum(len(r.missed) for r in results)}, "
        f"value checks {checks - failed}/{checks}, "
        f"other problems {sum(len(r.problems) for r in results)}, "
        f"fully right {right}/{len(results)} ({_ratio(right, len(results))})"
    )
    return lines


INDEPENDENT = Path("benchmarks/corpus_independent")  # relative to the repository root
REAL = CORPUS / "real"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, action="append", help="corpus folder (repeatable)")
    args = parser.parse_args(argv)
    default = [CORPUS, *([INDEPENDENT] if INDEPENDENT.is_dir() else []), REAL]
    corpora: list[Path] = args.corpus or default
    any_wrong = False
    for corpus in corpora:
        paths = expectations(corpus.resolve())
        if not paths:
            parser.error(f"no expected/*.json in {corpus}")
        results = [score(path, corpus.resolve()) for path in paths]
        name = {CORPUS: "tests/corpus", REAL: "tests/corpus/real"}.get(corpus, str(corpus))
        print(f"== {name}")
        print("\n".join(report(results)))
        any_wrong = any_wrong or any(r.wrong for r in results)
    return 1 if any_wrong else 0


if __name__ == "__main__":
    sys.exit(main())
