"""`ade` CLI start-up and migration timings, as whole processes, beside the import floor.

Measured in the same run (medians of --runs each, interleaved so machine load hits all alike):

- floor: ``python -c "import sqlalchemy, alembic"`` (what any migrate must at least pay), and
  ``python -c pass`` for scale (bare interpreter start: shows how loaded the machine is);
- ``ade --help`` (target: under 0.25 s);
- ``ade db migrate`` on an empty SQLite database (creates the schema);
- ``ade db migrate`` when already current, with ``--database-url`` and with
  ``ADE_DATABASE_URL`` (target: within 1.5x of the floor);
- ``ade db current``.

The CLI runs as ``python -m ade.cli.commands.main`` with PYTHONPATH built from ``sys.path``, so
this works from a checkout and under Pants. Give a path to an ``ade.pex`` to time it as well.

    python benchmarks/db_cli.py [--runs 7] [path/to/ade.pex]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HELP_TARGET_S = 0.25
NOOP_TARGET_RATIO = 1.5


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(extra or {})
    return env


def timed(argv: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {result.stderr.decode().strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("pex", nargs="?", help="optional path to ade.pex to time as well")
    args = parser.parse_args()

    python = sys.executable
    launchers: dict[str, list[str]] = {"python -m": [python, "-m", "ade.cli.commands.main"]}
    if args.pex:
        launchers["ade.pex"] = [str(Path(args.pex).resolve())]

    with tempfile.TemporaryDirectory(prefix="ade-bench-") as tmp:
        env = child_env()
        current = f"sqlite:///{Path(tmp) / 'current.sqlite'}"
        env_url = child_env({"ADE_DATABASE_URL": current})

        def command(argv: list[str], environment: dict[str, str]) -> Callable[[int], float]:
            return lambda _run: timed(argv, environment, tmp)

        def fresh_migrate(ade: list[str], tag: str) -> Callable[[int], float]:
            def case(run: int) -> float:
                url = f"sqlite:///{Path(tmp) / f'empty-{tag}-{run}.sqlite'}"
                return timed([*ade, "db", "migrate", "--database-url", url], env, tmp)

            return case

        cases: dict[str, Callable[[int], float]] = {
            "python -c pass (interpreter start)": command([python, "-c", "pass"], env),
            "floor: import sqlalchemy, alembic": command(
                [python, "-c", "import sqlalchemy, alembic"], env
            ),
        }
        for tag, (label, ade) in enumerate(launchers.items()):
            timed([*ade, "db", "migrate", "--database-url", current], env, tmp)
            noop = [*ade, "db", "migrate", "--database-url", current]
            cases[f"{label}: ade --help"] = command([*ade, "--help"], env)
            cases[f"{label}: ade db migrate (empty SQLite)"] = fresh_migrate(ade, str(tag))
            cases[f"{label}: ade db migrate (no-op, --database-url)"] = command(noop, env)
            cases[f"{label}: ade db migrate (no-op, ADE_DATABASE_URL)"] = command(
                [*ade, "db", "migrate"], env_url
            )
            cases[f"{label}: ade db current"] = command(
                [*ade, "db", "current", "--database-url", current], env
            )
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for run in range(args.runs):  # interleaved: load changes hit every case alike
            for name, case in cases.items():
                samples[name].append(case(run))

    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["floor: import sqlalchemy, alembic"]
    width = max(len(name) for name in medians)
    print(f"{'case':<{width}}  median s  x floor  target")
    for name, value in medians.items():
        target = ""
        if name.endswith("ade --help"):
            target = f"< {HELP_TARGET_S:.2f} s: {'ok' if value < HELP_TARGET_S else 'MISSED'}"
        elif "no-op" in name:
            ok = value / floor <= NOOP_TARGET_RATIO
            target = f"<= {NOOP_TARGET_RATIO}x: {'ok' if ok else 'MISSED'}"
        print(f"{name:<{width}}  {value:8.3f}  {value / floor:7.2f}  {target}")
    print(f"(medians of {args.runs} runs, {Path(python).name} {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
