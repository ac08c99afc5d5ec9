"""Schema migrations as functions: upgrade, current, history, stamp, downgrade, check.

The ``ade db`` commands (and ``ade api migrate``) are thin wrappers around these. Like
Airflow's ``airflow db migrate``, the Alembic ``Config`` is built in code from the packaged
``alembic.ini``, with ``script_location`` pointing at the packaged migrations folder and the URL
set explicitly, so nothing depends on the current directory.

Concurrency: an upgrade takes a global lock on the connection that runs it (PostgreSQL: a
session advisory lock; SQLite: an exclusive file lock next to the database file). A second
``ade db migrate`` started at the same moment waits, then re-reads the revision and finds
nothing to do. Each revision runs in its own transaction, so a failing one leaves the database
at the last good revision.

Speed: the common case, "already at head", only needs SQLAlchemy Core and Alembic's script and
version-table readers; ``alembic.command``, ``env.py`` and the models are imported only when
there is work to do.

All failures are :mod:`ade.db.errors` exceptions with one-line, password-free messages.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import URL, Connection, text
from sqlalchemy.exc import DBAPIError

from ade.db.engine import (
    connect,
    create_engine,
    display_url,
    driver_message,
    resolve_database_url,
    sqlite_file,
)
from ade.db.errors import (
    DatabaseError,
    DatabaseNewerThanCode,
    MigrationFailed,
    NotMigrated,
    SchemaDrift,
    UnknownRevision,
)
from ade.db.revisions import packaged_graph, read_current

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

Echo = Callable[[str], None]

ADVISORY_LOCK_KEY = 0x0ADE_DB_0001
"""Fixed ``pg_advisory_lock`` key shared by every ``ade db migrate`` against one server."""


def _stderr(message: str) -> None:
    sys.stderr.write(message + "\n")


# -- locating the packaged migrations ------------------------------------------------------


def migrations_dir() -> Path:
    """The packaged ``migrations`` folder (``env.py``, ``script.py.mako``, ``versions/``)."""
    path = Path(str(resources.files("ade.db") / "migrations"))
    if not (path / "env.py").is_file():
        raise MigrationFailed(
            f"ade-db migrations not found at {path}: ade.db must be installed unzipped"
            " (for a PEX: execution_mode='venv' or layout='packed' is fine, a zipped PEX is not)"
        )
    return path


@cache
def load_script() -> ScriptDirectory:
    """Alembic's view of the packaged revisions (cached: parsing imports every revision)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(migrations_dir()))


def alembic_config(url: URL | None = None, *, stdout: TextIO | None = None) -> Config:
    """The Alembic ``Config`` for ``url``, built from the packaged ``alembic.ini``."""
    from alembic.config import Config

    ini = Path(str(resources.files("ade.db") / "alembic.ini"))
    config = Config(str(ini), stdout=stdout or sys.stdout)
    config.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        # ConfigParser interpolation: a literal % (URL-encoded passwords) must be doubled.
        rendered = url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


# -- revisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevisionStatus:
    """Where a database is (``current``) against what this code knows (``heads``)."""

    current: tuple[str, ...]
    heads: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.heads)


def _label(revisions: Sequence[str]) -> str:
    return ", ".join(revisions) if revisions else "<base>"


def heads() -> tuple[str, ...]:
    """This code's head revision(s), read without importing Alembic when possible."""
    graph = packaged_graph()
    if graph is not None:
        return tuple(sorted(graph.heads))
    return tuple(sorted(load_script().get_heads()))


def _is_known(revision: str) -> bool:
    graph = packaged_graph()
    if graph is not None:
        return revision in graph.revisions
    try:
        return load_script().get_revision(revision) is not None
    except Exception:
        return False


def _ensure_known(current: Sequence[str]) -> None:
    for revision in current:
        if not _is_known(revision):
            raise DatabaseNewerThanCode(
                f"database is at revision {revision}, newer than this ade-db knows"
                f" (head {_label(heads())}); upgrade ade-db instead"
            )


def _resolve(revision: str) -> tuple[str, ...] | None:
    """Revisions a target names (``()`` for base), or None for relative targets (``+1``)."""
    if revision.startswith(("+", "-")) or "@" in revision:
        return None
    if revision in ("head", "heads"):
        return heads()
    if revision == "base":
        return ()
    try:
        found = load_script().get_revisions(revision)
    except Exception:
        found = ()
    if not found:
        raise UnknownRevision(f"unknown revision {revision!r} (head is {_label(heads())})")
    return tuple(rev.revision for rev in found if rev is not None)


# -- the migration lock ---------------------------------------------------------------------


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Serialize schema changes: concurrent ``ade db migrate`` runs wait here, one at a time."""
    if connection.dialect.name == "postgresql":
        # A session lock on the very connection that migrates: released on unlock or if the
        # process dies (the server drops the session), never left behind.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            try:
                connection.rollback()
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
                connection.commit()
            except DBAPIError:
                pass  # the connection is gone; the server released the lock with the session
        return
    path = sqlite_file(connection.engine.url)
    if path is None:
        yield  # in-memory SQLite: one connection, nobody to race with
        return
    import fcntl

    # A file lock rather than BEGIN EXCLUSIVE: it must span several transactions (one per
    # revision) plus the re-read of the revision, and the OS drops it if the process dies.
    lock_path = path.with_name(path.name + ".migrate.lock")
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _session(database_url: str | URL | None) -> Iterator[tuple[URL, Connection]]:
    """A validated URL and one connection; database errors become one-line messages."""
    url = resolve_database_url(database_url)
    engine = create_engine(url, null_pool=True)
    try:
        with connect(engine) as connection:
            try:
                yield url, connection
            except DBAPIError as error:
                raise MigrationFailed(f"database error: {driver_message(error)}") from None
    finally:
        engine.dispose()


def _run_alembic(action: Callable[[], None]) -> None:
    """Run an Alembic command, mapping its errors to ade.db errors."""
    from alembic.util import CommandError

    try:
        action()
    except DatabaseError:
        raise
    except CommandError as error:
        raise MigrationFailed(f"alembic: {driver_message(error)}") from None


# -- public operations ----------------------------------------------------------------------


def status(database_url: str | URL | None = None) -> RevisionStatus:
    """The database's current revision(s) and this code's head(s)."""
    with _session(database_url) as (_url, connection):
        current = read_current(connection)
    return RevisionStatus(current=current, heads=heads())


def require_head(database_url: str | URL | None = None, *, migrate_with: str) -> URL:
    """Raise :class:`NotMigrated` (naming ``migrate_with``, the command that fixes it) unless
    the database is at this code's head; return its URL. What services check before starting."""
    url = resolve_database_url(database_url)
    state = current(url)
    if not state.at_head:
        where = ", ".join(state.current) if state.current else "an empty database (<base>)"
        raise NotMigrated(
            f"database {display_url(url)} is not migrated (at {where}, head is"
            f" {', '.join(state.heads)}): run `{migrate_with}` first"
        )
    return url


def current(database_url: str | URL | None = None) -> RevisionStatus:
    """Like :func:`status`, but refuses a database newer than this code."""
    result = status(database_url)
    _ensure_known(result.current)
    return result


def upgrade(
    database_url: str | URL | None = None,
    revision: str = "head",
    *,
    sql_only: bool = False,
    echo: Echo = _stderr,
    sql_output: TextIO | None = None,
) -> list[str]:
    """Upgrade to ``revision`` (default head); return the revisions applied, in order.

    ``sql_only`` writes the DDL (from base, or ``FROM:TO``) to ``sql_output`` (stdout) and does
    not connect. Otherwise, idempotent and safe to run concurrently (see module docstring).
    """
    if sql_only:
        url = resolve_database_url(database_url)
        if ":" not in revision:
            _resolve(revision)
        from alembic import command

        config = alembic_config(url, stdout=sql_output)
        config.output_buffer = sql_output or sys.stdout
        _run_alembic(lambda: command.upgrade(config, revision, sql=True))
        return []

    target = _resolve(revision)
    with _session(database_url) as (url, connection):
        before = read_current(connection)
        _ensure_known(before)
        if target is not None and set(before) == set(target):
            echo(_already(before))
            return []
        with migration_lock(connection):
            before = read_current(connection)  # another process may have migrated meanwhile
            _ensure_known(before)
            if target is not None and set(before) == set(target):
                echo(_already(before))
                return []
            applied = _apply(
                connection, url, echo, lambda config: _upgrade_command(config, revision), before
            )
    if not applied:
        echo(_already(before))
    else:
        echo(f"database is now at {_describe_position(applied[-1:])}")
    return applied


def _upgrade_command(config: Config, revision: str) -> None:
    from alembic import command

    command.upgrade(config, revision)


def _already(current: Sequence[str]) -> str:
    if set(current) == set(heads()):
        return f"database is already at head ({_label(current)}); nothing to do"
    return f"database is already at {_label(current)}; nothing to do"


def _apply(
    connection: Connection,
    url: URL,
    echo: Echo,
    command_fn: Callable[[Config], None],
    before: Sequence[str],
) -> list[str]:
    """Run an Alembic command on ``connection`` (already locked), reporting each step."""
    applied: list[str] = []

    def on_version_apply(*, step: Any, **_: Any) -> None:
        revision = step.up_revision if step.is_upgrade else step.down_revision_ids
        if step.is_upgrade:
            doc = (step.up_revision.doc or "").strip().splitlines()[0:1]
            echo(f"applied {step.up_revision_id}" + (f": {doc[0]}" if doc else ""))
            applied.append(step.up_revision_id)
        else:
            down = _label(tuple(revision))
            echo(f"reverted {step.up_revision_id} (now at {down})")
            applied.append(down)

    config = alembic_config(url)
    config.attributes["connection"] = connection
    config.attributes["on_version_apply"] = on_version_apply
    try:
        _run_alembic(lambda: command_fn(config))
        if connection.in_transaction():
            connection.commit()
    except (DBAPIError, MigrationFailed) as error:
        left_at = applied[-1:] if applied else list(before)
        reason = driver_message(error)
        raise MigrationFailed(
            f"migration failed, database left at revision {_label(left_at)}: {reason}"
        ) from None
    return applied


def downgrade(
    database_url: str | URL | None = None, revision: str = "-1", *, echo: Echo = _stderr
) -> list[str]:
    """Downgrade to ``revision`` (``base`` drops everything); return the steps reverted."""
    _resolve(revision)
    with _session(database_url) as (url, connection), migration_lock(connection):
        before = read_current(connection)
        _ensure_known(before)
        if not before:
            echo("database is empty (at <base>); nothing to downgrade")
            return []

        def run(config: Config) -> None:
            from alembic import command

            command.downgrade(config, revision)

        steps = _apply(connection, url, echo, run, before)
    if not steps:
        echo(f"database is already at {_label(before)}; nothing to do")
    return steps


def stamp(
    database_url: str | URL | None = None, revision: str = "head", *, echo: Echo = _stderr
) -> None:
    """Record ``revision`` as current without running migrations (for repairs and adoption).

    A database stamped with a revision this code does not know is overwritten (purged), since
    stamping is how an operator repairs exactly that.
    """
    _resolve(revision)
    with _session(database_url) as (url, connection), migration_lock(connection):
        before = read_current(connection)
        try:
            _ensure_known(before)
            purge = False
        except DatabaseNewerThanCode:
            purge = True

        def run(config: Config) -> None:
            from alembic import command

            command.stamp(config, revision, purge=purge)

        _apply(connection, url, lambda _message: None, run, before)
        after = read_current(connection)
    echo(f"stamped database at {_label(after)} (was {_label(before)})")


def history(verbose: bool = False, *, out: TextIO | None = None) -> None:
    """Write the revision history (newest first) to ``out`` (stdout)."""
    from alembic import command

    config = alembic_config(None, stdout=out)
    _run_alembic(lambda: command.history(config, verbose=verbose))


def check(database_url: str | URL | None = None) -> None:
    """Raise :class:`SchemaDrift` unless the migrated schema matches the models exactly.

    The database must be at head: the comparison is between what the migrations built and
    what ``ade.db.models`` declares (Alembic's autogenerate comparison).
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from ade.db.models import metadata

    with _session(database_url) as (_url, connection):
        before = read_current(connection)
        _ensure_known(before)
        if set(before) != set(heads()):
            raise MigrationFailed(
                f"database is at {_label(before)}, not at head ({_label(heads())}):"
                " run `ade db migrate` first"
            )
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": metadata}
        )
        diffs = compare_metadata(context, metadata)
        connection.rollback()
    if diffs:
        described = "; ".join(_describe_diff(diff) for diff in diffs)
        raise SchemaDrift(f"models and migrations differ ({len(diffs)}): {described}")


def _describe_diff(diff: Any) -> str:
    if isinstance(diff, list):  # modify_* come grouped per column
        return ", ".join(_describe_diff(item) for item in diff)
    kind = str(diff[0])
    names: list[str] = []
    for item in diff[1:]:
        name = getattr(item, "name", None)
        if isinstance(name, str):
            names.append(name)
        elif isinstance(item, str):
            names.append(item)
    return f"{kind} {'.'.join(names[:3])}".strip()


def _describe_position(current: Sequence[str]) -> str:
    if current and set(current) == set(heads()):
        return f"head ({_label(current)})"
    return _label(current)
