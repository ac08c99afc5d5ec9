"""Where a Pants run's CPU goes, from Linux process accounting: per step, with its subprocesses.

    apt-get install acct                      # dump-acct; root for accton
    touch run.pacct && accton run.pacct
    ./pants test :: > pants.log 2>&1
    accton off
    python3 benchmarks/suite_cpu.py run.pacct pants.log [--top 30]

Why CPU and not wall time: a cold `pants test ::` keeps both CPUs of a 2-CPU machine busy, so
its wall time is its CPU time over two, and the question is which work to remove. Pants' own
log says when each step finished, not what it cost once parallel steps share the CPUs. The
kernel's accounting records every process's CPU when it exits; each process Pants started
(a PEX build, a pytest run) is charged with everything under it (PostgreSQL, worker processes,
Chromium, pip) and named after the log's "Completed:" line closest to its end. Pants' daemon
itself (still running when accounting stops) is not in the file.

Standard library only; reads the file through `dump-acct` (Debian's acct package).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

MATCH_SECONDS = 2.5
"""How far a process tree's end may be from a "Completed:" line to take its name."""


@dataclass(frozen=True)
class Process:
    """One accounting record (dump-acct's columns, times in seconds)."""

    command: str
    cpu: float
    elapsed: float
    pid: int
    ppid: int
    start: datetime

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)


@dataclass
class Step:
    """A process Pants started, with the CPU of its whole tree."""

    root: Process
    name: str = "?"
    cpu: float = 0.0
    commands: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))


def parse_dump(text: str) -> list[Process]:
    """dump-acct's lines: ``comm|v3|utime|stime|elapsed|uid|gid|mem|io|pid|ppid|...|start``
    with times in clock ticks (1/100 s)."""
    processes = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) < 15:
            continue
        processes.append(
            Process(
                command=cells[0],
                cpu=(float(cells[2]) + float(cells[3])) / 100,
                elapsed=float(cells[4]) / 100,
                pid=int(cells[9]),
                ppid=int(cells[10]),
                start=datetime.strptime(cells[14], "%a %b %d %H:%M:%S %Y"),
            )
        )
    return processes


def completed_lines(log: str, day: datetime) -> list[tuple[datetime, str]]:
    """Pants' ``HH:MM:SS.ss [INFO] Completed: <step>`` lines, dated ``day``."""
    found = []
    for match in re.finditer(r"^(\d\d:\d\d:\d\d\.\d+) \[INFO\] Completed: (.*)$", log, re.M):
        clock = datetime.strptime(match.group(1), "%H:%M:%S.%f").time()
        found.append((datetime.combine(day.date(), clock), match.group(2).strip()))
    return found


def pants_pid(processes: Sequence[Process]) -> int:
    """The parent of most processes among those that did not exit (pantsd, or with
    --no-pantsd the Pants client)."""
    exited = {process.pid for process in processes}
    parents = Counter(p.ppid for p in processes if p.ppid not in exited and p.ppid > 1)
    if not parents:
        raise SystemExit("error: no process in the file has a living parent: was Pants running?")
    return parents.most_common(1)[0][0]


def steps(processes: Sequence[Process], log: str, pants: int) -> tuple[list[Step], float]:
    """Each process Pants started, charged with its tree; and the CPU of processes outside."""
    by_pid = {process.pid: process for process in processes}
    found: dict[int, Step] = {}
    outside = 0.0
    for process in processes:
        node, hops = process, 0
        while node.ppid != pants and node.ppid in by_pid and hops < 100:
            node, hops = by_pid[node.ppid], hops + 1
        if node.ppid != pants:
            outside += process.cpu
            continue
        step = found.setdefault(node.pid, Step(node))
        step.cpu += process.cpu
        step.commands[process.command] += process.cpu
    lines = completed_lines(log, processes[0].start) if processes else []
    for step in found.values():
        if lines:
            when, name = min(lines, key=lambda line: abs((line[0] - step.root.end).total_seconds()))
            if abs((when - step.root.end).total_seconds()) <= MATCH_SECONDS:
                step.name = name
    return sorted(found.values(), key=lambda step: -step.cpu), outside


def kind(name: str) -> str:
    """A step's name without what varies between its runs: "Run Pytest", "Building N requirements
    for requirements.pex", ..."""
    if name.startswith("Run Pytest"):
        return "Run Pytest"
    return re.sub(r"\b\d+ requirements?\b", "N requirements", name.split(" from ")[0])


def by_cpu(item: tuple[str, float]) -> float:
    return -item[1]


def render(found: Sequence[Step], outside: float, top: int) -> str:
    total = sum(step.cpu for step in found)
    lines = [
        f"CPU seconds in {len(found)} processes Pants started: {total:.1f}; outside them: "
        f"{outside:.1f}",
        "",
        "by kind of step:",
    ]
    kinds: defaultdict[str, float] = defaultdict(float)
    for step in found:
        kinds[kind(step.name)] += step.cpu
    lines += [f"{cpu:8.1f}  {name}" for name, cpu in sorted(kinds.items(), key=by_cpu)]
    lines += [
        "",
        f"the {min(top, len(found))} costliest (CPU s, wall s, step, most CPU by command):",
    ]
    for step in found[:top]:
        most = sorted(step.commands.items(), key=by_cpu)[:3]
        commands = ", ".join(f"{name} {cpu:.0f}" for name, cpu in most)
        lines.append(f"{step.cpu:7.1f} {step.root.elapsed:6.1f}  {step.name[:80]}  [{commands}]")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pacct", type=Path, help="the file accton wrote")
    parser.add_argument("log", type=Path, help="Pants' output of the same run (not a terminal)")
    parser.add_argument("--pantsd", type=int, help="Pants' pid (default: found in the file)")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    try:
        dump = subprocess.run(["dump-acct", str(args.pacct)], capture_output=True, text=True)
    except FileNotFoundError:
        print("error: dump-acct not found: install Debian's acct package", file=sys.stderr)
        return 1
    if dump.returncode != 0:
        print(f"error: dump-acct {args.pacct}: {dump.stderr.strip()}", file=sys.stderr)
        return 1
    processes = parse_dump(dump.stdout)
    if not processes:
        print(f"error: no process records in {args.pacct}", file=sys.stderr)
        return 1
    pants = args.pantsd or pants_pid(processes)
    found, outside = steps(processes, args.log.read_text(errors="replace"), pants)
    print(render(found, outside, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
