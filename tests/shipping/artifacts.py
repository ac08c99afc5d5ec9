"""Find the artifacts `pants test` builds for these tests (runtime_package_dependencies).

Pants packages the wheels and the PEX and places them at the root of the test's sandbox, which
is the current directory; run outside Pants, the tests that need them skip with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

ROOT = Path.cwd()


def version() -> str:
    from importlib.resources import files

    return (files("ade") / "VERSION").read_text(encoding="utf-8").strip()


def wheel(distribution: str) -> Path:
    """The wheel of `distribution` (e.g. "ade-db") that Pants built for this test run."""
    name = distribution.replace("-", "_")
    found = sorted(ROOT.glob(f"{name}-*-py3-none-any.whl"))
    if not found:
        pytest.skip(f"{distribution} wheel not built: run through `pants test` (it packages it)")
    return found[-1]


def pex() -> Path:
    path = ROOT / "ade.pex"
    if not path.exists():
        pytest.skip("ade.pex not built: run through `pants test` (it packages it)")
    return path


def clean_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: an empty HOME, a PATH with only system folders and Python 3.11."""
    # The interpreter behind this (virtual) environment: the "only a Python 3.11" of a user.
    python_dir = str(Path(getattr(sys, "_base_executable", sys.executable)).parent)
    env = {"HOME": str(home), "PATH": os.pathsep.join([python_dir, "/usr/bin", "/bin"])}
    env.update(extra or {})
    return env


def run(
    command: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str],
    cwd: Path | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # (our own artifacts)
        [str(part) for part in command],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    return result


def fresh_venv(path: Path) -> Path:
    """A new virtual environment with pip and nothing else; returns its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def pip_install(python: Path, requirements: Sequence[str | Path], env: Mapping[str, str]) -> None:
    """Install wheels with their dependencies from the package index, like a user would.

    Without compiling bytecode at install time (~4 of the backend install's 16 s of CPU): the
    first import writes it anyway, and what is checked is that the installed code runs."""
    pip: list[str | Path] = [
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        "--no-compile",
    ]
    run([*pip, *requirements], env)
