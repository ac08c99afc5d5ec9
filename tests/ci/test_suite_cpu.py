"""benchmarks/suite_cpu.py charges each process Pants started with its whole tree's CPU and names
it after the Pants log line that completed when it ended."""

from __future__ import annotations

from datetime import datetime

import pytest

from benchmarks.suite_cpu import kind, pants_pid, parse_dump, steps

# dump-acct's format (acct 6.6, version 3 records): times in ticks of 1/100 s. Pants (pid 100,
# still running, so absent) started a PEX build (200, which ran pip: 201) and a pytest run (300,
# which started PostgreSQL: 301, whose child is 302); 400 is another user's shell.
DUMP = """\
python3.9       |v3|   300.00|    50.00|   600.00|     0|     0|  1000.00|     0.00|     200|     100|     |       0|__      |Thu Dec  3 16:32:28 2026
python          |v3|   200.00|    10.00|   500.00|     0|     0|  1000.00|     0.00|     201|     200|     |       0|__      |Thu Dec  3 16:32:29 2026
pex             |v3|  1000.00|   100.00|  1200.00|     0|     0|  1000.00|     0.00|     300|     100|     |       0|__      |Thu Dec  3 16:32:35 2026
postgres        |v3|   150.00|    50.00|   900.00|     0|     0|  1000.00|     0.00|     301|     300|     |       0|__      |Thu Dec  3 16:32:36 2026
postgres        |v3|    40.00|    10.00|   800.00|     0|     0|  1000.00|     0.00|     302|     301|     |       0|__      |Thu Dec  3 16:32:37 2026
bash            |v3|   700.00|     0.00|  1500.00|     0|     0|  1000.00|     0.00|     400|       1|     |       0|__      |Thu Dec  3 16:32:20 2026
"""  # noqa: E501 (dump-acct's lines as it prints them)

LOG = """\
16:32:28.10 [INFO] Starting: Building 3 requirements for requirements.pex from the lock
16:32:34.05 [INFO] Completed: Building 3 requirements for requirements.pex from the lock
16:32:47.20 [INFO] Completed: Run Pytest - tests/db/test_models.py:tests - succeeded.
16:40:00.00 [INFO] Completed: Building pytest_runner.pex
"""


def test_each_step_is_charged_with_its_whole_tree_and_named_by_the_log() -> None:
    processes = parse_dump(DUMP)
    assert [p.pid for p in processes] == [200, 201, 300, 301, 302, 400]
    assert processes[0].cpu == pytest.approx(3.5) and processes[0].elapsed == pytest.approx(6.0)
    assert pants_pid(processes) == 100

    found, outside = steps(processes, LOG, 100)

    # pytest: 11 s itself + PostgreSQL 2 s + its child 0.5 s; the build: 3.5 s + pip 2.1 s.
    assert [(step.name, round(step.cpu, 2)) for step in found] == [
        ("Run Pytest - tests/db/test_models.py:tests - succeeded.", 13.5),
        ("Building 3 requirements for requirements.pex from the lock", 5.6),
    ]
    assert found[0].commands["postgres"] == pytest.approx(2.5)
    assert outside == pytest.approx(7.0)  # the shell is nobody's step


def test_a_process_that_ends_far_from_any_log_line_stays_unnamed() -> None:
    processes = parse_dump(DUMP)
    found, _ = steps(processes, "16:50:00.00 [INFO] Completed: Run Pytest - elsewhere\n", 100)
    assert {step.name for step in found} == {"?"}


def test_kinds_group_the_steps_that_differ_only_in_what_they_build() -> None:
    assert kind("Run Pytest - tests/a.py:tests - succeeded.") == "Run Pytest"
    assert kind("Building 12 requirements for requirements.pex from the x.lock resolve: a") == (
        "Building N requirements for requirements.pex"
    )
    assert kind("Building 1 requirement for pytest.pex from the x.lock") == (
        "Building N requirements for pytest.pex"
    )


def test_no_living_parent_is_an_error_not_a_guess() -> None:
    only_shell = [p for p in parse_dump(DUMP) if p.pid == 400]
    assert only_shell[0].start == datetime(2026, 12, 3, 16, 32, 20)
    with pytest.raises(SystemExit, match="was Pants running"):
        pants_pid(only_shell)
