"""`ade start`: the one-machine workflow: migrate, then run the API and a worker together.

On a database with no workspace yet it also creates a default one and prints a one-time sign-in
link (valid for minutes, usable once), the way Jupyter prints its token URL; later starts print
the address of the web page. Either is printed once the API answers, so the link works at once.

The two services run as child processes (`ade api start`, `ade worker start`), exactly as they
would on separate machines, under a small supervisor: Ctrl-C or SIGTERM stops both cleanly, and
if either one dies the other is stopped too and `ade start` exits non-zero, so a process manager
(systemd, a container runtime) sees the failure instead of a half-working system.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from types import FrameType
from typing import Annotated

import typer

GRACE_SECONDS = 30.0


def _ade_command(*args: str) -> list[str]:
    """Re-run this same `ade` (console script, PEX or source tree) as a child process."""
    return [sys.executable, "-m", "ade.cli.commands.main", *args]


def _child_env(database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    # Children import ade exactly as this process did, wherever that is (PEX, venv, sources).
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    if database_url:
        env["ADE_DATABASE_URL"] = database_url
    return env


def child_commands(
    host: str | None = None, port: int | None = None, concurrency: int | None = None
) -> dict[str, list[str]]:
    """The two services' command lines; only options the user gave are passed on, so the
    children read the rest from the environment (ADE_API_HOST, ADE_API_PORT,
    ADE_WORKER_CONCURRENCY...) or fall back to their built-in defaults."""
    api = ["api", "start"]
    if host is not None:
        api += ["--host", host]
    if port is not None:
        api += ["--port", str(port)]
    worker = ["worker", "start"]
    if concurrency is not None:
        worker += ["--concurrency", str(concurrency)]
    return {"api": _ade_command(*api), "worker": _ade_command(*worker)}


def _first_run(database_url: str | None) -> str | None:
    """The one-time sign-in token when this start created the first workspace, else None."""
    from ade.api.admin import AdminError
    from ade.api.web.first_run import prepare_first_run
    from ade.db.engine import create_engine, create_session_factory

    engine = create_engine(database_url, null_pool=True)
    try:
        with create_session_factory(engine)() as session:
            created = prepare_first_run(session)
    except AdminError:  # another `ade start` created it a moment ago
        return None
    finally:
        engine.dispose()
    if created is None:
        return None
    typer.echo(
        f"ade start: created the workspace '{created.workspace_slug}' and an API key for the web "
        "page",
        err=True,
    )
    return created.sign_in_token


def web_address(host: str | None, port: int | None) -> tuple[str, str]:
    """(the URL to print, the URL to probe for health) of the API the child will serve."""
    from ade.api.settings import load_settings

    settings = load_settings()
    host = host if host is not None else settings.api_host
    port = port if port is not None else settings.api_port
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (recognizing a wildcard, not binding one)
        host = "127.0.0.1"  # a wildcard listener answers on loopback too
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/", f"http://{shown}:{port}/health"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310 (our own http URL)
            return bool(reply.status == 200)
    except OSError:
        return False


def _announce(address: str, token: str | None) -> None:
    if token is None:
        typer.echo(f"ade start: ADE is running at {address}", err=True)
        return
    from ade.api.web.sessions import SIGN_IN_TOKEN_LIFETIME

    minutes = int(SIGN_IN_TOKEN_LIFETIME.total_seconds() // 60)
    typer.echo(
        f"ade start: ADE is running. To sign in, open this link (it works once, for {minutes} "
        f"minutes):\n\n    {address}sign-in/link?token={token}\n",
        err=True,
    )


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env)  # noqa: S603 (our own command line, no shell)


def _stop(children: dict[str, subprocess.Popen[bytes]], grace: float) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            typer.echo(f"ade start: {name} did not stop within {grace:.0f}s; killing it", err=True)
            child.kill()
            child.wait()


def start(
    host: Annotated[
        str | None,
        typer.Option(help="Interface the API listens on (default ADE_API_HOST or 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Port the API listens on (default ADE_API_PORT or 8000)."
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Runs the worker processes at once (default ADE_WORKER_CONCURRENCY or 1).",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Overrides ADE_DATABASE_URL.", show_default=False),
    ] = None,
    grace: Annotated[
        float, typer.Option(min=0, help="Seconds the services get to finish on shutdown.")
    ] = GRACE_SECONDS,
) -> None:
    """Migrate the database, then run the API and a worker until stopped (Ctrl-C).

    On a database with no workspace, also create one and print a one-time sign-in link to the
    web page; later starts print the page's address.
    """
    from ade.cli.commands.db import migrate_command

    migrate_command("head", False, database_url)
    token = _first_run(database_url)
    address, health = web_address(host, port)

    env = _child_env(database_url)
    commands = child_commands(host=host, port=port, concurrency=concurrency)
    children = {name: _spawn(command, env) for name, command in commands.items()}

    stop_requested: list[int] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop_requested.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    failed: str | None = None
    announced = False
    while not stop_requested:
        for name, child in children.items():
            if child.poll() is not None:
                failed = f"{name} exited with code {child.returncode}"
                break
        if failed:
            break
        if not announced and _healthy(health):
            _announce(address, token)
            announced = True
        time.sleep(0.2)

    if failed:
        typer.echo(f"ade start: {failed}; stopping the other service", err=True)
    else:
        typer.echo("ade start: stopping the API and the worker", err=True)
    _stop(children, grace)
    if failed:
        raise typer.Exit(code=1)
