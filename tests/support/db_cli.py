"""Run the `ade` CLI as a real child process (as a deploy script would), for db tests.

The child gets this interpreter and a PYTHONPATH built from ``sys.path``, so it works in a
plain checkout and inside a Pants sandbox alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

ADE = [sys.executable, "-m", "ade.cli.commands.main"]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADE_")}
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    env.update(extra or {})
    return env


def ade(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    cwd: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``ade ARGS...`` and capture stdout/stderr as text."""
    return subprocess.run(
        [*ADE, *args],
        env=child_env(env),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def start_ade(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``ade ARGS...`` without waiting (for concurrency tests)."""
    return subprocess.Popen(
        [*ADE, *args],
        env=child_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
