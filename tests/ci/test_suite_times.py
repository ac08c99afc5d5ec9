"""benchmarks/suite_times.py reads real pytest JUnit reports and names the slow file first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.suite_times import main, module_file, read, report_files

SLOW = """
import time

def test_slow():
    time.sleep(0.3)

class TestGroup:
    def test_quick(self):
        pass
"""

QUICK = """
def test_quick():
    pass

def test_fails():
    assert False
"""


def _pytest_report(tmp_path: Path, files: dict[str, str], report: Path) -> None:
    """Run a real pytest over ``files`` (in tmp_path/tests/) and write its JUnit report."""
    folder = tmp_path / "tests"
    folder.mkdir(exist_ok=True)
    for name, source in files.items():
        (folder / name).write_text(textwrap.dedent(source))
    # No plugin autoload: the venv's plugins (Schemathesis, Playwright...) cost seconds each start.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
        + [f"tests/{name}" for name in files]
        + [f"--junitxml={report}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert report.is_file()


def test_class_names_map_to_their_file() -> None:
    assert module_file("tests.api.test_contract") == "tests/api/test_contract.py"
    assert module_file("tests.db.test_x.TestGroup.TestInner") == "tests/db/test_x.py"


def test_one_report_per_file_as_pants_writes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    _pytest_report(tmp_path, {"test_slow.py": SLOW}, reports / "tests.test_slow.py.xml")
    _pytest_report(tmp_path, {"test_quick.py": QUICK}, reports / "tests.test_quick.py.xml")

    times = read(report_files([reports]))
    slow, quick = times.files["tests/test_slow.py"], times.files["tests/test_quick.py"]
    assert (slow.tests, slow.failed, quick.tests, quick.failed) == (2, 0, 2, 1)
    assert slow.slowest[1] == "tests/test_slow.py::test_slow" and slow.slowest[0] >= 0.3
    assert slow.seconds >= slow.slowest[0]

    assert main([str(reports), "--top", "1", "--slowest", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "test time per file, from 2 JUnit reports:"
    assert lines[2].split()[2:4] == ["2", "tests/test_slow.py"]  # the slow file first
    assert lines[3].split()[2:5] == ["2", "(1", "more"]
    assert lines[4].split()[2:4] == ["4", "total"]
    assert lines[-1].split()[1] == "tests/test_slow.py::test_slow"


def test_one_report_of_many_files_is_split_by_file(tmp_path: Path) -> None:
    report = tmp_path / "all.xml"
    _pytest_report(tmp_path, {"test_slow.py": SLOW, "test_quick.py": QUICK}, report)
    times = read([report])
    assert sorted(times.files) == ["tests/test_quick.py", "tests/test_slow.py"]
    assert times.files["tests/test_slow.py"].tests == 2
    assert times.total == pytest.approx(sum(seconds for seconds, _ in times.tests))


def test_no_reports_or_a_broken_one_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == f"suite_times: no JUnit XML in {tmp_path}"
    (tmp_path / "broken.xml").write_text("<testsuites><testsuite>")
    assert main([str(tmp_path)]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"suite_times: {tmp_path / 'broken.xml'} is not JUnit XML")
    assert "\n" not in error


# The shape of Schemathesis's report (tests/api/test_contract.py in CI, 2026-12-03): one case per
# test and, after it, one per API operation, whose times are already in the test's.
SUBTESTS = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="0" tests="5" time="31.2">
<testcase classname="tests.api.test_contract" name="test_ops[sqlite]" time="29.444" />
<testcase classname="tests.api.test_contract" name="test_ops[sqlite][GET /health]" time="0.088" />
<testcase classname="tests.api.test_contract" name="test_ops[sqlite][POST /api/v1/runs]"
 time="1.052"><failure message="500">status 500</failure></testcase>
<testcase classname="tests.api.test_contract" name="test_ids[a]" time="0.5" />
<testcase classname="tests.api.test_contract" name="test_ids[a-b]" time="0.5" />
</testsuite></testsuites>
"""


def test_subtests_are_not_counted_twice(tmp_path: Path) -> None:
    report = tmp_path / "tests.api.test_contract.py.tests.xml"
    report.write_text(SUBTESTS)
    entry = read([report]).files["tests/api/test_contract.py"]
    # Three tests (test_ids[a-b] is a parameter, not a subtest of test_ids[a]), one failed
    # subtest; the file's time is its session's, not the 31.58 s the cases add up to.
    assert (entry.tests, entry.failed) == (3, 1)
    assert entry.seconds == pytest.approx(31.2)
    assert [name for _, name in read([report]).tests] == [
        "tests/api/test_contract.py::test_ops[sqlite]",
        "tests/api/test_contract.py::test_ids[a]",
        "tests/api/test_contract.py::test_ids[a-b]",
    ]
