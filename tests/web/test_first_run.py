"""`ade start` on a new installation: one link, used once, and the newcomer is in."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.db_cli import ADE, child_env
from tests.web.conftest import csrf_of

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/)sign-in/link\?token=([A-Za-z0-9_-]{43})")
RUNNING = re.compile(r"ADE is running at (http://127\.0\.0\.1:\d+/)$")


@contextmanager
def ade_start(data_dir: Path, port: int) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`ade start` until it announces the web page; yields the process and that line."""
    process = subprocess.Popen(
        [*ADE, "start", "--port", str(port), "--grace", "20"],
        env=child_env({"ADE_DATA_DIR": str(data_dir)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    announced = None
    deadline = time.monotonic() + 120
    try:
        while announced is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "sign-in/link" in line or "ADE is running at" in line:
                announced = "".join(seen)
        assert announced is not None, "ade start never announced its address:\n" + "".join(seen)
        yield process, announced
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=60)


def test_first_start_prints_a_one_time_link_later_starts_the_address(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    data = tmp_path / "data"
    with ade_start(data, unused_tcp_port) as (_process, output):
        match = LINK.search(output)
        assert match, output
        base, token = match.groups()
        assert "created the workspace 'default'" in output
        with httpx.Client(base_url=base) as browser:
            link = f"/sign-in/link?token={token}"
            page = browser.get(link)
            signed_in = browser.post(
                "/sign-in/link",
                data={"token": token, "csrf_token": csrf_of(page)},
                follow_redirects=True,
            )
            assert signed_in.status_code == 200
            assert str(signed_in.url).endswith("/w/default/documents")
            assert "Workspace: Default" in signed_in.text
        with httpx.Client(base_url=base) as stranger:  # the same link, a second time
            page = stranger.get(link)
            again = stranger.post(
                "/sign-in/link", data={"token": token, "csrf_token": csrf_of(page)}
            )
            assert again.status_code == 401 and "already been used" in again.text
    database = (data / "db" / "ade.sqlite").read_bytes()
    assert token.encode() not in database, "the sign-in token is stored in clear"

    with ade_start(data, unused_tcp_port) as (_process, output):
        assert "token=" not in output and "created the workspace" not in output
        assert any(RUNNING.search(line) for line in output.splitlines()), output
