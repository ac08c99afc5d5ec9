"""Mapping precision and recall on a corpus of real-looking files with hand-written expectations.

Prints one line per file (mappings made, correct, expected; precision and recall), then every
wrong and every missed mapping with the engine's reason and detail, then the totals. The
baseline it compares against is the expectation itself: a person's reading of each column.

    ./pants run benchmarks/mapping_precision.py                  # both corpora below
    ./pants run benchmarks/mapping_precision.py -- --corpus DIR  # any corpus of that layout

By default it scores tests/corpus (made for the golden test) and benchmarks/corpus_independent
(20 exports by a colleague who never saw the engine; see its NOTES.md).

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
    lines = [f"{'file':<{width}}  made  correct  expected  precision  recall  problems"]
    for r in results:
        lines.append(
            f"{r.file:<{width}}  {r.made:>4}  {r.correct:>7}  {r.expected:>8}  "
            f"{_ratio(r.correct, r.made):>9}  {_ratio(r.correct, r.expected):>6}  "
            f"{len(r.problems):>8}"
        )
    for r in results:
        for column in r.wrong:
            lines.append(
                f"WRONG   {r.file} table {column.table} {column.key!r}: {column.actual}, "
                f"expected {column.expected} ({column.reason}: {column.detail})"
            )
        for column in r.missed:
            lines.append(
                f"MISSED  {r.file} table {column.table} {column.key!r}: expected "
                f"{column.expected} ({column.reason}: {column.detail})"
            )
        for problem in r.problems:
            lines.append(f"PROBLEM {r.file}: {problem}")
    made = sum(r.made for r in results)
    correct = sum(r.correct for r in results)
    expected = sum(r.expected for r in results)
    lines.append(
        f"TOTAL {len(results)} files: precision {_ratio(correct, made)} ({correct}/{made}), "
        f"recall {_ratio(correct, expected)} ({correct}/{expected}), "
        f"wrong {sum(len(r.wrong) for r in results)}, "
        f"missed {sum(len(r.missed) for r in results)}, "
        f"other problems {sum(len(r.problems) for r in results)}"
    )
    return lines


INDEPENDENT = Path("benchmarks/corpus_independent")  # relative to the repository root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, action="append", help="corpus folder (repeatable)")
    args = parser.parse_args(argv)
    corpora: list[Path] = args.corpus or [CORPUS, *([INDEPENDENT] if INDEPENDENT.is_dir() else [])]
    any_wrong = False
    for corpus in corpora:
        paths = expectations(corpus.resolve())
        if not paths:
            parser.error(f"no expected/*.json in {corpus}")
        results = [score(path, corpus.resolve()) for path in paths]
        print(f"== {'tests/corpus' if corpus == CORPUS else corpus}")
        print("\n".join(report(results)))
        any_wrong = any_wrong or any(r.wrong for r in results)
    return 1 if any_wrong else 0


if __name__ == "__main__":
    sys.exit(main())
